package github

import (
	"strings"

	"github.com/pokor/pokor/session"
)

// Settings of the server-wide GitHub defaults, and the credential field of a session's
// connection.
const (
	envToken  = "GITHUB_TOKEN"
	envAPIURL = "GITHUB_API_URL"
	// FieldToken is the session connection's token; it replaces GITHUB_TOKEN, never the server.
	FieldToken = "token"
)

// missingToken says where to set a token, for the errors of a client that has none.
const missingToken = "no GitHub token: set GITHUB_TOKEN on the server, or add a token under Import → Connection to GitHub in the room"

// Tracker describes GitHub to Pokor: its query grammar, connection and options, and how to
// reach it. get reads the server's settings (GITHUB_TOKEN, GITHUB_API_URL) when a client is
// built; a session's token replaces GITHUB_TOKEN, and without any token public repositories can
// still be listed and checked.
func Tracker(get func(string) string) session.Tracker {
	return session.Tracker{
		Name:  provider,
		Label: "GitHub",
		Items: "GitHub issues",
		Query: session.QueryGrammar{
			Syntax:  `OWNER/REPO [label:NAME]... [milestone:"Title or number"] [assignee:LOGIN] [state:open|closed|all]`,
			Example: `acme/api label:ready milestone:"v2"`,
			Help: `OWNER/REPO [label:NAME]… [milestone:"Title or number"] [assignee:LOGIN] [state:open|closed|all]; ` +
				`several labels must all match, the state is open unless given, pull requests are left out`,
			Summary: "import GitHub issues",
		},
		Credentials: []session.Field{
			{Key: FieldToken, Label: "Token (fine-grained, Issues: read and write)", Type: "password", Env: envToken},
		},
		Options: []session.Option{
			{Key: OptionMode, Label: "Write back", Help: "what Pokor writes on the issue: a label and a comment, the label only, or the comment only",
				Choices: []session.OptionChoice{{Value: ModeLabelComment, Label: "label and comment"}, {Value: ModeLabel, Label: "label only"}, {Value: ModeComment, Label: "comment only"}}},
			{Key: OptionLabelPrefix, Label: "Label prefix", Help: `starts every estimate label; "sp: " gives "sp: 5"`, Placeholder: DefaultLabelPrefix},
		},
		Check:      session.CheckTarget{Target: "OWNER/REPO", Flags: []string{"repo"}},
		Settings:   []session.Setting{{Env: envToken, Help: "default GitHub credentials", Secret: true}, {Env: envAPIURL, Help: "GitHub API base URL (GitHub Enterprise Server: https://HOST/api/v3/)"}},
		Docs:       "docs/trackers.md#github",
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
