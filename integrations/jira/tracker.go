package jira

import (
	"strings"

	"github.com/pokor/pokor/integrations/httpx"
	"github.com/pokor/pokor/session"
)

// Settings of the server-wide Jira defaults, and the credential fields of a session's
// connection.
const (
	envBaseURL      = "JIRA_BASE_URL"
	envEmail        = "JIRA_EMAIL"
	envAPIToken     = "JIRA_API_TOKEN"
	envAllowedHosts = "JIRA_ALLOWED_HOSTS"

	FieldBaseURL  = "base_url"
	FieldEmail    = "email"
	FieldAPIToken = "api_token"
	FieldPAT      = "pat"
)

// missingCredentials says where to set credentials when there are none.
const missingCredentials = "no Jira credentials: set JIRA_BASE_URL with JIRA_EMAIL and JIRA_API_TOKEN on the server, or enter the site, email and API token under Import → Connection to Jira in the room"

// Tracker describes Jira to Pokor: its query grammar, connection and options, and how to reach
// it. get reads the server's settings (JIRA_BASE_URL, JIRA_EMAIL, JIRA_API_TOKEN,
// JIRA_ALLOWED_HOSTS) when a client is built. Every client it builds shares one cache of
// story-points field decisions, so each site is inspected once.
func Tracker(get func(string) string) session.Tracker {
	decisions := NewDecisions()
	return session.Tracker{
		Name:  provider,
		Label: "Jira",
		Items: "Jira issues",
		Query: session.QueryGrammar{
			Syntax:  "JQL | PROJECT | board:ID",
			Example: "project = API AND sprint in openSprints()",
			Help:    "JQL, a project key (API: its issues in rank order) or a board (board:42: its issues in the board's order, written back with the board's estimation field)",
			Summary: "import by JQL (or a project key, or `board:42`)",
		},
		Credentials: []session.Field{
			{Key: FieldBaseURL, Label: "Site", Type: "url", Placeholder: "https://your-domain.atlassian.net", Env: envBaseURL},
			{Key: FieldEmail, Label: "Email (Jira Cloud)", Type: "email", Env: envEmail},
			{Key: FieldAPIToken, Label: "API token (Cloud) or personal access token (Data Center)", Type: "password", Env: envAPIToken},
		},
		Options: []session.Option{
			{Key: OptionField, Label: "Story points field id", Placeholder: "customfield_10016",
				Help: "write to this field instead of the one Pokor finds; empty: found automatically (see pokor check jira --issue KEY)"},
			{Key: OptionValues, Label: "Word cards as values", Placeholder: "XS=1,S=2,M=3,L=5,XL=8",
				Help: "how word cards are written: a number for a number field (XS=1) or an option for a select field (M=Medium); empty: a select field takes the option named like the card, a number field 1, 2, 3, 5, 8… by position"},
			{Key: OptionCommentFallback, Label: "Add a comment when no field can be written", Checkbox: true,
				Help: "write the estimate as a comment when no field is on the issue's edit screen, instead of failing"},
		},
		Check: session.CheckTarget{Target: "issue key (API-12), project key (API) or board (board:42)", Flags: []string{"issue", "project"}},
		Settings: []session.Setting{
			{Env: envBaseURL, Help: "default Jira site, e.g. https://acme.atlassian.net"},
			{Env: envEmail, Help: "Jira Cloud account email (with JIRA_API_TOKEN)"},
			{Env: envAPIToken, Help: "Jira Cloud API token, or a Data Center personal access token when JIRA_EMAIL is unset", Secret: true},
			{Env: envAllowedHosts, Help: "comma-separated Jira hosts a session may name although they are on a private network (an intranet Jira)"},
		},
		Docs:       "docs/trackers.md#jira",
		WritesBack: true,
		Open: func(creds session.Credentials) (session.TrackerClient, error) {
			def := Config{BaseURL: get(envBaseURL), Email: get(envEmail), APIToken: get(envAPIToken)}
			cfg, has := mergeConfig(def, creds)
			if !has {
				return nil, httpx.Errorf(provider, session.CodeForbidden, "%s", missingCredentials)
			}
			cfg.Decisions = decisions
			if !sameURL(cfg.BaseURL, def.BaseURL) {
				// A site typed by an organizer must be public, unless the admin allowed its host.
				allowed := strings.FieldsFunc(get(envAllowedHosts), func(r rune) bool { return r == ',' || r == ' ' })
				guarded, err := httpx.PublicSite(provider, cfg.BaseURL, allowed, envAllowedHosts)
				if err != nil {
					return nil, err
				}
				cfg.HTTPClient = guarded
			}
			return New(cfg)
		},
	}
}

// mergeConfig merges a session's Jira connection over the defaults. The site is taken field by
// field; the credentials as a whole (email with API token, or a personal access token), so that
// a session's token is never paired with the server's email. A session that names another site
// never inherits the server's credentials: they would be sent to that site. has reports a site
// with credentials.
func mergeConfig(d Config, creds session.Credentials) (cfg Config, has bool) {
	cfg = Config{BaseURL: d.BaseURL, HTTPClient: d.HTTPClient}
	site := strings.TrimSpace(creds[FieldBaseURL])
	sameSite := site == "" || sameURL(site, d.BaseURL)
	if site != "" {
		cfg.BaseURL = site
	}
	email, token, pat := strings.TrimSpace(creds[FieldEmail]), strings.TrimSpace(creds[FieldAPIToken]), strings.TrimSpace(creds[FieldPAT])
	switch {
	case email != "" || token != "" || pat != "":
		cfg.Email, cfg.APIToken, cfg.PAT = email, token, pat
	case sameSite:
		cfg.Email, cfg.APIToken, cfg.PAT = d.Email, d.APIToken, d.PAT
	}
	return cfg, strings.TrimSpace(cfg.BaseURL) != "" && (cfg.APIToken != "" || cfg.PAT != "")
}

// sameURL compares two site URLs the way a person would: case of the host, a trailing slash
// and surrounding spaces do not matter.
func sameURL(a, b string) bool {
	norm := func(s string) string { return strings.TrimRight(strings.ToLower(strings.TrimSpace(s)), "/") }
	return norm(a) == norm(b)
}
