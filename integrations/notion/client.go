// Notion API reference: https://developers.notion.com/reference/intro
// (request limits: https://developers.notion.com/reference/request-limits,
// status codes: https://developers.notion.com/reference/status-codes).

// Package notion imports the pages of a Notion database as stories and writes accepted
// estimates back to a Number or Select property of each page. It speaks Notion-Version
// 2022-06-28 over plain net/http (integrations/httpx) with the few shapes it needs (api.go):
// jomei/notionapi was dropped because using it took a transport to set the base URL, undo its
// blocking 429 loop and close its error bodies, and a recover() for its panics on payloads it
// did not expect, which was more code than the five requests it made.
package notion

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

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
	api  *httpx.API
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
	base := &url.URL{Scheme: "https", Host: apiHost}
	if raw := strings.TrimSpace(cfg.BaseURL); raw != "" {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			// The value is not echoed: a mistyped URL may carry a proxy password.
			return nil, httpx.Errorf(provider, session.CodeInvalid,
				"NOTION_API_URL must be an http(s) URL such as https://api.notion.com")
		}
		// A proxy prefix is kept; the version is accepted with or without, as both circulate.
		u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/v1")
		u.RawPath, u.RawQuery, u.Fragment = "", "", ""
		base = u
	}
	hc := httpx.NewClient(cfg.HTTPClient, httpx.HeaderFor(base.Host, http.Header{"Authorization": {"Bearer " + token}}))
	return &Client{
		api: &httpx.API{Provider: provider, Base: base, HTTP: hc,
			Header: http.Header{"Notion-Version": {notionVersion}}},
		pace: newPacer(),
		site: base.Host,
	}, nil
}

// target names what a request was about, so that an error can say what to do about it.
type target struct {
	noun   string // "database", "page" or "" for workspace-wide calls
	id     string
	action string // "read", "update": for the capabilities message
}

// do sends one request to Notion (path under /v1/), paced to Notion's rate limit, and decodes
// a 200 answer into out. A short rate-limit pause is sat out once; everything else that went
// wrong becomes a *session.Error that says what to do.
func (c *Client) do(ctx context.Context, t target, method, path string, body, out any) error {
	what := strings.TrimSpace(t.action + " " + t.noun + " " + t.id)
	for attempt := 0; ; attempt++ {
		if err := c.pace.wait(ctx); err != nil {
			return c.failed(ctx, err)
		}
		resp, err := c.api.Do(ctx, method, "v1/"+path, nil, body, what)
		if err != nil {
			return c.failed(ctx, err)
		}
		if resp.Status == http.StatusOK {
			if out == nil {
				return nil
			}
			if err := json.Unmarshal(resp.Body, out); err != nil {
				return &session.Error{Code: session.CodeUnavailable,
					Message: provider + ": Notion sent a response Pokor could not read: " + err.Error(), Err: err}
			}
			return nil
		}
		if d, ok := httpx.RetryAfter(resp.Header, time.Now()); ok {
			c.pace.pause(d)
		} else if resp.Status == http.StatusTooManyRequests {
			// A 429 without Retry-After still means "slow down"; one second is Notion's average
			// budget for three requests.
			c.pace.pause(time.Second)
		}
		ae := parseError(resp)
		limited := ae.Status == http.StatusTooManyRequests || ae.Code == "rate_limited"
		if limited && attempt == 0 && c.pace.remaining() <= maxInlineWait {
			continue // the pacer holds the retry until the pause is over
		}
		return c.apiError(ctx, t, ae)
	}
}

// failed words a request that got no answer: a cancelled context, a network failure, or the
// pacer's refusal during a long pause. All are worth another try.
func (c *Client) failed(ctx context.Context, err error) error {
	var e *session.Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		return e
	}
	if ctx.Err() != nil {
		return &session.Error{Code: session.CodeUnavailable,
			Message: provider + ": request to Notion cancelled: " + ctx.Err().Error(), Err: err}
	}
	cause := err
	var ue *url.Error
	if errors.As(err, &ue) {
		cause = ue.Err
	}
	return &session.Error{Code: session.CodeUnavailable, Message: provider + ": could not reach Notion: " + cause.Error(), Err: err}
}

// parseError reads Notion's error object; a body that is not one (an HTML page from a proxy,
// an empty 502) becomes one named after the status.
func parseError(resp *httpx.Response) *apiError {
	var ae apiError
	if json.Unmarshal(resp.Body, &ae) != nil || ae.Object != "error" || ae.Status == 0 {
		ae = apiError{Object: "error", Status: resp.Status, Code: statusCode(resp.Status), Message: http.StatusText(resp.Status)}
	}
	return &ae
}

// statusCode names an HTTP status the way Notion names its error codes ("bad_gateway").
func statusCode(status int) string {
	text := http.StatusText(status)
	if text == "" {
		return "http_" + strconv.Itoa(status)
	}
	return strings.ToLower(strings.ReplaceAll(text, " ", "_"))
}

// apiError turns Notion's error object into guidance an organizer can act on.
func (c *Client) apiError(ctx context.Context, t target, ae *apiError) *session.Error {
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
func (c *Client) me(ctx context.Context) (*user, error) {
	var me user
	if err := c.do(ctx, target{action: "read"}, "GET", "users/me", nil, &me); err != nil {
		return nil, err
	}
	if me.Name != "" {
		c.mu.Lock()
		c.bot = me.Name
		c.mu.Unlock()
	}
	return &me, nil
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
