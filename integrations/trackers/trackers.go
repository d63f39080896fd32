// Package trackers is the registry of issue trackers the session domain reaches through its
// session.Trackers port. It builds the adapters (github, jira, notion) from the
// server's default credentials merged with a session's own connection, keeps one client per
// set of credentials so that each client's rate-limit pacing holds across calls, and turns
// adapter errors into session errors whose code fits and whose message an organizer can act on.
//
// The adapters do not import this package; it is the one place that knows all of them.
package trackers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pokor/pokor/integrations"
	"github.com/pokor/pokor/integrations/github"
	"github.com/pokor/pokor/integrations/jira"
	"github.com/pokor/pokor/integrations/notion"
	"github.com/pokor/pokor/session"
)

// Defaults are the server-wide credentials, read from the environment (GITHUB_TOKEN,
// GITHUB_API_URL, NOTION_TOKEN, NOTION_API_URL). A session's own connection overrides them
// field by field.
type Defaults struct {
	GitHub github.Config
	Notion notion.Config
	// Jira is the default site and credentials; its Decisions, when nil, are made once and
	// shared by every Jira client the registry builds, so each site is inspected once.
	Jira jira.Config
	// JiraAllowedHosts are Jira hosts a session may name even though they resolve to private
	// addresses (an intranet Jira Data Center); JIRA_ALLOWED_HOSTS.
	JiraAllowedHosts []string
}

// Credential fields a session connection may set. GitHub and Notion read FieldToken; Jira reads
// FieldBaseURL, FieldEmail, FieldAPIToken and FieldPAT. Other fields are ignored: a session
// cannot point GitHub or Notion at another server.
const (
	FieldToken    = "token"
	FieldBaseURL  = "base_url"
	FieldEmail    = "email"
	FieldAPIToken = "api_token"
	FieldPAT      = "pat"
)

// maxClients bounds the cache of clients. Each session with its own token has its own client;
// beyond this many the least recently used is dropped (and built again when needed).
const maxClients = 256

// minRateLimitWait is the least pause after a rate limit, whatever the tracker said.
const minRateLimitWait = time.Second

// client is what every adapter offers.
type client interface {
	integrations.Source
	integrations.Sink
	Check(ctx context.Context, target string) (integrations.Check, error)
}

// tracker describes one adapter: how to build a client from the defaults and a session's
// credentials, and what to tell an organizer when credentials are missing.
type tracker struct {
	// config returns the effective configuration for creds over d, a stable fingerprint of it
	// for the client cache, and whether it carries any credential at all.
	config func(d Defaults, creds session.Credentials) (cfg any, fingerprint string, hasCreds bool)
	// build makes a client from what config returned.
	build func(d Defaults, cfg any) (client, error)
	// missing says where to set credentials when there are none.
	missing string
	// listAnonymously lets List run without credentials (GitHub's public repositories).
	listAnonymously bool
}

// registry lists the trackers by the name stories carry as their source.
var registry = map[string]tracker{
	"github": {
		config: func(d Defaults, creds session.Credentials) (any, string, bool) {
			cfg := d.GitHub
			if t := strings.TrimSpace(creds[FieldToken]); t != "" {
				cfg.Token = t
			}
			return cfg, fingerprint(cfg.BaseURL, cfg.Token), strings.TrimSpace(cfg.Token) != ""
		},
		build: func(_ Defaults, cfg any) (client, error) {
			c, err := github.New(cfg.(github.Config))
			if err != nil {
				return nil, err
			}
			return c, nil
		},
		missing:         "no GitHub token: set GITHUB_TOKEN on the server, or add a token under Import → Connection to GitHub in the room",
		listAnonymously: true,
	},
	"notion": {
		config: func(d Defaults, creds session.Credentials) (any, string, bool) {
			cfg := d.Notion
			if t := strings.TrimSpace(creds[FieldToken]); t != "" {
				cfg.Token = t
			}
			return cfg, fingerprint(cfg.BaseURL, cfg.Token), strings.TrimSpace(cfg.Token) != ""
		},
		build: func(_ Defaults, cfg any) (client, error) {
			c, err := notion.New(cfg.(notion.Config))
			if err != nil {
				return nil, err
			}
			return c, nil
		},
		missing: "no Notion token: set NOTION_TOKEN on the server, or add an integration token under Import → Connection to Notion in the room",
	},
	"jira": {
		config: jiraConfig,
		build: func(d Defaults, cfg any) (client, error) {
			jc := cfg.(jira.Config)
			if !sameURL(jc.BaseURL, d.Jira.BaseURL) {
				// A site typed by an organizer must not turn the server into a proxy into its
				// own network: it must be public, unless the admin allowed the host.
				guarded, err := guardSite(jc.BaseURL, d.JiraAllowedHosts)
				if err != nil {
					return nil, err
				}
				if guarded != nil {
					jc.HTTPClient = guarded
				}
			}
			c, err := jira.New(jc)
			if err != nil {
				return nil, err
			}
			return c, nil
		},
		missing: "no Jira credentials: set JIRA_BASE_URL with JIRA_EMAIL and JIRA_API_TOKEN on the server, or enter the site, email and API token under Import → Connection to Jira in the room",
	},
}

// jiraConfig merges a session's Jira connection over the defaults. The site is taken field by
// field; the credentials as a whole (email with API token, or a personal access token), so that
// a session's token is never paired with the server's email. A session that names another site
// never inherits the server's credentials: they would be sent to that site.
func jiraConfig(d Defaults, creds session.Credentials) (any, string, bool) {
	cfg := jira.Config{BaseURL: d.Jira.BaseURL, HTTPClient: d.Jira.HTTPClient, Decisions: d.Jira.Decisions}
	site := strings.TrimSpace(creds[FieldBaseURL])
	sameSite := site == "" || sameURL(site, d.Jira.BaseURL)
	if site != "" {
		cfg.BaseURL = site
	}
	email, token, pat := strings.TrimSpace(creds[FieldEmail]), strings.TrimSpace(creds[FieldAPIToken]), strings.TrimSpace(creds[FieldPAT])
	switch {
	case email != "" || token != "" || pat != "":
		cfg.Email, cfg.APIToken, cfg.PAT = email, token, pat
	case sameSite:
		cfg.Email, cfg.APIToken, cfg.PAT = d.Jira.Email, d.Jira.APIToken, d.Jira.PAT
	}
	has := strings.TrimSpace(cfg.BaseURL) != "" && (cfg.APIToken != "" || cfg.PAT != "")
	return cfg, fingerprint(cfg.BaseURL, cfg.Email, cfg.APIToken, cfg.PAT), has
}

// sameURL compares two site URLs the way a person would: case of the host, a trailing slash
// and surrounding spaces do not matter.
func sameURL(a, b string) bool {
	norm := func(s string) string { return strings.TrimRight(strings.ToLower(strings.TrimSpace(s)), "/") }
	return norm(a) == norm(b)
}

// fingerprint hashes the parts of a configuration that make two clients different, so that
// the cache holds no credential in its keys.
func fingerprint(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Registry implements session.Trackers over the adapters. It is safe for concurrent use.
type Registry struct {
	defaults Defaults
	trackers map[string]tracker

	mu      sync.Mutex
	clients map[string]*cached
	now     func() time.Time
}

type cached struct {
	c        client
	anon     bool
	lastUsed time.Time
}

var (
	_ session.Trackers       = (*Registry)(nil)
	_ session.TrackerChecker = (*Registry)(nil)
)

// New returns a registry that reaches the trackers with d as the server's default credentials.
func New(d Defaults) *Registry {
	if d.Jira.Decisions == nil {
		d.Jira.Decisions = jira.NewDecisions()
	}
	return &Registry{defaults: d, trackers: registry, clients: map[string]*cached{}, now: time.Now}
}

// Names returns the trackers the registry knows, sorted.
func (r *Registry) Names() []string {
	out := make([]string, 0, len(r.trackers))
	for n := range r.trackers {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Has reports whether source names a tracker of the registry ("github", "notion"...). CSV is
// not one: it is imported from a file and has nothing to write back to.
func (r *Registry) Has(source string) bool {
	_, ok := r.trackers[source]
	return ok
}

// op says what a client is wanted for, which decides whether credentials are required.
type op int

const (
	opList op = iota
	opWrite
	opCheck
)

// client returns the cached client for source with creds over the defaults, building it on
// first use. It fails with the tracker's "where to set credentials" message when none are set
// and the operation needs them: a write always does; listing and checking GitHub do not, since
// public repositories can be read anonymously.
func (r *Registry) client(source string, creds session.Credentials, o op) (*cached, error) {
	t, ok := r.trackers[source]
	if !ok {
		return nil, &session.Error{Code: session.CodeInvalid, Field: "source",
			Message: "unknown tracker " + quote(source) + ": use one of " + strings.Join(r.Names(), ", ")}
	}
	cfg, fp, has := t.config(r.defaults, creds)
	if !has && (o == opWrite || !t.listAnonymously) {
		return nil, convert(&integrations.Error{Provider: source, Kind: integrations.KindAuth, Message: t.missing}, false)
	}
	key := source + "\x00" + fp
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.clients[key]; ok {
		c.lastUsed = r.now()
		return c, nil
	}
	c, err := t.build(r.defaults, cfg)
	if err != nil {
		return nil, convert(err, false)
	}
	if len(r.clients) >= maxClients {
		r.evictLocked()
	}
	e := &cached{c: c, anon: !has, lastUsed: r.now()}
	r.clients[key] = e
	return e, nil
}

// evictLocked drops the least recently used client.
func (r *Registry) evictLocked() {
	var oldest string
	var at time.Time
	for k, c := range r.clients {
		if oldest == "" || c.lastUsed.Before(at) {
			oldest, at = k, c.lastUsed
		}
	}
	delete(r.clients, oldest)
}

// List returns one page of the stories query selects in source, with the session's creds over
// the server's defaults. Texts come cleaned and cut to the session's limits, so a preview can be
// added as it is.
func (r *Registry) List(ctx context.Context, source string, creds session.Credentials, query, cursor string) (session.ExternalPage, error) {
	c, err := r.client(source, creds, opList)
	if err != nil {
		return session.ExternalPage{}, err
	}
	page, err := c.c.List(ctx, query, cursor)
	if err != nil {
		e := convert(err, c.anon)
		if e.Code == session.CodeInvalid && e.Field == "" {
			e.Field = "query"
		}
		return session.ExternalPage{}, e
	}
	out := session.ExternalPage{Stories: make([]session.ExternalStory, 0, len(page.Items)), Next: page.Next, Total: page.Total}
	for _, it := range page.Items {
		out.Stories = append(out.Stories, externalStory(source, it))
	}
	return out, nil
}

// externalStory maps an adapter's item to the domain's, cleaned as an import would store it.
func externalStory(source string, it integrations.Item) session.ExternalStory {
	es := session.ExternalStory{Key: it.Key, Title: it.Title, Description: it.Description, URL: it.URL, Type: it.Type, Estimate: it.Estimate}
	in := es.Input(source)
	es.Title, es.Description, es.URL = in.Title, in.Description, in.URL
	return es
}

// Write writes an accepted estimate to the item key of source and returns what was written, in
// words.
func (r *Registry) Write(ctx context.Context, source string, creds session.Credentials, key string, wb session.WriteBack) (string, error) {
	c, err := r.client(source, creds, opWrite)
	if err != nil {
		return "", err
	}
	res, err := c.c.WriteEstimate(ctx, key, integrations.Estimate{
		Value: wb.Value, Deck: wb.Deck, SessionTitle: wb.SessionTitle, SessionURL: wb.SessionURL, Options: wb.Options,
	})
	if err != nil {
		return "", convert(err, c.anon)
	}
	return res.Detail, nil
}

// Retry tells whether a failed Write is worth another attempt and the least wait the tracker
// asked for: rate limits and outages are retried, everything an organizer must fix is not.
func (r *Registry) Retry(err error) (bool, time.Duration) {
	var ie *integrations.Error
	if errors.As(err, &ie) {
		retry, after := integrations.Retryable(ie)
		// A wait rounded to whole seconds can come out as zero just before a reset; coming back
		// at once would only spend an attempt on the client's own "still limited" refusal.
		if ie.Kind == integrations.KindRateLimited && after < minRateLimitWait {
			after = minRateLimitWait
		}
		return retry, after
	}
	switch session.ErrorCode(err) {
	case session.CodeInvalid, session.CodeForbidden, session.CodeNotFound, session.CodeConflict:
		return false, 0
	}
	return err != nil, 0
}

// CheckTracker tests source with creds over the defaults against target (a repository, a
// database, an issue or a project; empty checks the credentials alone). The report says in facts
// what works and what does not; the error is set when the tracker could not be asked at all, and
// then the report, when it has a Provider, says so too.
func (r *Registry) CheckTracker(ctx context.Context, source string, creds session.Credentials, target string) (integrations.Check, error) {
	c, err := r.client(source, creds, opCheck)
	if err != nil {
		if !r.Has(source) {
			return integrations.Check{}, err
		}
		return integrations.Check{Provider: source, Facts: []integrations.Fact{{Name: "credentials", Value: session.ErrorMessage(err), OK: false}}}, err
	}
	ch, err := c.c.Check(ctx, target)
	if ch.Facts == nil {
		ch.Facts = []integrations.Fact{}
	}
	if err != nil {
		if ch.Provider == "" {
			ch.Provider = source
		}
		e := convert(err, c.anon)
		if len(ch.Facts) == 0 {
			ch.Facts = append(ch.Facts, integrations.Fact{Name: "connection", Value: e.Message, OK: false})
		}
		ch.OK = false
		return ch, e
	}
	return ch, nil
}

// Check implements session.TrackerChecker: the report of CheckTracker, which holds the failure
// in its facts, or an error when there is no report (an unknown tracker).
func (r *Registry) Check(ctx context.Context, source string, creds session.Credentials, target string) (any, error) {
	ch, err := r.CheckTracker(ctx, source, creds, target)
	if ch.Provider == "" {
		return nil, err
	}
	return ch, nil
}

// codes maps each kind of adapter error to the domain's code.
var codes = map[integrations.Kind]session.Code{
	integrations.KindInvalid:     session.CodeInvalid,
	integrations.KindAuth:        session.CodeForbidden,
	integrations.KindPermission:  session.CodeForbidden,
	integrations.KindNotFound:    session.CodeNotFound,
	integrations.KindRateLimited: session.CodeUnavailable,
	integrations.KindUnavailable: session.CodeUnavailable,
	integrations.KindChoice:      session.CodeConflict,
}

// convert turns an adapter error into a *session.Error carrying the adapter's message (which
// names the tracker) and keeping the adapter error as its cause, so that Retry still sees the
// kind and RetryAfter. anon adds where to set a token when the request went without one.
func convert(err error, anon bool) *session.Error {
	var se *session.Error
	if errors.As(err, &se) {
		return se
	}
	var ie *integrations.Error
	if !errors.As(err, &ie) {
		// Adapters return *integrations.Error; anything else is a failure on the way (a
		// cancelled context) and worth another try.
		return &session.Error{Code: session.CodeUnavailable, Message: "the tracker did not answer; try again", Err: err}
	}
	code, ok := codes[ie.Kind]
	if !ok {
		code = session.CodeUnavailable
	}
	msg := ie.Error()
	if t, ok := registry[ie.Provider]; ok && anon {
		switch ie.Kind {
		case integrations.KindAuth:
			msg = ie.Provider + ": " + t.missing
		case integrations.KindPermission, integrations.KindNotFound, integrations.KindRateLimited:
			msg += " (" + t.missing + ")"
		}
	}
	if ie.Kind == integrations.KindChoice && len(ie.Choices) > 0 {
		names := make([]string, 0, len(ie.Choices))
		for _, c := range ie.Choices {
			names = append(names, c.Name+" ("+c.ID+")")
		}
		if !strings.Contains(msg, ie.Choices[0].ID) {
			msg += "; choices: " + strings.Join(names, ", ")
		}
	}
	return &session.Error{Code: code, Message: msg, Err: err}
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }
