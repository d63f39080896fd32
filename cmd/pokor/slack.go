package main

import (
	"context"
	"errors"
	"strings"

	slackbot "github.com/pokor/pokor/bots/slack"
	"github.com/pokor/pokor/session"
)

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
