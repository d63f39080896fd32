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
	"github.com/pokor/pokor/integrations"
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
func checkDiscord(ctx context.Context, cfg Config, _ []string) (integrations.Check, error) {
	check := integrations.Check{Provider: "discord", Site: "discord.com", Facts: []integrations.Fact{}}
	if u := cfg.Get("DISCORD_API_URL"); u != "" {
		check.Site = u
	}
	add := func(name, value string, ok bool) {
		check.Facts = append(check.Facts, integrations.Fact{Name: name, Value: value, OK: ok})
	}
	bot, err := newDiscordBot(cfg, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		add("configuration", err.Error(), false)
		return check, err
	}
	id, err := bot.Identity(ctx)
	check.Detail = id
	if err != nil {
		add("bot token", err.Error(), false)
		return check, err
	}
	check.Identity = id.BotName
	add("bot token", fmt.Sprintf("valid: bot %q (id %s)", id.BotName, id.BotID), true)

	appOK := true
	app := fmt.Sprintf("%q (id %s)", id.ApplicationName, id.ApplicationID)
	if want := cfg.Get("DISCORD_APPLICATION_ID"); want == "" {
		app += "; set DISCORD_APPLICATION_ID=" + id.ApplicationID
		appOK = false
	} else if want != id.ApplicationID {
		app += "; but DISCORD_APPLICATION_ID is " + want
		appOK = false
	}
	add("application", app, appOK)

	keyOK := strings.EqualFold(strings.TrimSpace(cfg.Get("DISCORD_PUBLIC_KEY")), id.VerifyKey)
	switch {
	case cfg.Get("DISCORD_PUBLIC_KEY") == "":
		add("public key", "DISCORD_PUBLIC_KEY is not set, so /discord/interactions is off; set it to "+id.VerifyKey, false)
	case !keyOK:
		add("public key", "DISCORD_PUBLIC_KEY is not this application's public key ("+id.VerifyKey+")", false)
	default:
		add("public key", "matches the application", true)
	}

	// The endpoint and the command are advice: the bot works through a proxy at another URL,
	// and commands may be registered per server only.
	want := bot.InteractionsURL()
	switch id.InteractionsURL {
	case want:
		add("interactions endpoint", want, true)
	case "":
		add("interactions endpoint", "not set; enter "+want+" in the Developer Portal (General Information)", false)
	default:
		add("interactions endpoint", id.InteractionsURL+" (POKOR_BASE_URL gives "+want+")", false)
	}
	registered := false
	for _, name := range id.Commands {
		registered = registered || name == "pokor"
	}
	if registered {
		add("global /pokor command", "registered", true)
	} else {
		add("global /pokor command", "not registered globally; run pokor discord register (or --guild ID for one server)", false)
	}
	check.OK = appOK && keyOK
	return check, nil
}
