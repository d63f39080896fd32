// Package integrations holds what every tracker adapter shares: the source and sink interfaces,
// the item and estimate values they exchange with the domain, and the one error type whose kind
// tells the write-back worker whether to retry. Each tracker lives in its own sub-package
// (github, jira, notion, csv) and imports only this package, never the session domain.
package integrations

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Item is one story as a tracker holds it.
type Item struct {
	// Key identifies the item in its tracker: "acme/api#42", "API-12", a Notion page id.
	Key string `json:"key"`
	// Title is the one-line summary shown on the story card.
	Title string `json:"title"`
	// Description is plain text (Markdown from GitHub, text extracted from Jira's ADF, ...).
	Description string `json:"description,omitempty"`
	// URL opens the item in the tracker.
	URL string `json:"url,omitempty"`
	// Type is the tracker's kind of item when it has one ("Story", "Bug").
	Type string `json:"type,omitempty"`
	// Estimate is an estimate the tracker already holds, empty when none.
	Estimate string `json:"estimate,omitempty"`
}

// Page is one page of items returned by a Source.
type Page struct {
	Items []Item `json:"items"`
	// Next is the cursor for the following page; empty on the last page.
	Next string `json:"next,omitempty"`
	// Total is the number of matching items when the tracker says so, -1 when unknown.
	Total int `json:"total"`
}

// Source lists the stories a query selects, one page at a time.
type Source interface {
	// List returns the page of items after cursor ("" for the first page). The query syntax is
	// the tracker's own (see each adapter). It returns an *Error of KindInvalid for a query the
	// adapter cannot parse and KindNotFound when the project, repository or database is unknown.
	List(ctx context.Context, query string, cursor string) (Page, error)
}

// Estimate is an accepted estimate to write back to one item.
type Estimate struct {
	// Value is the accepted card as shown in the room: "5", "0.5", "M", "?".
	Value string `json:"value"`
	// Deck is the ordered list of cards of the session's deck, for adapters that map
	// non-numeric values (T-shirt sizes onto a select property, for example).
	Deck []string `json:"deck,omitempty"`
	// SessionTitle and SessionURL let an adapter link back to the session (a GitHub comment).
	SessionTitle string `json:"session_title,omitempty"`
	SessionURL   string `json:"session_url,omitempty"`
	// Options are per-session write-back settings for this tracker, keyed by the adapter's own
	// names (GitHub: "label_prefix", "mode"; Jira: "field", "comment_fallback"; Notion: "property").
	Options map[string]string `json:"options,omitempty"`
}

// Numeric returns the estimate as a number when the card is one ("5", "0.5", "½").
func (e Estimate) Numeric() (float64, bool) {
	v := strings.TrimSpace(e.Value)
	if v == "½" {
		return 0.5, true
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

// Result says what a sink wrote, in words for the room ("label estimate: 5 and comment updated").
type Result struct {
	Detail string `json:"detail"`
}

// Sink writes an accepted estimate to one item.
type Sink interface {
	// WriteEstimate writes est to the item with the given key. Writing the same estimate twice
	// must leave the item as writing it once (the outbox may deliver again after a crash).
	WriteEstimate(ctx context.Context, key string, est Estimate) (Result, error)
}

// Kind classifies an adapter error so that the write-back worker and the room can act on it.
type Kind string

// The kinds of adapter errors. Only KindRateLimited and KindUnavailable are retried.
const (
	KindInvalid     Kind = "invalid"      // the query or the value cannot be used; fix the input
	KindAuth        Kind = "auth"         // the credentials are missing, wrong or expired
	KindPermission  Kind = "permission"   // the credentials are valid but may not do this
	KindNotFound    Kind = "not_found"    // the item, project or database does not exist or is hidden
	KindRateLimited Kind = "rate_limited" // try again after RetryAfter
	KindUnavailable Kind = "unavailable"  // network failure or 5xx; try again later
	KindChoice      Kind = "choice"       // several equally good targets: an organizer must pick one
)

// Error is the error every adapter returns. Its message is safe to show to an organizer and
// never contains a credential.
type Error struct {
	Provider string // "github", "jira", "notion", "csv"
	Kind     Kind
	Message  string
	// RetryAfter is how long to wait before the next attempt when the tracker said so.
	RetryAfter time.Duration
	// Choices lists the candidates an organizer may pick from, for KindChoice.
	Choices []Choice
	Err     error
}

// Choice is one candidate an organizer may pick when an adapter cannot decide alone.
type Choice struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Reason string `json:"reason,omitempty"`
}

func (e *Error) Error() string { return e.Provider + ": " + e.Message }

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of the given kind with a formatted message.
func Errorf(provider string, kind Kind, format string, args ...any) *Error {
	return &Error{Provider: provider, Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Retryable reports whether err is worth another attempt, and how long the tracker asked to
// wait (zero when it did not say). Errors that are not *Error (a context deadline, a reset
// connection) are retried.
func Retryable(err error) (bool, time.Duration) {
	var e *Error
	if !errors.As(err, &e) {
		return err != nil, 0
	}
	switch e.Kind {
	case KindRateLimited, KindUnavailable:
		return true, e.RetryAfter
	}
	return false, 0
}

// Check is what `pokor check <tracker>` and the room's "Test connection" button report.
type Check struct {
	Provider string `json:"provider"`
	OK       bool   `json:"ok"`
	// Identity is who the credentials are ("octocat", "jane@example.com", "Pokor integration").
	Identity string `json:"identity,omitempty"`
	// Site is the host or workspace checked.
	Site string `json:"site,omitempty"`
	// Facts are ordered findings in words ("can write issues in acme/api: yes").
	Facts []Fact `json:"facts"`
	// Detail holds adapter-specific structured findings (Jira's field candidates, ...).
	Detail any `json:"detail,omitempty"`
}

// Fact is one line of a Check.
type Fact struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	OK    bool   `json:"ok"`
}
