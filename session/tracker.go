package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// This file is the tracker seam: the ports an issue-tracker adapter implements (StorySource,
// EstimateSink, ConnectionChecker), the values that cross them (ExternalStory, WriteBack,
// WriteResult, CheckReport), and the Tracker descriptor each adapter exports. Adapters speak
// these types; nothing translates between an adapter's vocabulary and the domain's.

// ExternalStory is a story as a tracker lists it.
type ExternalStory struct {
	Key         string `json:"key"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	URL         string `json:"url,omitempty"`
	Type        string `json:"type,omitempty"`
	// Estimate is the estimate the tracker (or the file) already holds, empty when none. It is
	// stored as the story's imported estimate: shown in the room, never written back.
	Estimate string `json:"estimate,omitempty"`
	// Target is what the tracker needs to write this story's estimate to the right place later
	// (Jira: the board it was listed from). It is stored with the story.
	Target WriteTarget `json:"target,omitempty"`
}

// ExternalPage is one page of a tracker's answer to a query.
type ExternalPage struct {
	Stories []ExternalStory `json:"stories"`
	// Next is the cursor of the next page, empty on the last one.
	Next string `json:"next,omitempty"`
	// Total is the number of matching stories when the tracker says, else -1.
	Total int `json:"total"`
}

// WriteTarget records, per story, what decides where its estimate is written: for Jira the
// board it came from, the field chosen, the project and the issue type. An adapter fills it at
// import (ExternalStory.Target) and after each write (WriteResult.Target); the store keeps it
// with the story, so every instance after any restart writes to the same place. Keys are the
// adapter's own; values are short strings.
type WriteTarget map[string]string

// Credentials are the settings of a connection to a tracker ("token", "base_url", "email"...).
// They are stored sealed and never leave the server.
type Credentials map[string]string

// WriteBack is an accepted estimate on its way to a tracker.
type WriteBack struct {
	// Value is the accepted card as shown in the room: "5", "0.5", "M".
	Value string
	// Deck is the ordered list of the session's cards, for adapters that map word cards.
	Deck         []string
	SessionTitle string
	SessionURL   string
	// Options are the session's write-back options for the tracker (label prefix, field...),
	// keyed as the tracker's descriptor names them.
	Options map[string]string
	// Target is what was stored with the story (see WriteTarget); nil when nothing was.
	Target WriteTarget
}

// Numeric returns the estimate as a number when the card is one ("5", "0.5", "½").
func (wb WriteBack) Numeric() (float64, bool) { return NumericCard(wb.Value) }

// NumericCard reads a card as a number ("5", "0.5", "½").
func NumericCard(card string) (float64, bool) {
	v := strings.TrimSpace(card)
	if v == "½" {
		return 0.5, true
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

// WriteResult says what a sink wrote.
type WriteResult struct {
	// Detail says it in words for the room ("Story Points (customfield_10026) set to 5 on API-12").
	Detail string
	// Target, when not nil, replaces the story's stored WriteTarget: what decided this write.
	Target WriteTarget
}

// StorySource lists the stories a query selects, one page at a time.
type StorySource interface {
	// List returns the page after cursor ("" for the first page) of the stories query selects,
	// in the tracker's grammar (Tracker.Query). It returns an *Error: CodeInvalid for a query it
	// cannot use, CodeNotFound for an unknown project, repository or database, CodeForbidden for
	// refused credentials, CodeUnavailable (with RetryAfter when known) when the tracker is down
	// or rate limited.
	List(ctx context.Context, query, cursor string) (ExternalPage, error)
}

// EstimateSink writes an accepted estimate to one item.
type EstimateSink interface {
	// WriteEstimate writes wb to the item key. Writing the same estimate twice leaves the item as
	// writing it once (the outbox may deliver again after a crash). It never reports success
	// unless the place the team looks at holds the value. Errors are *Error: CodeUnavailable is
	// retried (after RetryAfter), CodeConflict with Choices asks an organizer to pick, anything
	// else needs someone to fix something, which the message says.
	WriteEstimate(ctx context.Context, key string, wb WriteBack) (WriteResult, error)
}

// ConnectionChecker tests a connection for `pokor check` and the room's "Test connection".
type ConnectionChecker interface {
	// Check tests the credentials and, when target is not empty (a repository, an issue, a
	// database), the access to it. Findings are facts, not errors; the error is set only when
	// the tracker could not be asked at all, and the report is filled as far as it got.
	Check(ctx context.Context, target string) (CheckReport, error)
}

// TrackerClient is a tracker reached with one set of credentials.
type TrackerClient interface {
	StorySource
	EstimateSink
	ConnectionChecker
}

// CheckReport is what a check found, the same shape for every tracker and chat platform.
type CheckReport struct {
	// Provider names the tracker or platform ("github", "slack").
	Provider string `json:"provider"`
	// OK is true when every fact is.
	OK bool `json:"ok"`
	// Identity is who the credentials are ("octocat", "Jane <jane@example.com>").
	Identity string `json:"identity,omitempty"`
	// Site is the host or workspace checked.
	Site  string `json:"site,omitempty"`
	Facts []Fact `json:"facts"`
}

// Fact is one finding of a check: its prose for people and its typed value for machines.
type Fact struct {
	// Name says what was checked ("rate limit").
	Name string `json:"name"`
	OK   bool   `json:"ok"`
	// Text is the finding in words ("4990 of 5000 requests left, resets at 15:04 UTC").
	Text string `json:"text"`
	// Value is the same finding typed: numbers as numbers, booleans, ids, or an object of them
	// ({"remaining": 4990, "limit": 5000, "reset": "2026-12-03T15:04:00Z"}); nil when the text
	// is all there is.
	Value any `json:"value,omitempty"`
}

// Add appends a fact.
func (r *CheckReport) Add(name string, ok bool, text string, value any) {
	r.Facts = append(r.Facts, Fact{Name: name, OK: ok, Text: text, Value: value})
}

// Settle sets OK from the facts: true when there is at least one and every one is OK.
func (r *CheckReport) Settle() {
	r.OK = len(r.Facts) > 0
	for _, f := range r.Facts {
		r.OK = r.OK && f.OK
	}
}

// Choice is one candidate an organizer may pick when an adapter cannot decide alone (two Jira
// fields that could both hold story points), carried by a CodeConflict *Error.
type Choice struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Reason string `json:"reason,omitempty"`
}

// Retryable reports whether a failed tracker call is worth another attempt, and the least wait
// the tracker asked for. CodeUnavailable errors are retried; other *Error codes need someone to
// fix something. Errors that are not *Error (a cancelled context, a reset connection) are
// retried.
func Retryable(err error) (bool, time.Duration) {
	if err == nil {
		return false, 0
	}
	var e *Error
	if !errors.As(err, &e) {
		return true, 0
	}
	if e.Code == CodeUnavailable {
		return true, e.RetryAfter
	}
	return false, 0
}

// Tracker describes one issue tracker: everything the room's forms, the bots' grammar and help,
// the command line and the docs need to know about it, and how to reach it. Each adapter
// exports one; cmd/pokor lists them.
type Tracker struct {
	// Name is what stories carry as their source and what people type: /pokor … from <name>,
	// pokor check <name>, the API's {tracker}. Lower case, no spaces.
	Name string `json:"name"`
	// Label is the tracker's name for people ("GitHub").
	Label string `json:"label"`
	// Items names what is imported, for the room's source list ("GitHub issues").
	Items string `json:"items"`
	// Query is the grammar of an import query; File trackers have none.
	Query QueryGrammar `json:"query"`
	// File is set for trackers imported from an uploaded file (CSV) instead of a query.
	File *FileFormat `json:"file,omitempty"`
	// Credentials are the fields of a session's connection; Options its write-back options.
	Credentials []Field  `json:"credentials"`
	Options     []Option `json:"options"`
	// Check says what `pokor check <name>` and "Test connection" test access to.
	Check CheckTarget `json:"check"`
	// Settings are the server-wide environment variables of the tracker (default credentials).
	Settings []Setting `json:"settings"`
	// Docs is the tracker's section in the documentation ("docs/trackers.md#github").
	Docs string `json:"docs"`
	// WritesBack is true when accepted estimates are written back to the tracker.
	WritesBack bool `json:"writes_back"`
	// Open builds a client for a session's credentials over the server's defaults (nil creds:
	// the defaults alone). It may fail with an *Error that says where to set what is missing.
	// Nil for File trackers.
	Open func(creds Credentials) (TrackerClient, error) `json:"-"`
}

// QueryGrammar is how an import query reads, as the room's help, the /pokor help and the docs
// show it.
type QueryGrammar struct {
	// Syntax is the grammar in one line ("OWNER/REPO [label:NAME]… [state:open|closed|all]").
	Syntax string `json:"syntax"`
	// Example is a query that works ("acme/api label:ready").
	Example string `json:"example"`
	// Help says in words what a query may be.
	Help string `json:"help"`
	// Summary ends the /pokor help line of the example ("import GitHub issues").
	Summary string `json:"summary"`
}

// FileFormat is a file format stories are imported from and sessions exported to (CSV).
type FileFormat struct {
	// Accept is the file input's accept attribute (".csv,text/csv").
	Accept string `json:"accept"`
	// Help says which columns are read.
	Help string `json:"help"`
	// Parse reads the stories of a file; its errors are *Error (CodeInvalid naming the line).
	Parse func(r io.Reader) ([]ExternalStory, error) `json:"-"`
	// Write writes a session's export in the format; nil when the format only imports.
	Write func(w io.Writer, ex *Export) error `json:"-"`
}

// Field is one credential of a connection. Its value is never sent back to a browser.
type Field struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	// Type is the HTML input type: "password", "url", "email" or "text".
	Type        string `json:"type"`
	Placeholder string `json:"placeholder,omitempty"`
	// Env is the server-wide variable that gives the default value.
	Env string `json:"env,omitempty"`
}

// Option is one write-back option of a connection; options are not secret.
type Option struct {
	Key         string `json:"key"`
	Label       string `json:"label"`
	Help        string `json:"help"`
	Placeholder string `json:"placeholder,omitempty"`
	// Choices makes the option a list to pick from; the first is the default.
	Choices []OptionChoice `json:"choices,omitempty"`
	// Checkbox makes the option a switch: "true" or empty.
	Checkbox bool `json:"checkbox,omitempty"`
}

// OptionChoice is one value of an Option with Choices.
type OptionChoice struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

// CheckTarget is what a check may test access to, beyond the credentials.
type CheckTarget struct {
	// Target names it for people ("OWNER/REPO", "issue key (API-12) or project key (API)").
	Target string `json:"target"`
	// Flags are the names of `pokor check <name> --flag VALUE` that set it ("repo").
	Flags []string `json:"flags"`
}

// Setting is one server-wide environment variable of a tracker.
type Setting struct {
	Env    string `json:"env"`
	Help   string `json:"help"`
	Secret bool   `json:"secret,omitempty"`
}

// maxTrackerClients bounds the cache of clients: each session with its own credentials has
// its own client; beyond this many the least recently used is dropped and built again later.
const maxTrackerClients = 256

// trackerSet finds the trackers of a Service by name and keeps one client per tracker and set
// of credentials, so that each client's rate-limit pacing and caches hold across calls.
type trackerSet struct {
	byName map[string]Tracker
	names  []string

	mu      sync.Mutex
	clients map[string]*cachedClient
}

type cachedClient struct {
	c        TrackerClient
	lastUsed time.Time
}

func newTrackerSet(ts []Tracker) *trackerSet {
	set := &trackerSet{byName: map[string]Tracker{}, clients: map[string]*cachedClient{}}
	for _, t := range ts {
		set.byName[t.Name] = t
		set.names = append(set.names, t.Name)
	}
	return set
}

// get returns the tracker named name that can be reached by query (File trackers cannot).
func (ts *trackerSet) get(name string) (Tracker, bool) {
	t, ok := ts.byName[name]
	return t, ok && t.Open != nil
}

// writesBack reports whether accepted estimates of stories from source are written back.
func (s *Service) writesBack(source string) bool {
	t, ok := s.trackers.get(source)
	return ok && t.WritesBack
}

// queryable lists the names of the trackers that import by query, for messages.
func (ts *trackerSet) queryable() []string {
	var out []string
	for _, n := range ts.names {
		if ts.byName[n].Open != nil {
			out = append(out, n)
		}
	}
	return out
}

// client returns the cached client of t for creds, building it on first use. Building may take
// a while (a typed site is resolved to check it is public), so it happens outside the lock;
// when two callers build at once, the first one stored wins.
func (ts *trackerSet) client(t Tracker, creds Credentials, now time.Time) (TrackerClient, error) {
	key := t.Name + "\x00" + fingerprint(creds)
	ts.mu.Lock()
	if c, ok := ts.clients[key]; ok {
		c.lastUsed = now
		ts.mu.Unlock()
		return c.c, nil
	}
	ts.mu.Unlock()
	c, err := t.Open(creds)
	if err != nil {
		return nil, err
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if existing, ok := ts.clients[key]; ok {
		existing.lastUsed = now
		return existing.c, nil
	}
	if len(ts.clients) >= maxTrackerClients {
		var oldest string
		var at time.Time
		for k, c := range ts.clients {
			if oldest == "" || c.lastUsed.Before(at) {
				oldest, at = k, c.lastUsed
			}
		}
		delete(ts.clients, oldest)
	}
	ts.clients[key] = &cachedClient{c: c, lastUsed: now}
	return c, nil
}

// fingerprint hashes credentials, so that the cache holds none in its keys.
func fingerprint(creds Credentials) string {
	h := sha256.New()
	for _, k := range slices.Sorted(maps.Keys(creds)) {
		h.Write([]byte(k + "\x00" + creds[k] + "\x00"))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Trackers returns the descriptors of the trackers this service offers, in wiring order.
func (s *Service) Trackers() []Tracker {
	out := make([]Tracker, 0, len(s.trackers.names))
	for _, n := range s.trackers.names {
		out = append(out, s.trackers.byName[n])
	}
	return out
}

// FileFormat returns the file format of the tracker named name (CSV), if it has one.
func (s *Service) FileFormat(name string) (*FileFormat, bool) {
	t, ok := s.trackers.byName[name]
	if !ok || t.File == nil {
		return nil, false
	}
	return t.File, true
}

// ImportFile adds the stories of a file in the format of source (a CSV upload) to the session,
// with their estimates as imported estimates: stories whose key was imported from the same
// source before are updated. A file that cannot be read is refused as invalid with the line to
// fix, but only once the actor may import. Only organizers may.
func (s *Service) ImportFile(ctx context.Context, a Actor, source string, r io.Reader) (ImportResult, error) {
	if _, _, err := s.organizer(ctx, a, "import stories"); err != nil {
		return ImportResult{}, err
	}
	f, ok := s.FileFormat(source)
	if !ok || f.Parse == nil {
		return ImportResult{}, invalid("source", "%q is not a file format this server imports", source)
	}
	stories, err := f.Parse(r)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return ImportResult{}, &Error{Code: CodeInvalid, Field: source, Message: e.Message, Err: err}
		}
		return ImportResult{}, &Error{Code: CodeInvalid, Field: source, Message: source + ": the file cannot be read", Err: err}
	}
	return s.ImportStories(ctx, a, source, stories)
}
