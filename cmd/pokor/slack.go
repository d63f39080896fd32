package main

import (
	"context"
	"errors"
	"strings"

	slackbot "github.com/pokor/pokor/bots/slack"
	"github.com/pokor/pokor/integrations"
)

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
