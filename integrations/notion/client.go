// Notion API reference: https://developers.notion.com/reference/intro
// (request limits: https://developers.notion.com/reference/request-limits,
// status codes: https://developers.notion.com/reference/status-codes).

// Package notion imports the pages of a Notion database as stories and writes accepted
// estimates back to a Number or Select property of each page. It talks to Notion through
// github.com/jomei/notionapi v1.13.3, which speaks Notion-Version 2022-06-28, and works around
// that library's gaps (no base URL option, a 429 retry that blocks the caller and drops
// Retry-After, error bodies left open, panics on unexpected payloads) in this package.
package notion

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jomei/notionapi"

	"github.com/pokor/pokor/integrations/httpx"
	"github.com/pokor/pokor/session"
)

const (
	provider = "notion"

	// notionVersion is pinned because every request and response shape this package relies on
	// (POST /v1/databases/{id}/query, search filtered to "database") is the 2022-06-28 one;
	// Notion deprecated the database query in 2025-09-03 in favour of data sources.
	notionVersion = "2022-06-28"

	// defaultTimeout bounds one HTTP exchange when the caller brings no http.Client.
	defaultTimeout = 30 * time.Second

	// maxInlineWait is the longest rate-limit pause the client sits out itself before retrying;
	// longer pauses are returned as rate-limit errors (retryable, with RetryAfter) so the caller (the write-back worker, an
	// organizer) decides when to come back instead of a request hanging for a minute.
	maxInlineWait = 2 * time.Second

	// pageSize is Notion's maximum page size for queries and searches.
	pageSize = 100
)

// Config says how to reach Notion: the server-wide NOTION_TOKEN or a per-session connection.
type Config struct {
	// Token is an internal integration token ("ntn_…", "secret_…") or an OAuth access token.
	Token string
	// BaseURL replaces https://api.notion.com (NOTION_API_URL: a proxy, a test server); empty
	// keeps the public API.
	BaseURL string
	// HTTPClient is used for every request; nil means a client with a 30-second timeout.
	HTTPClient *http.Client
}

// String describes the configuration without the token, so that logging a Config is safe.
func (c Config) String() string {
	token := "unset"
	if c.Token != "" {
		token = "set"
	}
	base := "https://" + apiHost
	if c.BaseURL != "" {
		base = "(invalid URL)"
		if u, err := url.Parse(c.BaseURL); err == nil {
			base = u.Redacted() // a proxy URL may carry a password
		}
	}
	return fmt.Sprintf("notion.Config{BaseURL: %s, Token: %s}", base, token)
}

// Client talks to Notion on behalf of one integration; it is safe for concurrent use.
type Client struct {
	api  *notionapi.Client
	pace *pacer
	site string

	mu  sync.Mutex
	bot string // the integration's name, cached once known
}

var (
	_ session.StorySource  = (*Client)(nil)
	_ session.EstimateSink = (*Client)(nil)
)

// New returns a client for cfg. It makes no request; Check tests the connection.
func New(cfg Config) (*Client, error) {
	token := strings.TrimSpace(cfg.Token)
	if token == "" {
		return nil, httpx.Errorf(provider, session.CodeForbidden,
			"no Notion token: set NOTION_TOKEN on the server, or add an integration token under Import → Connection to Notion in the room")
	}
	var target *url.URL
	site := apiHost
	if base := strings.TrimSpace(cfg.BaseURL); base != "" {
		u, err := url.Parse(base)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			// The value is not echoed: a mistyped URL may carry a proxy password.
			return nil, httpx.Errorf(provider, session.CodeInvalid,
				"NOTION_API_URL must be an http(s) URL such as https://api.notion.com")
		}
		target = u
		site = u.Host
	}

	hc := &http.Client{Timeout: defaultTimeout}
	if cfg.HTTPClient != nil {
		copied := *cfg.HTTPClient
		hc = &copied
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	pace := newPacer()
	hc.Transport = &transport{base: base, target: target, pace: pace}

	api := notionapi.NewClient(notionapi.Token(token),
		notionapi.WithHTTPClient(hc),
		notionapi.WithVersion(notionVersion),
		// One attempt: notionapi's own 429 loop sleeps up to three Retry-Afters inside the call
		// and then reports the limit without saying how long to wait, which the write-back
		// worker needs; the transport and call handle 429s instead.
		notionapi.WithRetry(1),
	)
	return &Client{api: api, pace: pace, site: site}, nil
}

// target names what a request was about, so that an error can say what to do about it.
type target struct {
	noun   string // "database", "page" or "" for workspace-wide calls
	id     string
	action string // "read", "update": for the capabilities message
}

// call runs one library call, sitting out a short rate-limit pause once, and turns whatever
// went wrong into an *session.Error that says what to do.
func (c *Client) call(ctx context.Context, t target, fn func(ctx context.Context) error) error {
	for attempt := 0; ; attempt++ {
		err := guard(ctx, fn)
		if err == nil {
			return nil
		}
		e := c.classify(ctx, t, err)
		if e.Code == session.CodeUnavailable && attempt == 0 && e.RetryAfter <= maxInlineWait {
			// The transport's pacer holds the next request until the pause is over.
			continue
		}
		return e
	}
}

// guard runs fn and turns a panic into an error: notionapi v1.13.3 type-asserts fields of
// the payload (a property without "type", a search result without "object") and would
// otherwise take the server down on a response it did not expect.
func guard(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("unexpected response: %v", r)
		}
	}()
	return fn(ctx)
}

// classify maps a notionapi, transport or network error to an *session.Error.
func (c *Client) classify(ctx context.Context, t target, err error) *session.Error {
	var ie *session.Error
	if errors.As(err, &ie) {
		return ie
	}
	var rl *notionapi.RateLimitedError
	if errors.As(err, &rl) {
		return rateLimited(c.pace.remaining())
	}
	var ae *notionapi.Error
	if errors.As(err, &ae) {
		return c.apiError(ctx, t, ae)
	}
	if ctx.Err() != nil {
		return &session.Error{Code: session.CodeUnavailable,
			Message: provider + ": " + "request to Notion cancelled: " + ctx.Err().Error(), Err: err}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return &session.Error{Code: session.CodeUnavailable,
			Message: provider + ": " + "could not reach Notion: " + ue.Err.Error(), Err: err}
	}
	// What is left are decoding errors: Notion answered 200 with something notionapi could not
	// read (a property type newer than the library, a truncated body).
	return &session.Error{Code: session.CodeUnavailable,
		Message: provider + ": " + "Notion sent a response Pokor could not read: " + err.Error(), Err: err}
}

// apiError turns Notion's error object into guidance an organizer can act on.
func (c *Client) apiError(ctx context.Context, t target, ae *notionapi.Error) *session.Error {
	e := &session.Error{Err: ae}
	what := t.noun
	if t.id != "" {
		what += " " + t.id
	}
	switch {
	case ae.Status == http.StatusUnauthorized || ae.Code == "unauthorized":
		e.Code = session.CodeForbidden
		e.Message = "the token is invalid or was revoked: set NOTION_TOKEN to the integration's " +
			"secret (notion.so/my-integrations) or reconnect Notion for this session"
	case ae.Status == http.StatusForbidden || ae.Code == "restricted_resource":
		e.Code = session.CodeForbidden
		action := t.action
		if action == "" {
			action = "read"
		}
		e.Message = fmt.Sprintf("the integration may not %s %s: in its settings "+
			"(notion.so/my-integrations → Capabilities) allow Read content and Update content",
			action, strings.TrimSpace(what))
	case ae.Status == http.StatusNotFound || ae.Code == "object_not_found":
		e.Code = session.CodeNotFound
		e.Message = c.notShared(ctx, t)
	case ae.Status == http.StatusTooManyRequests || ae.Code == "rate_limited":
		return rateLimited(c.pace.remaining())
	case ae.Status == http.StatusConflict:
		// Notion's conflict_error is a transaction collision; the same request later succeeds.
		e.Code = session.CodeUnavailable
		e.Message = "Notion reported a conflicting edit; trying again later"
		e.RetryAfter = c.pace.remaining()
	case ae.Status >= 500:
		e.Code = session.CodeUnavailable
		e.Message = fmt.Sprintf("Notion is unavailable (%d %s); trying again later", ae.Status, ae.Code)
		e.RetryAfter = c.pace.remaining()
	default:
		e.Code = session.CodeInvalid
		e.Message = fmt.Sprintf("Notion refused the request (%s): %s", ae.Code, ae.Message)
	}
	e.Message = provider + ": " + e.Message
	return e
}

// notShared is the 404 message: Notion answers object_not_found both for an unknown ID and for
// an object that exists but was never shared with the integration, and the second is by far
// the common case.
func (c *Client) notShared(ctx context.Context, t target) string {
	// Only look the name up for database and page calls: the lookup itself is a workspace-wide
	// call and must not recurse when a proxy answers 404 to it.
	bot := c.botName(ctx, t.noun != "")
	switch t.noun {
	case "page":
		return fmt.Sprintf("page %s was not found or is not shared with the integration: open its "+
			"database in Notion → ••• → Connections → add %q", t.id, bot)
	case "database":
		return fmt.Sprintf("database %s was not found or is not shared with the integration: open it "+
			"in Notion → ••• → Connections → add %q", t.id, bot)
	}
	return fmt.Sprintf("not found or not shared with the integration: open the database in Notion "+
		"→ ••• → Connections → add %q", bot)
}

// botName returns the integration's name for messages, asking Notion once when fetch is set;
// it falls back to a generic phrase rather than failing the message it decorates.
func (c *Client) botName(ctx context.Context, fetch bool) string {
	c.mu.Lock()
	name := c.bot
	c.mu.Unlock()
	if name != "" {
		return name
	}
	if !fetch {
		return "your integration"
	}
	me, err := c.me(ctx)
	if err != nil || me.Name == "" {
		return "your integration"
	}
	return me.Name
}

// me fetches the integration's bot user (GET /v1/users/me) and remembers its name.
func (c *Client) me(ctx context.Context) (*notionapi.User, error) {
	var me *notionapi.User
	err := c.call(ctx, target{action: "read"}, func(ctx context.Context) error {
		var err error
		me, err = c.api.User.Me(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	if me.Name != "" {
		c.mu.Lock()
		c.bot = me.Name
		c.mu.Unlock()
	}
	return me, nil
}

// rateLimited is the error for a request Notion (or the pacer, on Notion's behalf) held back.
func rateLimited(wait time.Duration) *session.Error {
	if wait < time.Second {
		// Notion's Retry-After is in whole seconds; never tell a caller to retry at once.
		wait = time.Second
	}
	if r := wait % time.Second; r != 0 {
		wait += time.Second - r // round up: retrying early only earns another 429
	}
	return &session.Error{Code: session.CodeUnavailable, RetryAfter: wait,
		Message: provider + ": " + fmt.Sprintf("Notion's rate limit was reached; try again in %s", wait)}
}
