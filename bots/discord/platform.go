package discord

import "github.com/pokor/pokor/bots"

// Platform describes Pokor's Discord bot to the rest of Pokor.
var Platform = bots.Platform{
	Name:  "discord",
	Label: "Discord",
	Docs:  "docs/discord.md",
	Settings: []bots.Setting{
		{Env: "DISCORD_PUBLIC_KEY", Help: "Discord application public key (hex); enables /discord/interactions"},
		{Env: "DISCORD_APPLICATION_ID", Help: "Discord application id"},
		{Env: "DISCORD_BOT_TOKEN", Help: "Discord bot token (summaries to the channel, direct messages, pokor discord register)", Secret: true},
		{Env: "DISCORD_API_URL", Help: "Discord API base URL (tests, proxies)"},
	},
	Endpoints: []bots.Endpoint{
		{Method: "POST", Path: InteractionsPath, What: "the /pokor command and the buttons of Pokor's messages"},
	},
	Verify: "Ed25519 signature of timestamp + raw body under DISCORD_PUBLIC_KEY",
	Answer: "an ephemeral interaction response within 3 s; an import defers it and edits it in when done",
	Markup: Markup,
	New: func(d bots.Deps) (bots.Bot, error) {
		b, err := New(Config{
			PublicKey:     d.Get("DISCORD_PUBLIC_KEY"),
			ApplicationID: d.Get("DISCORD_APPLICATION_ID"),
			BotToken:      d.Get("DISCORD_BOT_TOKEN"),
			APIURL:        d.Get("DISCORD_API_URL"),
			BaseURL:       d.BaseURL,
			Service:       d.Service,
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

// Markup is Discord's Markdown; 2000 characters is the most a message's content holds.
// allowed_mentions, set on every message, keeps names and titles from pinging anyone.
var Markup = bots.Markdown(maxContent, nil)
