package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	slackbot "github.com/pokor/pokor/bots/slack"
	"github.com/pokor/pokor/session"
)

// mountSlack serves the Slack app when SLACK_SIGNING_SECRET is set, and makes it the notifier of
// sessions started from Slack.
func (m *Main) mountSlack() error {
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
func checkSlack(ctx context.Context, cfg Config, _ []string) (session.CheckReport, error) {
	ch := session.CheckReport{Provider: "slack", Facts: []session.Fact{}}
	if cfg.Get("SLACK_SIGNING_SECRET") != "" {
		ch.Add("signing secret", true, "set", map[string]any{"set": true})
	} else {
		ch.Add("signing secret", false, "not set: /pokor is refused until SLACK_SIGNING_SECRET is set", map[string]any{"set": false})
	}
	if cfg.Get("SLACK_CLIENT_ID") != "" && cfg.Get("SLACK_CLIENT_SECRET") != "" {
		u := strings.TrimRight(cfg.Get("POKOR_BASE_URL"), "/") + "/slack/install"
		ch.Add("install flow", true, "enabled at "+u, map[string]any{"enabled": true, "url": u})
	}
	token := cfg.Get("SLACK_BOT_TOKEN")
	if token == "" {
		ch.Add("bot token", false, "not set: SLACK_BOT_TOKEN is needed to check the workspace (installed workspaces keep their own tokens)", map[string]any{"set": false})
		return ch, errors.New("slack: set SLACK_BOT_TOKEN to check a workspace")
	}
	id, err := slackbot.CheckToken(ctx, token, cfg.Get("SLACK_API_URL"), nil)
	if err != nil {
		ch.Add("bot token", false, strings.TrimPrefix(err.Error(), "slack: "), map[string]any{"set": true, "valid": false})
		return ch, err
	}
	ch.Identity = id.BotUser
	ch.Site = id.WorkspaceURL
	ch.Add("workspace", true, id.Workspace+" ("+id.TeamID+")", map[string]any{"name": id.Workspace, "id": id.TeamID, "url": id.WorkspaceURL})
	ch.Add("bot user", true, id.BotUser+" ("+id.BotUserID+")", map[string]any{"name": id.BotUser, "id": id.BotUserID})
	ch.Settle()
	return ch, nil
}
