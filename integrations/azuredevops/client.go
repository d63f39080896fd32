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
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/pokor/pokor/integrations/httpx"
	"github.com/pokor/pokor/session"
)

// provider names this adapter in every error it returns, and is what people type: /pokor …
// from azure.
const provider = "azure"

// apiVersion is the REST version asked for: 7.0 is served by Azure DevOps Services and by
// Azure DevOps Server 2022 and later, with the payloads of the 7.x documentation.
const apiVersion = "7.0"

// Tuning values.
const (
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
	// HTTPClient sends the requests; nil uses a client with a 30-second timeout. It is copied,
	// never modified.
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
	api      *httpx.API // JSON requests
	patch    *httpx.API // JSON Patch requests (application/json-patch+json)
	org      string     // "https://dev.azure.com/fabrikam", no trailing slash
	site     string     // "dev.azure.com/fabrikam", for messages
	hasToken bool
	now      func() time.Time
	types    typeCache
}

var _ session.TrackerClient = (*Client)(nil)

// New returns a client for the organization described by cfg. It makes no request.
func New(cfg Config) (*Client, error) {
	raw := strings.TrimSpace(cfg.OrgURL)
	u, err := url.Parse(raw)
	if raw == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, httpx.Errorf(provider, session.CodeInvalid,
			"the organization URL %q is not an http(s) URL; use https://dev.azure.com/ORGANIZATION or your server's collection URL", raw)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	header := http.Header{}
	// A token pasted from a file often ends with a newline.
	token := strings.TrimSpace(cfg.Token)
	if token != "" {
		// PATs go as the password of basic auth with an empty user name, to this host only.
		header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(":"+token)))
	}
	hc := httpx.NewClient(cfg.HTTPClient, httpx.HeaderFor(u.Host, header))
	common := http.Header{
		"User-Agent": {"pokor"},
		// Without it a refused token gets a 203 with a sign-in page instead of a 401.
		"X-Tfs-Fedauthredirect": {"Suppress"},
	}
	patchHeader := common.Clone()
	patchHeader.Set("Content-Type", "application/json-patch+json")
	return &Client{
		api:   &httpx.API{Provider: provider, Base: u, HTTP: hc, Header: common},
		patch: &httpx.API{Provider: provider, Base: u, HTTP: hc, Header: patchHeader},
		org:   u.String(), site: u.Host + u.Path, hasToken: token != "", now: time.Now,
		types: typeCache{m: map[string]typeFields{}},
	}, nil
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

// request says what to send: a path under the organization ("Fabrikam/_apis/wit/wiql", its
// segments escaped), query parameters, and a JSON body.
type request struct {
	method    string
	path      string
	query     url.Values
	body      any
	jsonPatch bool   // the body is a JSON Patch document
	noVersion bool   // the endpoint takes no api-version
	what      string // "read work item 42", for messages
}

// call sends r and decodes a 2xx JSON answer into out.
func (c *Client) call(ctx context.Context, r request, out any) error {
	if !c.hasToken {
		return httpx.Errorf(provider, session.CodeForbidden, "could not %s: %s", r.what, missingCredentials)
	}
	q := url.Values{}
	for k, v := range r.query {
		q[k] = v
	}
	if !r.noVersion {
		q.Set("api-version", apiVersion)
	}
	api := c.api
	if r.jsonPatch {
		api = c.patch
	}
	resp, err := api.Do(ctx, r.method, r.path, q, r.body, r.what)
	if err != nil {
		return err
	}
	if !resp.OK() {
		return c.statusError(resp, r.what)
	}
	// Azure DevOps answers a refused token with 203 and an HTML sign-in page.
	if resp.Status == http.StatusNonAuthoritativeInfo ||
		(!strings.Contains(resp.Header.Get("Content-Type"), "json") && bytes.Contains(bytes.ToLower(resp.Body), []byte("<html"))) {
		return httpx.Errorf(provider, session.CodeForbidden,
			"could not %s: Azure DevOps answered with a sign-in page: the personal access token is invalid or expired", r.what)
	}
	return api.Decode(resp, out, r.what)
}

// statusError maps a non-2xx answer to a *session.Error whose code tells the write-back worker
// whether to retry.
func (c *Client) statusError(resp *httpx.Response, what string) error {
	var eb struct {
		Message string `json:"message"`
		TypeKey string `json:"typeKey"`
	}
	_ = json.Unmarshal(resp.Body, &eb)
	says := ""
	if m := strings.TrimSpace(eb.Message); m != "" {
		says = " (Azure DevOps says: " + m + ")"
	}
	var e *session.Error
	switch code := resp.Status; {
	case code == http.StatusUnauthorized:
		e = httpx.Errorf(provider, session.CodeForbidden,
			"could not %s: Azure DevOps refused the personal access token (401); it may be expired, revoked, or made for another organization", what)
	case code == http.StatusForbidden:
		e = httpx.Errorf(provider, session.CodeForbidden, "could not %s: the token is not allowed to (403); it needs the Work Items (Read & write) scope%s", what, says)
	case code == http.StatusNotFound:
		e = httpx.Errorf(provider, session.CodeNotFound, "could not %s: it does not exist or the token cannot see it (404)%s", what, says)
	case code == http.StatusTooManyRequests:
		wait, ok := httpx.RetryAfter(resp.Header, c.now())
		if !ok || wait <= 0 {
			wait = defaultRateLimitWait
		}
		e = httpx.RateLimited(provider, wait, "could not %s: Azure DevOps is rate limiting this token (429); Pokor will try again in %s", what, wait)
	case code == http.StatusConflict || code == http.StatusPreconditionFailed:
		// Another update of the same work item won the race; a later attempt reads it again.
		e = httpx.Errorf(provider, session.CodeUnavailable, "could not %s: the work item changed at the same time (%d); Pokor will try again", what, code)
	case httpx.Code(code) == session.CodeUnavailable:
		e = httpx.Errorf(provider, session.CodeUnavailable, "could not %s: Azure DevOps is unavailable (%d); try again later", what, code)
		if wait, ok := httpx.RetryAfter(resp.Header, c.now()); ok {
			e.RetryAfter = wait
		}
	default:
		if says == "" {
			says = fmt.Sprintf(" (Azure DevOps refused the request with status %d)", code)
		}
		e = httpx.Errorf(provider, httpx.Code(code), "could not %s%s", what, says)
	}
	e.Err = &apiError{Status: resp.Status, Message: eb.Message, TypeKey: eb.TypeKey}
	return e
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
