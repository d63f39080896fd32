package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/pokor/pokor/bots"
	"github.com/pokor/pokor/bots/mattermost"
	"github.com/pokor/pokor/session"
)

// openChats builds the bot of every chat platform the configuration turns on, mounts its
// endpoints and makes it report back to the sessions started from it.
func (m *Main) openChats() error {
	// Checked by the configuration already; the bots answer in it where the chat says nothing of
	// the user's language.
	lang, err := bots.ParseLanguage(m.Config.Get("POKOR_LANGUAGE"))
	if err != nil {
		return fmt.Errorf("configuration: POKOR_LANGUAGE: %w", err)
	}
	for _, p := range chatPlatforms() {
		if !p.Enabled(m.Config.Get) {
			continue
		}
		bot, err := p.New(bots.Deps{Get: m.Config.Get, BaseURL: m.Config.Get("POKOR_BASE_URL"), Service: m.Service, Store: m.Store, Logger: m.Log,
			HTTPClient: m.chatHTTP(), Language: lang})
		if err != nil {
			return err
		}
		bot.Mount(m.Web.Router())
		m.Chats[p.Name] = bots.Chat{Platform: p, Bot: bot, Language: lang}
		m.OnClose(bot.Close)
		paths := make([]string, 0, len(p.Endpoints))
		for _, e := range p.Endpoints {
			paths = append(paths, e.Path)
		}
		m.Log.Info(p.Label+" enabled", "endpoints", strings.Join(paths, " "), "posts", chatPosting(m.Config, p.Name))
	}
	return nil
}

// chatPosting says how a platform's bot posts summaries with this configuration.
func chatPosting(cfg Config, platform string) string {
	switch platform {
	case "slack":
		switch {
		case cfg.Get("SLACK_CLIENT_ID") != "" && cfg.Get("SLACK_BOT_TOKEN") != "":
			return "install flow at /slack/install, and SLACK_BOT_TOKEN for workspaces not installed"
		case cfg.Get("SLACK_CLIENT_ID") != "":
			return "install flow at /slack/install"
		case cfg.Get("SLACK_BOT_TOKEN") == "":
			return "commands only: summaries go through the reply link of /pokor for 30 minutes"
		}
		return "single workspace (SLACK_BOT_TOKEN)"
	case "discord":
		if cfg.Get("DISCORD_BOT_TOKEN") == "" {
			return "no DISCORD_BOT_TOKEN: summaries reach the channel only within 15 minutes of /pokor"
		}
	case "mattermost":
		if cfg.Get("MATTERMOST_URL") == "" || cfg.Get("MATTERMOST_BOT_TOKEN") == "" {
			return "no bot account (MATTERMOST_URL, MATTERMOST_BOT_TOKEN): summaries reach the channel only within 30 minutes of /pokor"
		}
	}
	return "as the bot"
}

// chatSettings are the settings of the chat platforms' descriptors, for the configuration table.
func chatSettings() []setting {
	var out []setting
	for _, p := range chatPlatforms() {
		for _, s := range p.Settings {
			out = append(out, setting{Env: s.Env, Default: s.Default, Help: s.Help, Secret: s.Secret})
		}
	}
	return out
}

// checkMattermost is `pokor check mattermost`: the slash command token, the server at
// MATTERMOST_URL and its version, and the bot account MATTERMOST_BOT_TOKEN belongs to.
func checkMattermost(ctx context.Context, cfg Config, _ []string) (session.CheckReport, error) {
	ch := session.CheckReport{Provider: "mattermost", Site: cfg.Get("MATTERMOST_URL"), Facts: []session.Fact{}}
	if n := len(strings.FieldsFunc(cfg.Get("MATTERMOST_COMMAND_TOKEN"), func(r rune) bool { return r == ',' })); n > 0 {
		ch.Add("slash command token", true, fmt.Sprintf("set (%d)", n), map[string]any{"set": true, "commands": n})
	} else {
		ch.Add("slash command token", false, "not set: /mattermost/commands is off until MATTERMOST_COMMAND_TOKEN is set", map[string]any{"set": false})
	}
	base := strings.TrimRight(cfg.Get("POKOR_BASE_URL"), "/")
	ch.Add("request URLs", true, "slash command "+base+mattermost.CommandsPath+", buttons "+base+mattermost.ActionsPath+
		" (Mattermost must reach both; list a private host in AllowedUntrustedInternalConnections)",
		map[string]any{"command": base + mattermost.CommandsPath, "actions": base + mattermost.ActionsPath})
	id, err := mattermost.Check(ctx, cfg.Get("MATTERMOST_URL"), cfg.Get("MATTERMOST_BOT_TOKEN"), nil)
	if id.Server != "" {
		ch.Site = id.Server
	}
	if id.Version != "" || (err == nil && id.Server != "") {
		ch.Add("server", true, "reachable, version "+orUnknown(id.Version), map[string]any{"url": id.Server, "version": id.Version})
	}
	if err != nil {
		ch.Add("bot account", false, strings.TrimPrefix(err.Error(), "mattermost: "), map[string]any{"valid": false})
		ch.Settle()
		return ch, err
	}
	ch.Identity = id.BotUser
	if id.IsBot {
		ch.Add("bot account", true, "@"+id.BotUser+" ("+id.BotUserID+")", map[string]any{"username": id.BotUser, "id": id.BotUserID, "is_bot": true})
	} else {
		ch.Add("bot account", false, "@"+id.BotUser+" is a person, not a bot account: create a bot account (Integrations > Bot Accounts) and use its token",
			map[string]any{"username": id.BotUser, "id": id.BotUserID, "is_bot": false})
	}
	ch.Settle()
	return ch, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
