package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/pokor/pokor/bots/discord"
	"github.com/pokor/pokor/session"
)

// defaultCommandsFile is where `pokor discord register` reads the command definitions.
const defaultCommandsFile = "manifests/discord/commands.json"

func newDiscordBot(cfg Config, svc *session.Service, log *slog.Logger) (*discord.Bot, error) {
	return discord.New(discord.Config{
		PublicKey:     cfg.Get("DISCORD_PUBLIC_KEY"),
		ApplicationID: cfg.Get("DISCORD_APPLICATION_ID"),
		BotToken:      cfg.Get("DISCORD_BOT_TOKEN"),
		APIURL:        cfg.Get("DISCORD_API_URL"),
		BaseURL:       cfg.Get("POKOR_BASE_URL"),
		Service:       svc,
		Logger:        log,
	})
}

const discordUsage = `usage: pokor discord register [--guild ID] [--file manifests/discord/commands.json]

Bulk-overwrites the application's slash commands with the definitions in the file, globally or
in one server (--guild, handy while testing). Needs DISCORD_APPLICATION_ID and DISCORD_BOT_TOKEN.`

// discordCmd runs `pokor discord register`.
func discordCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "register" {
		fmt.Fprintln(stderr, discordUsage)
		return errors.New("unknown or missing discord command")
	}
	fs := flag.NewFlagSet("pokor discord register", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, discordUsage) }
	guild := fs.String("guild", "", "register in this server (guild id) only, instead of globally")
	file := fs.String("file", defaultCommandsFile, "command definitions (a JSON array of application commands)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, err := loadConfig(nil, getenv)
	if err != nil {
		return err
	}
	cmds, err := discord.LoadCommands(*file)
	if err != nil {
		if *file == defaultCommandsFile {
			err = fmt.Errorf("%w (run from the repository root, or pass --file)", err)
		}
		return err
	}
	bot, err := newDiscordBot(cfg, nil, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	out, err := bot.Register(ctx, *guild, cmds)
	if err != nil {
		return err
	}
	where := "globally"
	if *guild != "" {
		where = "in server " + *guild
	}
	fmt.Fprintf(stdout, "registered %d command(s) %s for application %s:\n", len(out), where, cfg.Get("DISCORD_APPLICATION_ID"))
	for _, c := range out {
		fmt.Fprintf(stdout, "  /%s  id %s\n", c.Name, c.ID)
	}
	return nil
}

// checkDiscord tests the bot token and the application: the bot user, the application it
// belongs to, and whether DISCORD_APPLICATION_ID, DISCORD_PUBLIC_KEY, the Interactions Endpoint
// URL and the /pokor command match it.
func checkDiscord(ctx context.Context, cfg Config, _ []string) (session.CheckReport, error) {
	check := session.CheckReport{Provider: "discord", Site: "discord.com", Facts: []session.Fact{}}
	if u := cfg.Get("DISCORD_API_URL"); u != "" {
		check.Site = u
	}
	add := func(name, text string, ok bool, value any) { check.Add(name, ok, text, value) }
	bot, err := newDiscordBot(cfg, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		add("configuration", err.Error(), false, nil)
		return check, err
	}
	id, err := bot.Identity(ctx)
	if err != nil {
		add("bot token", err.Error(), false, map[string]any{"valid": false})
		return check, err
	}
	check.Identity = id.BotName
	add("bot token", fmt.Sprintf("valid: bot %q (id %s)", id.BotName, id.BotID), true, map[string]any{"valid": true, "name": id.BotName, "id": id.BotID})

	appOK := true
	app := fmt.Sprintf("%q (id %s)", id.ApplicationName, id.ApplicationID)
	if want := cfg.Get("DISCORD_APPLICATION_ID"); want == "" {
		app += "; set DISCORD_APPLICATION_ID=" + id.ApplicationID
		appOK = false
	} else if want != id.ApplicationID {
		app += "; but DISCORD_APPLICATION_ID is " + want
		appOK = false
	}
	add("application", app, appOK, map[string]any{"name": id.ApplicationName, "id": id.ApplicationID, "matches": appOK})

	keyOK := strings.EqualFold(strings.TrimSpace(cfg.Get("DISCORD_PUBLIC_KEY")), id.VerifyKey)
	switch {
	case cfg.Get("DISCORD_PUBLIC_KEY") == "":
		add("public key", "DISCORD_PUBLIC_KEY is not set, so /discord/interactions is off; set it to "+id.VerifyKey, false,
			map[string]any{"set": false, "matches": false, "key": id.VerifyKey})
	case !keyOK:
		add("public key", "DISCORD_PUBLIC_KEY is not this application's public key ("+id.VerifyKey+")", false,
			map[string]any{"set": true, "matches": false, "key": id.VerifyKey})
	default:
		add("public key", "matches the application", true, map[string]any{"set": true, "matches": true, "key": id.VerifyKey})
	}

	// The endpoint and the command are advice: the bot works through a proxy at another URL,
	// and commands may be registered per server only.
	want := bot.InteractionsURL()
	switch id.InteractionsURL {
	case want:
		add("interactions endpoint", want, true, map[string]any{"url": id.InteractionsURL, "expected": want})
	case "":
		add("interactions endpoint", "not set; enter "+want+" in the Developer Portal (General Information)", false, map[string]any{"url": nil, "expected": want})
	default:
		add("interactions endpoint", id.InteractionsURL+" (POKOR_BASE_URL gives "+want+")", false, map[string]any{"url": id.InteractionsURL, "expected": want})
	}
	registered := false
	for _, name := range id.Commands {
		registered = registered || name == "pokor"
	}
	if registered {
		add("global /pokor command", "registered", true, true)
	} else {
		add("global /pokor command", "not registered globally; run pokor discord register (or --guild ID for one server)", false, false)
	}
	check.OK = appOK && keyOK
	return check, nil
}
