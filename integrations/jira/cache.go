package jira

import (
	"strings"
	"sync"
	"time"
)

// Decisions remembers, per site, project and issue type, which field holds story points and
// which field an organizer picked when Pokor could not decide. It is safe for concurrent use;
// one value may be shared by every client of the process.
type Decisions struct {
	mu      sync.Mutex
	decided map[decisionKey]decisionEntry
	chosen  map[scopeKey]string
}

// scopeKey is what a decision depends on: screens and fields are configured per project and
// issue type, and field ids are per site.
type scopeKey struct {
	site, project, issueType string
}

// decisionKey adds the board, whose estimation field outranks everything else, and the field
// stored with a story, which pins the decision for that story.
type decisionKey struct {
	scopeKey
	board  int
	stored string
}

type decisionEntry struct {
	decision Decision
	at       time.Time
}

// NewDecisions returns an empty cache.
func NewDecisions() *Decisions {
	return &Decisions{decided: map[decisionKey]decisionEntry{}, chosen: map[scopeKey]string{}}
}

func newScopeKey(site, project, issueType string) scopeKey {
	return scopeKey{site: site, project: strings.ToUpper(project), issueType: strings.ToLower(issueType)}
}

// get returns the decision made for k less than decisionTTL ago.
func (d *Decisions) get(k decisionKey, now time.Time) (Decision, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	e, ok := d.decided[k]
	if !ok || now.Sub(e.at) > decisionTTL {
		return Decision{}, false
	}
	return e.decision, true
}

func (d *Decisions) put(k decisionKey, dec Decision, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.decided[k] = decisionEntry{decision: dec, at: now}
}

// forget drops the decisions of a scope for every board, after a write showed them wrong or an
// organizer picked another field.
func (d *Decisions) forget(s scopeKey) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for k := range d.decided {
		if k.scopeKey == s {
			delete(d.decided, k)
		}
	}
}

// choose records the organizer's pick for a scope and drops the decisions it overrides.
func (d *Decisions) choose(s scopeKey, fieldID string) {
	d.mu.Lock()
	prev := d.chosen[s]
	d.chosen[s] = fieldID
	d.mu.Unlock()
	if prev != fieldID {
		d.forget(s)
	}
}

// choice returns the organizer's pick for a scope, "" when none.
func (d *Decisions) choice(s scopeKey) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.chosen[s]
}
