// GitLab REST API v4 documentation: https://docs.gitlab.com/api/rest/
// (issues: https://docs.gitlab.com/api/issues/, notes: https://docs.gitlab.com/api/notes/,
// pagination: https://docs.gitlab.com/api/rest/#pagination, rate limits:
// https://docs.gitlab.com/security/rate_limits/).

// Package gitlab lists GitLab issues (gitlab.com or a self-managed instance) as Pokor stories
// and writes accepted estimates back to them: to the weight where the instance has
// weights, otherwise to a scoped label such as "estimate::5", and, when asked, to one Pokor
// note edited in place.
//
// Weights are a paid feature: an instance without them leaves the weight attribute out of its
// issue payloads (and ignores it on update), so the adapter looks at the payload rather than
// guessing from the version, and reads the issue back after every write.
package gitlab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/pokor/pokor/integrations/httpx"
	"github.com/pokor/pokor/session"
)

// provider names this adapter in every error it returns.
const provider = "gitlab"

// DefaultURL is the instance used when GITLAB_URL is unset.
const DefaultURL = "https://gitlab.com"

// missingToken says where to set a token; without one, public projects can still be listed.
const missingToken = "no GitLab token: set GITLAB_TOKEN on the server, or add an access token (api scope) under Import → Connection to GitLab in the room"

// defaultRateLimitWait is the pause after a 429 that names no time.
const defaultRateLimitWait = time.Minute

// Config says how to reach GitLab.
type Config struct {
	// BaseURL is the instance, "https://gitlab.com" or "https://gitlab.example.com" (a path
	// such as /gitlab is kept; /api/v4 is added when missing). Empty means gitlab.com.
	BaseURL string
	// Token is a personal, group or project access token with the api scope (read_api is
	// enough to import).
	Token string
	// HTTPClient carries the requests; nil means a client with a 30-second timeout.
	HTTPClient *http.Client
}

// String never shows the token, so a Config can be logged.
func (c Config) String() string {
	t := "unset"
	if c.Token != "" {
		t = "set"
	}
	return fmt.Sprintf("gitlab.Config{BaseURL: %q, Token: %s}", c.BaseURL, t)
}

// Client is a GitLab source and sink. It is safe for concurrent use.
type Client struct {
	gl       *gl.Client
	site     string // "gitlab.example.com", for messages
	web      string // "https://gitlab.example.com", for links
	hasToken bool
	resolved *targets
	self     meCache
	now      func() time.Time
}

var _ session.TrackerClient = (*Client)(nil)

// New returns a client for the GitLab instance described by cfg. It makes no request.
func New(cfg Config) (*Client, error) {
	base := strings.TrimSpace(cfg.BaseURL)
	if base == "" {
		base = DefaultURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		// The URL holds no secret and seeing it is the quickest way to spot a typo.
		return nil, httpx.Errorf(provider, session.CodeInvalid,
			"the GitLab URL %q is not an http(s) URL; use https://gitlab.com or your instance, e.g. https://gitlab.example.com", base)
	}
	u.Path = strings.TrimSuffix(strings.TrimRight(u.Path, "/"), "/api/v4")
	web := strings.TrimRight(u.String(), "/")

	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: httpx.DefaultTimeout}
	}
	token := strings.TrimSpace(cfg.Token)
	// Retries are the outbox's job: it keeps them across restarts and honours Retry-After,
	// where the client's own loop would hold a request open for minutes.
	var auth gl.AuthSource = gl.AccessTokenAuthSource{Token: token}
	if token == "" {
		// Public projects can be read without a token; an empty PRIVATE-TOKEN header would not
		// be anonymous.
		auth = gl.Unauthenticated{}
	}
	c, err := gl.NewAuthSourceClient(auth,
		gl.WithBaseURL(web+"/api/v4/"),
		gl.WithHTTPClient(httpx.NewClient(hc, nil)), // traced when tracing is on
		gl.WithoutRetries(),
		gl.WithUserAgent("pokor"),
	)
	if err != nil {
		return nil, httpx.Errorf(provider, session.CodeInvalid, "cannot use the GitLab URL %q: %v", base, err)
	}
	return &Client{gl: c, site: u.Host, web: web, hasToken: token != "", resolved: &targets{m: map[string]target{}}, now: time.Now}, nil
}

// Site returns the host of the instance ("gitlab.com").
func (c *Client) Site() string { return c.site }

// do sends one request built by the official client and decodes the answer into out. path is
// relative to /api/v4/ and already escaped; opt is encoded as the query (GET) or the JSON body.
func (c *Client) do(ctx context.Context, method, path string, opt, out any, what string) (*gl.Response, error) {
	req, err := c.gl.NewRequest(method, path, opt, []gl.RequestOptionFunc{gl.WithContext(ctx)})
	if err != nil {
		return nil, httpx.Wrap(provider, session.CodeInvalid, err, "could not %s: %v", what, err)
	}
	resp, err := c.gl.Do(req, out)
	if err != nil {
		return resp, c.fail(ctx, resp, err, what)
	}
	return resp, nil
}

// apiError is the cause kept for an HTTP error answer, so callers can test the status.
type apiError struct {
	Status  int
	Message string
}

func (e *apiError) Error() string { return fmt.Sprintf("HTTP %d %s", e.Status, e.Message) }

// statusOf returns the HTTP status of a failed request, 0 when it got no answer.
func statusOf(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// fail words an error of the official client for an organizer. The messages are built here,
// never copied from a request, so no token can leak into them.
func (c *Client) fail(ctx context.Context, resp *gl.Response, err error, what string) error {
	if resp == nil || resp.Response == nil {
		return httpx.Network(ctx, provider, c.site, what, err)
	}
	status := resp.StatusCode
	if status < 300 {
		// The answer came but could not be decoded: not GitLab's JSON (a proxy's page?).
		return httpx.Wrap(provider, session.CodeUnavailable, err,
			"could not %s: %s answered with something that is not GitLab's JSON; check GITLAB_URL", what, c.site)
	}
	msg := ""
	var er *gl.ErrorResponse
	if errors.As(err, &er) {
		msg = strings.TrimSpace(er.Message)
	}
	cause := &apiError{Status: status, Message: msg}
	says := ""
	if msg != "" && !strings.HasPrefix(msg, "failed to parse") {
		says = " (GitLab says: " + msg + ")"
	}
	var e *session.Error
	switch {
	case status == http.StatusUnauthorized && !c.hasToken:
		e = httpx.Errorf(provider, session.CodeForbidden, "could not %s: %s", what, missingToken)
	case status == http.StatusUnauthorized:
		e = httpx.Errorf(provider, session.CodeForbidden, "could not %s: GitLab refused the token (401); it may be expired or revoked", what)
	case status == http.StatusForbidden:
		e = httpx.Errorf(provider, session.CodeForbidden,
			"could not %s: the token is not allowed to (403); it needs the api scope and at least the Reporter role%s", what, says)
	case status == http.StatusNotFound && !c.hasToken:
		e = httpx.Errorf(provider, session.CodeNotFound, "could not %s: it does not exist or is not public (404); %s", what, missingToken)
	case status == http.StatusNotFound:
		e = httpx.Errorf(provider, session.CodeNotFound, "could not %s: it does not exist or the token cannot see it (404)", what)
	case status == http.StatusTooManyRequests:
		wait := rateLimitWait(resp.Header, c.now())
		e = httpx.RateLimited(provider, wait, "could not %s: GitLab is rate limiting this token (429); Pokor will try again in %s", what, wait)
	case status == http.StatusConflict:
		// GitLab answers 409 when the same issue is being changed by another request.
		e = httpx.Errorf(provider, session.CodeUnavailable, "could not %s: another change of the issue was in progress (409); Pokor will try again", what)
	case httpx.Code(status) == session.CodeUnavailable:
		e = httpx.Errorf(provider, session.CodeUnavailable, "could not %s: %s answered %d %s; try again later", what, c.site, status, http.StatusText(status))
		if wait, ok := httpx.RetryAfter(resp.Header, c.now()); ok {
			e.RetryAfter = wait
		}
	default:
		e = httpx.Errorf(provider, httpx.Code(status), "could not %s: GitLab refused the request (%d)%s", what, status, says)
	}
	e.Err = cause
	return e
}

// rateLimitWait reads how long GitLab asks to wait: Retry-After, else RateLimit-Reset (a Unix
// time), else a minute.
func rateLimitWait(h http.Header, now time.Time) time.Duration {
	if d, ok := httpx.RetryAfter(h, now); ok && d > 0 {
		return d
	}
	if reset, err := strconv.ParseInt(strings.TrimSpace(h.Get("RateLimit-Reset")), 10, 64); err == nil {
		if d := time.Unix(reset, 0).Sub(now).Round(time.Second); d > 0 {
			return d
		}
	}
	return defaultRateLimitWait
}
