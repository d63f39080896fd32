// Jira Cloud REST API: https://developer.atlassian.com/cloud/jira/platform/rest/v3/intro/
// Jira Software (boards) REST API: https://developer.atlassian.com/cloud/jira/software/rest/intro/
// Jira Data Center REST API: https://developer.atlassian.com/server/jira/platform/rest/
//
// The client speaks plain net/http through integrations/httpx: go-jira was used only to build
// and send requests (its typed services lack what Pokor reads: board estimation, editmeta
// allowed values, the enhanced search), and it brought four dependencies for that.

// Package jira imports stories from Jira and writes accepted estimates back to them. It finds
// the story-points field of every site on its own (see Discover), explains why it chose it, and
// says in words what an admin must change when no field can be written.
//
// Credentials: Jira Cloud takes an account email and API token (basic auth); Jira Data Center
// takes a personal access token (bearer). Each session builds its own Client with New.
//
// Queries (List): JQL as typed; a bare project key "API" for project = "API" ORDER BY Rank ASC;
// "board:42" or "board 42" for the issues of a board's filter in the board's order. On Cloud
// the cursor is the enhanced search's nextPageToken.
//
// Write-back options (WriteBack.Options): "field" is the organizer's pick of field id,
// "comment_fallback"="true" adds a comment when no field can be written, "values" maps word
// cards to numbers ("XS=1,S=2,M=3") or to a select field's options ("M=Medium"). The story's
// write target (WriteBack.Target) carries the board it came from and the field written before;
// chooseWrite (sink.go) decides from them. How cards become numbers is documented on
// estimatePoints: numbers as they are, "?" and "☕" refused, word decks by position onto 1, 2,
// 3, 5, 8, ... (T-shirt XS..XL → 1, 2, 3, 5, 8), anything else refused rather than guessed; a
// select field takes the option named like the card.
package jira

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/pokor/pokor/integrations/httpx"
	"github.com/pokor/pokor/session"
)

const provider = "jira"

// Tuning values. Fields and screens change when an admin edits them, which is rare; a failed
// write drops the cached decision at once, so these only bound how long a fixed screen stays
// unnoticed by successful paths.
const (
	fieldsTTL   = 10 * time.Minute
	decisionTTL = time.Hour
	// pageSize is the number of issues asked per search page; 50 is Jira's default and keeps
	// pages fast on sites with many custom fields.
	pageSize = 50
	// maxRemembered bounds the per-client memo of where imported issues came from.
	maxRemembered = 10000
)

// The client is a tracker adapter of the domain's write-back and import.
var (
	_ session.StorySource  = (*Client)(nil)
	_ session.EstimateSink = (*Client)(nil)
)

// Config says which Jira site to talk to and as whom. Give Email and APIToken for Jira Cloud
// (basic auth), or PAT for Jira Data Center (bearer). An APIToken without Email is taken as a
// Data Center personal access token, as the JIRA_API_TOKEN variable documents.
type Config struct {
	// BaseURL is the site, e.g. "https://acme.atlassian.net" or "https://jira.example.com/jira".
	BaseURL string `json:"base_url"`
	// Email is the Atlassian account of a Jira Cloud API token.
	Email string `json:"email,omitempty"`
	// APIToken is the Jira Cloud API token; never serialized.
	APIToken string `json:"-"`
	// PAT is a Jira Data Center personal access token; never serialized.
	PAT string `json:"-"`
	// HTTPClient sends the requests; nil uses a client with a 30 second timeout. It is copied,
	// never modified.
	HTTPClient *http.Client `json:"-"`
	// Decisions caches story-points field decisions and organizer choices. Share one across the
	// per-session clients so each site is inspected once; nil gives the client its own.
	Decisions *Decisions `json:"-"`
}

// String describes the configuration without its secrets, so logging a Config is safe.
func (c Config) String() string {
	auth := "no credentials"
	switch {
	case c.Email != "" && c.APIToken != "":
		auth = "API token of " + c.Email
	case c.PAT != "" || c.APIToken != "":
		auth = "personal access token"
	}
	return fmt.Sprintf("jira.Config{BaseURL: %q, %s}", c.BaseURL, auth)
}

// GoString keeps %#v from printing the secrets.
func (c Config) GoString() string { return c.String() }

// LogValue keeps log/slog from printing the secrets.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Client talks to one Jira site with one set of credentials. It is safe for concurrent use.
type Client struct {
	api  *httpx.API
	base *url.URL
	// site identifies the site in cache keys: scheme, host and path, without a trailing slash.
	site string
	// cloud selects the Cloud endpoints (enhanced search, ADF descriptions); Data Center keeps
	// the v2 search with startAt paging because it has no /search/jql.
	cloud bool
	// credentials names the kind of credentials in messages, never their value.
	credentials string
	decisions   *Decisions
	now         func() time.Time

	mu       sync.Mutex
	fields   []fieldInfo
	fieldsAt time.Time
	boards   map[int]boardConfig
	projects map[string]projectInfo
	issues   map[string]issueScope
}

// New returns a client for the site and credentials in cfg. It makes no request; use Check to
// test the connection. It returns an *session.Error of CodeForbidden when credentials are
// missing and CodeInvalid when the base URL cannot be used.
func New(cfg Config) (*Client, error) {
	base, err := parseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	var header, credentials string
	basic := false
	switch {
	case cfg.Email != "" && cfg.APIToken != "" && cfg.PAT != "":
		return nil, httpx.Errorf(provider, session.CodeInvalid,
			"give either an email with an API token (Jira Cloud) or a personal access token (Data Center), not both")
	case cfg.Email != "" && cfg.APIToken != "":
		header = "Basic " + base64.StdEncoding.EncodeToString([]byte(cfg.Email+":"+cfg.APIToken))
		credentials = "API token"
		basic = true
	case cfg.Email != "" && cfg.PAT == "":
		return nil, httpx.Errorf(provider, session.CodeForbidden,
			"an API token is missing for %s: create one at https://id.atlassian.com/manage-profile/security/api-tokens", cfg.Email)
	case cfg.PAT != "" || cfg.APIToken != "":
		token := cfg.PAT
		if token == "" {
			token = cfg.APIToken
		}
		header = "Bearer " + token
		credentials = "personal access token"
	default:
		return nil, httpx.Errorf(provider, session.CodeForbidden,
			"no credentials: set JIRA_EMAIL and JIRA_API_TOKEN (Jira Cloud) or a personal access token (Jira Data Center)")
	}

	hc := httpx.NewClient(cfg.HTTPClient, httpx.HeaderFor(base.Host, http.Header{"Authorization": {header}}))
	decisions := cfg.Decisions
	if decisions == nil {
		decisions = NewDecisions()
	}
	host := strings.ToLower(base.Hostname())
	return &Client{
		api:         &httpx.API{Provider: provider, Base: base, HTTP: hc},
		base:        base,
		site:        strings.TrimSuffix(base.String(), "/"),
		cloud:       basic || strings.HasSuffix(host, ".atlassian.net") || host == "api.atlassian.com",
		credentials: credentials,
		decisions:   decisions,
		now:         time.Now,
		boards:      map[int]boardConfig{},
		projects:    map[string]projectInfo{},
		issues:      map[string]issueScope{},
	}, nil
}

// parseBaseURL checks that raw is an absolute http(s) URL without credentials or query.
func parseBaseURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, httpx.Errorf(provider, session.CodeInvalid,
			"no site: set JIRA_BASE_URL, e.g. https://your-domain.atlassian.net")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, httpx.Errorf(provider, session.CodeInvalid,
			"base URL %q is not an http(s) address such as https://your-domain.atlassian.net", raw)
	}
	// Credentials in the URL would end up in error messages and logs; refuse them.
	if u.User != nil {
		return nil, httpx.Errorf(provider, session.CodeInvalid,
			"the base URL must not carry credentials; give them as the email and token instead")
	}
	u.RawQuery, u.Fragment = "", ""
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// Site returns the site the client talks to, e.g. "https://acme.atlassian.net".
func (c *Client) Site() string { return c.site }

// browseURL is the address of an issue in Jira's web interface.
func (c *Client) browseURL(key string) string { return c.site + "/browse/" + key }

// call sends one request and decodes a JSON answer into out. path is relative to the base
// URL, which keeps its path (a Data Center context path such as /jira). what names the
// operation in error messages ("read issue API-12"). Every failure is a *session.Error whose
// code says whether to retry.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, body, out any, what string) error {
	resp, err := c.api.Do(ctx, method, path, query, body, what)
	if err != nil {
		return err
	}
	if !resp.OK() {
		return statusError(resp, what, c.credentials)
	}
	return c.api.Decode(resp, out, what)
}
