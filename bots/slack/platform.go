package slack

import (
	"strings"

	"github.com/pokor/pokor/bots"
)

// Platform describes Pokor's Slack app to the rest of Pokor.
var Platform = bots.Platform{
	Name:  "slack",
	Label: "Slack",
	Docs:  "docs/slack.md",
	Settings: []bots.Setting{
		{Env: "SLACK_SIGNING_SECRET", Help: "Slack app signing secret; enables /slack/*", Secret: true},
		{Env: "SLACK_CLIENT_ID", Help: "Slack app client id (multi-workspace install)"},
		{Env: "SLACK_CLIENT_SECRET", Help: "Slack app client secret", Secret: true},
		{Env: "SLACK_BOT_TOKEN", Help: "bot token for a single workspace without the install flow", Secret: true},
		{Env: "SLACK_API_URL", Help: "Slack Web API base URL (tests, proxies)", Default: ""},
	},
	Endpoints: []bots.Endpoint{
		{Method: "POST", Path: "/slack/commands", What: "the /pokor slash command"},
		{Method: "POST", Path: "/slack/interactions", What: "the buttons of Pokor's messages"},
		{Method: "GET", Path: "/slack/install", What: "the OAuth v2 install into a workspace"},
		{Method: "GET", Path: "/slack/oauth/callback", What: "the end of the install"},
	},
	Verify: "v0 signature: HMAC-SHA256 of the raw body under SLACK_SIGNING_SECRET, timestamp within 5 minutes",
	Answer: "an ephemeral message within 3 s; imports report afterwards through the command's response_url",
	Markup: Markup,
	New: func(d bots.Deps) (bots.Bot, error) {
		installs, _ := d.Store.(InstallationStore)
		b, err := New(Config{
			SigningSecret: d.Get("SLACK_SIGNING_SECRET"),
			ClientID:      d.Get("SLACK_CLIENT_ID"),
			ClientSecret:  d.Get("SLACK_CLIENT_SECRET"),
			BotToken:      d.Get("SLACK_BOT_TOKEN"),
			APIURL:        d.Get("SLACK_API_URL"),
			BaseURL:       d.BaseURL,
			Service:       d.Service,
			Installations: installs,
			Logger:        d.Logger,
			HTTPClient:    d.HTTPClient,
			Language:      d.Language,
		})
		if err != nil {
			return nil, err
		}
		return b, nil
	},
}

// Markup is Slack's mrkdwn (https://docs.slack.dev/messaging/formatting-message-text). 3000
// characters is the most a section block holds.
var Markup = bots.Markup{
	Escape: escape,
	Bold:   func(s string) string { return "*" + s + "*" },
	// "|" would end the URL part of Slack's <url|text> link.
	Link:  func(url, text string) string { return "<" + strings.ReplaceAll(url, "|", "%7C") + "|" + text + ">" },
	Code:  func(s string) string { return "`" + escape(strings.ReplaceAll(s, "`", "'")) + "`" },
	Warn:  ":warning:",
	Limit: 3000,
}
