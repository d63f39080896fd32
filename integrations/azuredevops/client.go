// Azure DevOps REST API 7.x documentation: https://learn.microsoft.com/rest/api/azure/devops/
// (work item tracking: https://learn.microsoft.com/rest/api/azure/devops/wit/, WIQL syntax:
// https://learn.microsoft.com/azure/devops/boards/queries/wiql-syntax, rate limits:
// https://learn.microsoft.com/azure/devops/integrate/concepts/rate-limits).

// Package azuredevops imports Azure Boards work items as Pokor stories and writes accepted
// estimates back to the field the work item's type carries: Story Points (Agile), Effort
// (Scrum) or Size (CMMI), found from the type's fields rather than guessed from the process.
//
// It speaks plain REST with a personal access token. The official Go client
// (github.com/microsoft/azure-devops-go-api) was tried and left out: it is served only as a
// pseudo-version, builds its own http.Client for every area (no timeout or address guard of
// ours can be injected), makes two discovery round-trips (resource areas, OPTIONS _apis)
// before the first call, and drops the response headers of errors, so a 429's Retry-After is
// lost.
package azuredevops

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pokor/pokor/integrations"
)

// provider names this adapter in every error it returns.
const provider = "azure"

// apiVersion is the REST version asked for: 7.0 is served by Azure DevOps Services and by
// Azure DevOps Server 2022 and later, with the payloads of the 7.x documentation.
const apiVersion = "7.0"

// Tuning values.
const (
	defaultTimeout = 30 * time.Second
	// maxBody caps how much of a response is read, so a misbehaving proxy cannot exhaust memory.
	maxBody = 16 << 20
	// defaultRateLimitWait is the pause after a 429 that names no time.
	defaultRateLimitWait = time.Minute
	// typesTTL bounds how long a work item type's fields are remembered; a failed write drops
	// them at once.
	typesTTL = 10 * time.Minute
)

// Config says which organization to talk to and as whom.
type Config struct {
	// OrgURL is the organization, "https://dev.azure.com/fabrikam", or a collection of Azure
	// DevOps Server, "https://tfs.example.com/tfs/DefaultCollection".
	OrgURL string
	// Token is a personal access token with the Work Items (Read & write) scope.
	Token string
	// HTTPClient sends the requests; nil uses a client with a 30-second timeout.
	HTTPClient *http.Client
}

// String never shows the token, so a Config can be logged.
func (c Config) String() string {
	t := "unset"
	if c.Token != "" {
		t = "set"
	}
	return fmt.Sprintf("azuredevops.Config{OrgURL: %q, Token: %s}", c.OrgURL, t)
}

// Client is an Azure DevOps source and sink. It is safe for concurrent use.
type Client struct {
	org   string // "https://dev.azure.com/fabrikam", no trailing slash
	site  string // "dev.azure.com/fabrikam", for messages
	auth  string
	hc    *http.Client
	now   func() time.Time
	types typeCache
}

var (
	_ integrations.Source = (*Client)(nil)
	_ integrations.Sink   = (*Client)(nil)
)

// New returns a client for the organization described by cfg. It makes no request.
func New(cfg Config) (*Client, error) {
	raw := strings.TrimSpace(cfg.OrgURL)
	u, err := url.Parse(raw)
	if raw == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, integrations.Errorf(provider, integrations.KindInvalid,
			"the organization URL %q is not an http(s) URL; use https://dev.azure.com/ORGANIZATION or your server's collection URL", raw)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: defaultTimeout}
	}
	c := &Client{org: u.String(), site: u.Host + u.Path, hc: hc, now: time.Now, types: typeCache{m: map[string]typeFields{}}}
	// A token pasted from a file often ends with a newline.
	if t := strings.TrimSpace(cfg.Token); t != "" {
		// PATs go as the password of basic auth with an empty user name.
		c.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(":"+t))
	}
	return c, nil
}

// Site returns the organization checked, "dev.azure.com/fabrikam".
func (c *Client) Site() string { return c.site }

// apiError is the cause kept for an HTTP error answer: the status and Azure DevOps' message
// and type key ("RuleValidationException").
type apiError struct {
	Status  int
	Message string
	TypeKey string
}

func (e *apiError) Error() string { return fmt.Sprintf("HTTP %d %s", e.Status, e.TypeKey) }

func statusOf(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// request says what to send: a path under the organization ("Fabrikam/_apis/wit/wiql"),
// query parameters, and a JSON body with its content type.
type request struct {
	method      string
	path        string
	query       url.Values
	body        any
	contentType string
	noVersion   bool   // the endpoint takes no api-version
	what        string // "read work item 42", for messages
}

// call sends r and decodes a 2xx JSON answer into out.
func (c *Client) call(ctx context.Context, r request, out any) error {
	if c.auth == "" {
		return integrations.Errorf(provider, integrations.KindAuth,
			"could not %s: no personal access token is configured; set AZURE_DEVOPS_TOKEN", r.what)
	}
	q := url.Values{}
	for k, v := range r.query {
		q[k] = v
	}
	if !r.noVersion {
		q.Set("api-version", apiVersion)
	}
	target := c.org + "/" + r.path
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	var body io.Reader
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return integrations.Errorf(provider, integrations.KindInvalid, "could not %s: %v", r.what, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, body)
	if err != nil {
		return integrations.Errorf(provider, integrations.KindInvalid, "could not %s: %v", r.what, err)
	}
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "pokor")
	// Without it a refused token gets a 203 with a sign-in page instead of a 401.
	req.Header.Set("X-TFS-FedAuthRedirect", "Suppress")
	if r.body != nil {
		ct := r.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return c.networkError(ctx, err, r.what)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return c.networkError(ctx, err, r.what)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return c.statusError(resp, data, r.what)
	}
	if resp.StatusCode == http.StatusNonAuthoritativeInfo || !strings.Contains(resp.Header.Get("Content-Type"), "json") {
		// Azure DevOps answers a refused token with 203 and an HTML sign-in page.
		if resp.StatusCode == http.StatusNonAuthoritativeInfo || bytes.Contains(bytes.ToLower(data), []byte("<html")) {
			return integrations.Errorf(provider, integrations.KindAuth,
				"could not %s: Azure DevOps answered with a sign-in page: the personal access token is invalid or expired", r.what)
		}
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &integrations.Error{Provider: provider, Kind: integrations.KindUnavailable, Err: err,
			Message: fmt.Sprintf("could not %s: %s answered with something that is not Azure DevOps' JSON; check AZURE_DEVOPS_ORG_URL", r.what, c.site)}
	}
	return nil
}

// statusError maps a non-2xx answer to an *integrations.Error whose kind tells the write-back
// worker whether to retry.
func (c *Client) statusError(resp *http.Response, body []byte, what string) error {
	var eb struct {
		Message string `json:"message"`
		TypeKey string `json:"typeKey"`
	}
	_ = json.Unmarshal(body, &eb)
	cause := &apiError{Status: resp.StatusCode, Message: eb.Message, TypeKey: eb.TypeKey}
	says := ""
	if m := strings.TrimSpace(eb.Message); m != "" {
		says = " (Azure DevOps says: " + m + ")"
	}
	e := &integrations.Error{Provider: provider, Err: cause}
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized:
		e.Kind = integrations.KindAuth
		e.Message = fmt.Sprintf("could not %s: Azure DevOps refused the personal access token (401); it may be expired, revoked, or made for another organization", what)
	case code == http.StatusForbidden:
		e.Kind = integrations.KindPermission
		e.Message = fmt.Sprintf("could not %s: the token is not allowed to (403); it needs the Work Items (Read & write) scope%s", what, says)
	case code == http.StatusNotFound:
		e.Kind = integrations.KindNotFound
		e.Message = fmt.Sprintf("could not %s: it does not exist or the token cannot see it (404)%s", what, says)
	case code == http.StatusTooManyRequests:
		e.Kind = integrations.KindRateLimited
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), c.now())
		if e.RetryAfter <= 0 {
			e.RetryAfter = defaultRateLimitWait
		}
		e.Message = fmt.Sprintf("could not %s: Azure DevOps is rate limiting this token (429); Pokor will try again in %s", what, e.RetryAfter)
	case code == http.StatusConflict || code == http.StatusPreconditionFailed:
		// Another update of the same work item won the race; a later attempt reads it again.
		e.Kind = integrations.KindUnavailable
		e.Message = fmt.Sprintf("could not %s: the work item changed at the same time (%d); Pokor will try again", what, code)
	case code == http.StatusRequestTimeout || code >= 500:
		e.Kind = integrations.KindUnavailable
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), c.now())
		e.Message = fmt.Sprintf("could not %s: Azure DevOps is unavailable (%d); try again later", what, code)
	default:
		e.Kind = integrations.KindInvalid
		if says == "" {
			says = fmt.Sprintf(" (Azure DevOps refused the request with status %d)", code)
		}
		e.Message = "could not " + what + says
	}
	return e
}

func (c *Client) networkError(ctx context.Context, err error, what string) error {
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		return &integrations.Error{Provider: provider, Kind: integrations.KindUnavailable, Err: err,
			Message: fmt.Sprintf("could not %s: %s did not answer in time", what, c.site)}
	}
	var ue *url.Error
	var ne net.Error
	if errors.As(err, &ue) || errors.As(err, &ne) {
		cause := err
		if ue != nil {
			cause = ue.Err
		}
		return &integrations.Error{Provider: provider, Kind: integrations.KindUnavailable, Err: err,
			Message: fmt.Sprintf("could not %s: cannot reach %s: %v", what, c.site, cause)}
	}
	return &integrations.Error{Provider: provider, Kind: integrations.KindUnavailable, Err: err,
		Message: fmt.Sprintf("could not %s: the request to %s failed", what, c.site)}
}

// retryAfter reads a Retry-After header given in seconds or as an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now).Round(time.Second)
	}
	return 0
}

// typeCache remembers the fields of work item types, by project and type name.
type typeCache struct {
	mu sync.Mutex
	m  map[string]typeFields
}

type typeFields struct {
	fields []field
	at     time.Time
}

func typeKey(project, typ string) string {
	return strings.ToLower(project) + "\x00" + strings.ToLower(typ)
}
