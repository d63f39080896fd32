package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	slackbot "github.com/pokor/pokor/bots/slack"
	"github.com/pokor/pokor/integrations"
)

func init() {
	webHooks = append(webHooks, mountSlack)
	checkers["slack"] = checkSlack
}

// mountSlack serves the Slack app when SLACK_SIGNING_SECRET is set, and makes it the notifier of
// sessions started from Slack.
func mountSlack(_ context.Context, m *Main) error {
	if m.Config.Get("SLACK_SIGNING_SECRET") == "" {
		return nil
	}
	bot, err := slackbot.New(slackbot.Config{
		SigningSecret: m.Config.Get("SLACK_SIGNING_SECRET"),
		ClientID:      m.Config.Get("SLACK_CLIENT_ID"),
		ClientSecret:  m.Config.Get("SLACK_CLIENT_SECRET"),
		BotToken:      m.Config.Get("SLACK_BOT_TOKEN"),
		APIURL:        m.Config.Get("SLACK_API_URL"),
		BaseURL:       m.Config.Get("POKOR_BASE_URL"),
		Service:       m.Service,
		Installations: m.Store,
		Logger:        m.Log,
		HTTPClient:    tracedClient(&http.Client{Timeout: 10 * time.Second}, m.Tracing),
	})
	if err != nil {
		return err
	}
	bot.Mount(m.Web.Router())
	m.Notifiers["slack"] = bot
	m.OnClose(bot.Close)
	mode := "single workspace (SLACK_BOT_TOKEN)"
	switch {
	case m.Config.Get("SLACK_CLIENT_ID") != "" && m.Config.Get("SLACK_BOT_TOKEN") != "":
		mode = "install flow at /slack/install, and SLACK_BOT_TOKEN for workspaces not installed"
	case m.Config.Get("SLACK_CLIENT_ID") != "":
		mode = "install flow at /slack/install"
	case m.Config.Get("SLACK_BOT_TOKEN") == "":
		mode = "commands only: summaries go through the reply link of /pokor for 30 minutes"
	}
	m.Log.Info("slack app enabled", "mode", mode)
	return nil
}

// checkSlack calls auth.test with SLACK_BOT_TOKEN and reports the workspace and the bot user.
func checkSlack(ctx context.Context, cfg Config, _ []string) (integrations.Check, error) {
	ch := integrations.Check{Provider: "slack", Facts: []integrations.Fact{}}
	add := func(name, value string, ok bool) {
		ch.Facts = append(ch.Facts, integrations.Fact{Name: name, Value: value, OK: ok})
	}
	if cfg.Get("SLACK_SIGNING_SECRET") != "" {
		add("signing secret", "set", true)
	} else {
		add("signing secret", "not set: /pokor is refused until SLACK_SIGNING_SECRET is set", false)
	}
	if cfg.Get("SLACK_CLIENT_ID") != "" && cfg.Get("SLACK_CLIENT_SECRET") != "" {
		add("install flow", "enabled at "+strings.TrimRight(cfg.Get("POKOR_BASE_URL"), "/")+"/slack/install", true)
	}
	token := cfg.Get("SLACK_BOT_TOKEN")
	if token == "" {
		add("bot token", "not set: SLACK_BOT_TOKEN is needed to check the workspace (installed workspaces keep their own tokens)", false)
		return ch, errors.New("slack: set SLACK_BOT_TOKEN to check a workspace")
	}
	id, err := slackbot.CheckToken(ctx, token, cfg.Get("SLACK_API_URL"), nil)
	if err != nil {
		add("bot token", strings.TrimPrefix(err.Error(), "slack: "), false)
		return ch, err
	}
	ch.Identity = id.BotUser
	ch.Site = id.WorkspaceURL
	add("workspace", id.Workspace+" ("+id.TeamID+")", true)
	add("bot user", id.BotUser+" ("+id.BotUserID+")", true)
	ch.OK = true
	for _, f := range ch.Facts {
		ch.OK = ch.OK && f.OK
	}
	ch.Detail = id
	return ch, nil
}
