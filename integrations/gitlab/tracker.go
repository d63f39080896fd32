package gitlab

import (
	"strings"

	"github.com/pokor/pokor/integrations/httpx"
	"github.com/pokor/pokor/session"
)

// Settings of the server-wide GitLab defaults, and the credential fields of a session's
// connection.
const (
	envURL          = "GITLAB_URL"
	envToken        = "GITLAB_TOKEN"
	envAllowedHosts = "GITLAB_ALLOWED_HOSTS"

	// FieldToken is the session connection's access token; it replaces GITLAB_TOKEN.
	FieldToken = "token"
	// FieldBaseURL is the session connection's instance; a session that names another instance
	// than GITLAB_URL never gets the server's token.
	FieldBaseURL = "base_url"
)

// missingToken says where to set a token, for a client that has none.

// Tracker describes GitLab to Pokor: its query grammar, connection and options, and how to
// reach it. get reads the server's settings (GITLAB_URL, GITLAB_TOKEN, GITLAB_ALLOWED_HOSTS)
// when a client is built.
func Tracker(get func(string) string) session.Tracker {
	return session.Tracker{
		Name:  provider,
		Label: "GitLab",
		Items: "GitLab issues",
		Query: session.QueryGrammar{
			Syntax:  QueryGrammar,
			Example: "acme/api label:ready",
			Help: `GROUP/PROJECT or GROUP [label:NAME]… [milestone:"Title"|none|any] [iteration:ID|"Title"|current|none|any] [state:opened|closed|all] [type:issue|incident|task] [search:"words"]; ` +
				`several labels must all match, the state is opened unless given, all pages are imported`,
			Summary: "import GitLab issues",
		},
		Credentials: []session.Field{
			{Key: FieldBaseURL, Label: "Instance (self-managed)", Type: "url", Placeholder: DefaultURL, Env: envURL},
			{Key: FieldToken, Label: "Access token (api scope)", Type: "password", Env: envToken},
		},
		Options: []session.Option{
			{Key: OptionMode, Label: "Write back", Help: "where the estimate goes: the issue weight where GitLab has weights, else the estimate label (auto); or always the label, the weight, a note, or a label or weight with a note",
				Choices: []session.OptionChoice{
					{Value: ModeAuto, Label: "weight where available, else label"},
					{Value: ModeLabel, Label: "label only"},
					{Value: ModeWeight, Label: "weight only"},
					{Value: ModeLabelNote, Label: "label and note"},
					{Value: ModeWeightNote, Label: "weight and note"},
					{Value: ModeNote, Label: "note only"},
				}},
			{Key: OptionLabelPrefix, Label: "Label prefix", Placeholder: DefaultLabelPrefix,
				Help: `starts every estimate label; "estimate::" gives the scoped label "estimate::5"`},
			{Key: OptionValues, Label: "Word cards as weights", Placeholder: "XS=1,S=2,M=3,L=5,XL=8",
				Help: "the weight of each word card; empty: word cards go to the label"},
		},
		Check: session.CheckTarget{Target: "project or group path (acme/api)", Flags: []string{"project", "group"}},
		Settings: []session.Setting{
			{Env: envURL, Help: "GitLab instance, e.g. https://gitlab.example.com (default https://gitlab.com)"},
			{Env: envToken, Help: "default GitLab access token (api scope)", Secret: true},
			{Env: envAllowedHosts, Help: "comma-separated GitLab hosts a session may name although they are on a private network (an intranet GitLab)"},
		},
		Docs:       "docs/trackers.md#gitlab",
		WritesBack: true,
		Open: func(creds session.Credentials) (session.TrackerClient, error) {
			cfg, err := mergeConfig(Config{BaseURL: get(envURL), Token: get(envToken)}, creds, get(envAllowedHosts))
			if err != nil {
				return nil, err
			}
			// Without a token public projects can still be listed; writes say where to set one.
			return New(cfg)
		},
	}
}

// mergeConfig merges a session's GitLab connection over the server's. A session that names
// another instance never gets the server's token, and that instance must be public unless the
// admin allowed its host (allowedHosts, comma-separated).
func mergeConfig(d Config, creds session.Credentials, allowedHosts string) (Config, error) {
	cfg := d
	def := d.BaseURL
	if strings.TrimSpace(def) == "" {
		def = DefaultURL
	}
	site := strings.TrimSpace(creds[FieldBaseURL])
	other := site != "" && !httpx.SameSite(site, def)
	if site != "" {
		cfg.BaseURL = site
	}
	switch t := strings.TrimSpace(creds[FieldToken]); {
	case t != "":
		cfg.Token = t
	case other:
		cfg.Token = ""
	}
	if other {
		allowed := httpx.AllowedHosts(allowedHosts)
		guarded, err := httpx.PublicSite(provider, cfg.BaseURL, allowed, envAllowedHosts)
		if err != nil {
			return Config{}, err
		}
		cfg.HTTPClient = guarded
	}
	return cfg, nil
}
