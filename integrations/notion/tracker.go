package notion

import (
	"strings"

	"github.com/pokor/pokor/session"
)

// Settings of the server-wide Notion defaults, and the credential field of a session's
// connection.
const (
	envToken  = "NOTION_TOKEN"
	envAPIURL = "NOTION_API_URL"
	// FieldToken is the session connection's integration token; it replaces NOTION_TOKEN.
	FieldToken = "token"
	// OptionProperty names the property estimates are written to, instead of the one found.
	OptionProperty = "property"
)

// Tracker describes Notion to Pokor: its query grammar, connection and options, and how to
// reach it. get reads the server's settings (NOTION_TOKEN, NOTION_API_URL) when a client is
// built; a session's token replaces NOTION_TOKEN.
func Tracker(get func(string) string) session.Tracker {
	return session.Tracker{
		Name:  provider,
		Label: "Notion",
		Items: "Notion database",
		Query: session.QueryGrammar{
			Syntax:  "<database ID, URL or title> [Property=Value]...",
			Example: "Backlog [Status=Ready]",
			Help:    `<database ID, URL or title> [Property=Value]…, e.g. Backlog [Status=Ready] [Sprint:"Sprint 42"]; every filter must hold`,
			Summary: "import a Notion database",
		},
		Credentials: []session.Field{
			{Key: FieldToken, Label: "Integration token (ntn_… or secret_…)", Type: "password", Env: envToken},
		},
		Options: []session.Option{
			{Key: OptionProperty, Label: "Estimate property", Placeholder: "Story points",
				Help: "the Number or Select property estimates are written to; empty: chosen automatically"},
		},
		Check: session.CheckTarget{Target: "database ID, URL or title", Flags: []string{"database"}},
		Settings: []session.Setting{
			{Env: envToken, Help: "default Notion integration token", Secret: true},
			{Env: envAPIURL, Help: "Notion API base URL (tests, proxies)"},
		},
		Docs:       "docs/trackers.md#notion",
		WritesBack: true,
		Open: func(creds session.Credentials) (session.TrackerClient, error) {
			cfg := Config{Token: get(envToken), BaseURL: get(envAPIURL)}
			if t := strings.TrimSpace(creds[FieldToken]); t != "" {
				cfg.Token = t
			}
			return New(cfg)
		},
	}
}
