// GitHub REST API documentation: https://docs.github.com/en/rest
// (issues: https://docs.github.com/en/rest/issues, rate limits:
// https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api).

// Package github lists GitHub issues as Pokor stories and writes accepted estimates back to them
// as a label, a comment, or both. It talks to github.com or a GitHub Enterprise Server.
package github

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	gh "github.com/google/go-github/v66/github"

	"github.com/pokor/pokor/integrations/httpx"
	"github.com/pokor/pokor/session"
)

// provider names this adapter in every error it returns.
const provider = "github"

// defaultTimeout bounds each HTTP exchange when the caller brings no client of its own: the
// write-back worker may call without a deadline, and a hung connection must not hold it forever.
const defaultTimeout = 30 * time.Second

// defaultSecondaryWait is how long to wait after a secondary rate limit that names no time;
// GitHub's documentation asks for at least one minute.
const defaultSecondaryWait = time.Minute

// Config says how to reach GitHub.
type Config struct {
	// Token is a personal access token (classic or fine-grained) or an app installation token.
	Token string
	// BaseURL is the REST API root (GITHUB_API_URL). Empty means https://api.github.com/; a
	// GitHub Enterprise Server is reached through its /api/v3/ path, for example
	// https://ghe.example.com/api/v3/. The URL is used as given so that proxies and test servers
	// work; a trailing slash is added when missing.
	BaseURL string
	// HTTPClient carries the requests; nil means a client with a 30-second timeout.
	HTTPClient *http.Client
}

// Client is a GitHub source and sink. It is safe for concurrent use.
type Client struct {
	gh       *gh.Client
	site     string
	hasToken bool
}

var (
	_ session.StorySource  = (*Client)(nil)
	_ session.EstimateSink = (*Client)(nil)
)

// New returns a client for the GitHub server described by cfg.
func New(cfg Config) (*Client, error) {
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: defaultTimeout}
	}
	c := gh.NewClient(httpx.NewClient(hc, nil))
	c.UserAgent = "pokor"
	if base := strings.TrimSpace(cfg.BaseURL); base != "" {
		u, err := url.Parse(base)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			// The value is echoed because a base URL holds no secret, and seeing it is the
			// quickest way to spot a typo.
			return nil, httpx.Errorf(provider, session.CodeInvalid,
				"the API URL %q is not an http(s) URL; use https://api.github.com/ or https://HOST/api/v3/ for GitHub Enterprise Server", base)
		}
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		c.BaseURL = u
	}
	// A token pasted from a file often ends with a newline, which would make the Authorization
	// header invalid.
	token := strings.TrimSpace(cfg.Token)
	if token != "" {
		c = c.WithAuthToken(token)
	}
	return &Client{gh: c, site: c.BaseURL.Host, hasToken: token != ""}, nil
}

// access says what a request was for, so that an error can be worded for the organizer.
type access struct {
	write bool
	repo  string // "acme/api"
	what  string // the thing that may be missing: "acme/api#42" or "acme/api"
}

func readRepo(r repoRef) access   { return access{repo: r.String(), what: r.String()} }
func readIssue(k issueRef) access { return access{repo: k.repo.String(), what: k.String()} }
func writeIssue(k issueRef) access {
	return access{write: true, repo: k.repo.String(), what: k.String()}
}

// fail turns an error from go-github into a *session.Error worded for an organizer. The
// messages are built here, never copied from a request, so no credential can leak into them.
// Without a token, a refusal, a not-found or a rate limit may well be for want of one: the
// message then says where to set it.
func (c *Client) fail(err error, a access) error {
	out := c.classify(err, a)
	var e *session.Error
	if !c.hasToken && errors.As(out, &e) && !strings.Contains(e.Message, "GITHUB_TOKEN") &&
		(e.Code == session.CodeForbidden || e.Code == session.CodeNotFound || e.RetryAfter > 0) {
		e.Message += " (" + missingToken + ")"
	}
	return out
}

func (c *Client) classify(err error, a access) error {
	if err == nil {
		return nil
	}
	var ie *session.Error
	if errors.As(err, &ie) {
		return err
	}

	var rle *gh.RateLimitError
	if errors.As(err, &rle) {
		return primaryRateLimited(rle.Rate.Reset.Time, err)
	}
	var are *gh.AbuseRateLimitError
	if errors.As(err, &are) {
		wait := defaultSecondaryWait
		if are.RetryAfter != nil && *are.RetryAfter > 0 {
			wait = *are.RetryAfter
		}
		return secondaryRateLimited(wait, err)
	}
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return c.failStatus(er, a, err)
	}
	var acc *gh.AcceptedError
	if errors.As(err, &acc) {
		return &session.Error{Code: session.CodeUnavailable,
			Message: provider + ": " + "GitHub is still preparing the answer; try again shortly", Err: err}
	}

	if e, ok := httpx.NetworkError(provider, c.site, "", err); ok {
		return e
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	if errors.As(err, &se) || errors.As(err, &te) {
		return &session.Error{Code: session.CodeUnavailable,
			Message: provider + ": " + fmt.Sprintf("%s answered with something that is not GitHub's JSON; check the API URL", c.site), Err: err}
	}
	return &session.Error{Code: session.CodeUnavailable,
		Message: provider + ": " + fmt.Sprintf("the request to %s failed: %v", c.site, err), Err: err}
}

// failStatus words an HTTP error answer from GitHub.
func (c *Client) failStatus(er *gh.ErrorResponse, a access, err error) error {
	status := er.Response.StatusCode
	h := er.Response.Header
	kindErr := func(kind session.Code, format string, args ...any) error {
		return &session.Error{Code: kind, Message: provider + ": " + fmt.Sprintf(format, args...), Err: err}
	}

	switch {
	case status == http.StatusUnauthorized:
		if !c.hasToken {
			return kindErr(session.CodeForbidden, "no token is configured; set GITHUB_TOKEN to a token that can read and write issues")
		}
		return kindErr(session.CodeForbidden, "the token is invalid or expired")

	case status == http.StatusForbidden || status == http.StatusTooManyRequests:
		// The order follows GitHub's troubleshooting guide: Retry-After wins, then an
		// exhausted primary limit, then a generic wait. go-github v66 only recognizes
		// rate limits on 403, so 429 arrives here as a plain ErrorResponse.
		if wait, ok := httpx.RetryAfter(h, time.Now()); ok {
			return secondaryRateLimited(wait, err)
		}
		if h.Get("X-RateLimit-Remaining") == "0" {
			reset, _ := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
			return primaryRateLimited(time.Unix(reset, 0), err)
		}
		if status == http.StatusTooManyRequests || strings.Contains(strings.ToLower(er.Message), "rate limit") {
			return secondaryRateLimited(defaultSecondaryWait, err)
		}
		if h.Get("X-GitHub-SSO") != "" {
			return kindErr(session.CodeForbidden,
				"the token is not authorized for single sign-on in the organization that owns %s; authorize it in the token settings on GitHub", a.repo)
		}
		if a.write {
			return kindErr(session.CodeForbidden, "the token cannot write issues in %s: it needs the Issues: write permission", a.repo)
		}
		return kindErr(session.CodeForbidden, "the token cannot read issues in %s: it needs the Issues: read permission", a.repo)

	case status == http.StatusNotFound:
		return kindErr(session.CodeNotFound, "%s was not found, or the token cannot see the repository", a.what)

	case status == http.StatusGone:
		if strings.Contains(strings.ToLower(er.Message), "disabled") {
			return kindErr(session.CodeNotFound, "issues are disabled in %s", a.repo)
		}
		return kindErr(session.CodeNotFound, "%s was deleted", a.what)

	case status == http.StatusRequestTimeout || status >= 500:
		return kindErr(session.CodeUnavailable, "%s answered %d %s; try again later", c.site, status, http.StatusText(status))

	default:
		return kindErr(session.CodeInvalid, "GitHub refused the request (%d): %s", status, describeErrorResponse(er))
	}
}

// describeErrorResponse joins GitHub's message and its validation details ("Validation Failed:
// name is too long").
func describeErrorResponse(er *gh.ErrorResponse) string {
	msg := er.Message
	if msg == "" {
		msg = http.StatusText(er.Response.StatusCode)
	}
	var details []string
	for _, e := range er.Errors {
		switch {
		case e.Message != "":
			details = append(details, e.Message)
		case e.Field != "" || e.Code != "":
			details = append(details, strings.TrimSpace(e.Field+" "+strings.ReplaceAll(e.Code, "_", " ")))
		}
	}
	if len(details) > 0 {
		msg += ": " + strings.Join(details, "; ")
	}
	return msg
}

// hasErrorCode reports whether err is a GitHub validation error carrying code ("already_exists").
func hasErrorCode(err error, code string) bool {
	var er *gh.ErrorResponse
	if !errors.As(err, &er) {
		return false
	}
	for _, e := range er.Errors {
		if e.Code == code {
			return true
		}
	}
	return false
}

// isStatus reports whether err is an answer from GitHub with the given HTTP status.
func isStatus(err error, status int) bool {
	var er *gh.ErrorResponse
	return errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == status
}

func primaryRateLimited(reset time.Time, err error) error {
	wait := time.Until(reset)
	if reset.Unix() <= 0 || wait <= 0 {
		// The reset is unknown or already past (clock skew): a short pause is enough.
		wait = time.Second
		return &session.Error{Code: session.CodeUnavailable, RetryAfter: wait,
			Message: provider + ": " + "the GitHub API rate limit is used up; Pokor will try again shortly", Err: err}
	}
	// Whole seconds, rounded up: the header has second precision, and a retry that comes before
	// the reset is refused by go-github itself, without a request (it remembers the limit), and
	// would spend an attempt; rounded to the nearest second it came up to half a second early,
	// and a reset less than half a second away gave a wait of 0, retried at once, over and over,
	// until the attempts ran out.
	wait = (wait + time.Second - 1).Truncate(time.Second)
	return &session.Error{Code: session.CodeUnavailable, RetryAfter: wait,
		Message: provider + ": " + fmt.Sprintf("the GitHub API rate limit is used up until %s; Pokor will try again then",
			reset.UTC().Format("15:04 UTC")), Err: err}
}

func secondaryRateLimited(wait time.Duration, err error) error {
	return &session.Error{Code: session.CodeUnavailable, RetryAfter: wait,
		Message: provider + ": " + fmt.Sprintf("GitHub's secondary rate limit was hit (too many requests at once); Pokor will try again in %s", wait),
		Err:     err}
}
