package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/bwmarrin/discordgo"
)

// LoadCommands reads command definitions: a JSON array of application commands as Discord
// documents them (manifests/discord/commands.json).
func LoadCommands(path string) ([]*discordgo.ApplicationCommand, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("discord: reading the command definitions: %w", err)
	}
	var cmds []*discordgo.ApplicationCommand
	if err := json.Unmarshal(b, &cmds); err != nil {
		return nil, fmt.Errorf("discord: %s is not a JSON array of commands: %w", path, err)
	}
	if len(cmds) == 0 {
		return nil, fmt.Errorf("discord: %s defines no command", path)
	}
	for i, c := range cmds {
		if c == nil || c.Name == "" {
			return nil, fmt.Errorf("discord: command %d of %s has no name", i+1, path)
		}
	}
	return cmds, nil
}

// Register bulk-overwrites the application's commands with cmds, globally or, with guildID, in
// that guild only (useful while testing: guild commands change at once). Commands that exist
// but are not in cmds are deleted. It returns the commands as Discord registered them.
func (b *Bot) Register(ctx context.Context, guildID string, cmds []*discordgo.ApplicationCommand) ([]*discordgo.ApplicationCommand, error) {
	if err := b.needBot(); err != nil {
		return nil, err
	}
	if b.cfg.ApplicationID == "" {
		return nil, errors.New("discord: set DISCORD_APPLICATION_ID (General Information in the Developer Portal)")
	}
	out, err := b.api.ApplicationCommandBulkOverwrite(b.cfg.ApplicationID, guildID, cmds, discordgo.WithContext(ctx))
	if err != nil {
		return nil, apiError("registering commands", err)
	}
	return out, nil
}

// Identity is what the bot token says about the bot and its application.
type Identity struct {
	BotID   string `json:"bot_id"`
	BotName string `json:"bot_name"`
	// ApplicationID and ApplicationName are the application the token belongs to.
	ApplicationID   string `json:"application_id"`
	ApplicationName string `json:"application_name"`
	// VerifyKey is the application's public key, to compare with DISCORD_PUBLIC_KEY.
	VerifyKey string `json:"verify_key"`
	// InteractionsURL is the Interactions Endpoint URL set in the Developer Portal.
	InteractionsURL string `json:"interactions_endpoint_url"`
	// Guilds is the approximate number of servers the app is in, -1 when not said.
	Guilds int `json:"guilds"`
	// Commands names the global commands registered.
	Commands []string `json:"commands"`
}

// currentApplication is the part of GET /applications/@me that Identity uses; discordgo's
// Application has no interactions_endpoint_url.
type currentApplication struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	VerifyKey       string `json:"verify_key"`
	InteractionsURL string `json:"interactions_endpoint_url"`
	Guilds          *int   `json:"approximate_guild_count"`
}

// Identity checks the bot token: the bot user (GET /users/@me), its application
// (GET /applications/@me) and the global commands registered.
func (b *Bot) Identity(ctx context.Context) (Identity, error) {
	id := Identity{Guilds: -1}
	if err := b.needBot(); err != nil {
		return id, err
	}
	me, err := b.api.User("@me", discordgo.WithContext(ctx))
	if err != nil {
		return id, apiError("checking the bot token", err)
	}
	id.BotID, id.BotName = me.ID, me.Username
	raw, err := b.api.RequestWithBucketID("GET", discordgo.EndpointApplication("@me"), nil, discordgo.EndpointApplication(""), discordgo.WithContext(ctx))
	if err != nil {
		return id, apiError("reading the application", err)
	}
	var app currentApplication
	if err := json.Unmarshal(raw, &app); err != nil {
		return id, fmt.Errorf("discord: reading the application: %w", err)
	}
	id.ApplicationID, id.ApplicationName, id.VerifyKey, id.InteractionsURL = app.ID, app.Name, app.VerifyKey, app.InteractionsURL
	if app.Guilds != nil {
		id.Guilds = *app.Guilds
	}
	cmds, err := b.api.ApplicationCommands(app.ID, "", discordgo.WithContext(ctx))
	if err != nil {
		return id, apiError("listing the commands", err)
	}
	id.Commands = []string{}
	for _, c := range cmds {
		id.Commands = append(id.Commands, c.Name)
	}
	return id, nil
}

func (b *Bot) needBot() error {
	if b.api.Token == "" {
		return errors.New("discord: set DISCORD_BOT_TOKEN (Bot page of the Developer Portal)")
	}
	return nil
}

// InteractionsURL is the Interactions Endpoint URL to enter in the Developer Portal.
func (b *Bot) InteractionsURL() string {
	return strings.TrimRight(b.cfg.BaseURL, "/") + InteractionsPath
}
