package discord

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"
)

const manifest = "../../manifests/discord/commands.json"

// TestManifest checks the command definitions against Discord's documented limits, so that a
// bulk overwrite is not refused.
func TestManifest(t *testing.T) {
	cmds, err := LoadCommands(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if len(cmds) != 1 || cmds[0].Name != "pokor" || cmds[0].Type != discordgo.ChatApplicationCommand {
		t.Fatalf("commands = %+v, want the CHAT_INPUT /pokor", cmds)
	}
	name := regexp.MustCompile(`^[-_\p{Ll}\p{N}]{1,32}$`)
	c := cmds[0]
	total := len(c.Name) + len(c.Description)
	if !name.MatchString(c.Name) || len(c.Description) < 1 || len(c.Description) > 100 {
		t.Errorf("command name %q or description (%d characters) out of Discord's limits", c.Name, len(c.Description))
	}
	var got []string
	for _, o := range c.Options {
		got = append(got, o.Name)
		total += len(o.Name) + len(o.Description)
		if o.Type != discordgo.ApplicationCommandOptionString || !name.MatchString(o.Name) || len(o.Description) < 1 || len(o.Description) > 100 || o.Required {
			t.Errorf("option %+v: want an optional string option within Discord's limits", o)
		}
		for _, ch := range o.Choices {
			total += len(ch.Name) + len(ch.Value.(string))
		}
	}
	if want := []string{"title", "source", "query"}; !reflect.DeepEqual(got, want) {
		t.Errorf("options = %v, want %v", got, want)
	}
	var choices []any
	for _, ch := range c.Options[1].Choices {
		choices = append(choices, ch.Value)
	}
	if want := []any{"github", "jira", "notion", "gitlab", "azure"}; !reflect.DeepEqual(choices, want) {
		t.Errorf("source choices = %v, want %v", choices, want)
	}
	if total > 8000 {
		t.Errorf("the command is %d characters; Discord allows 8000", total)
	}
	if c.Contexts == nil || !reflect.DeepEqual(*c.Contexts, []discordgo.InteractionContextType{0, 1}) {
		t.Errorf("contexts = %v, want servers and DMs with the bot", c.Contexts)
	}
}

func TestLoadCommandsErrors(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"empty.json": "[]", "object.json": `{"name":"pokor"}`, "noname.json": `[{"description":"x"}]`} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadCommands(path); err == nil {
			t.Errorf("LoadCommands(%s) accepted %s", name, content)
		}
	}
	if _, err := LoadCommands(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("LoadCommands accepted a missing file")
	}
}

func TestRegister(t *testing.T) {
	cmds, err := LoadCommands(manifest)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		guild, path string
	}{
		{"", "/api/v10/applications/" + testAppID + "/commands"},
		{"123456789", "/api/v10/applications/" + testAppID + "/guilds/123456789/commands"},
	}
	for _, tt := range tests {
		t.Run("guild="+tt.guild, func(t *testing.T) {
			api := newFakeDiscord(t)
			bot, err := New(Config{ApplicationID: testAppID, BotToken: testBotToken, APIURL: api.URL + "/api"})
			if err != nil {
				t.Fatal(err)
			}
			out, err := bot.Register(t.Context(), tt.guild, cmds)
			if err != nil {
				t.Fatal(err)
			}
			if len(out) != 1 || out[0].ID == "" || out[0].Name != "pokor" {
				t.Fatalf("registered %+v", out)
			}
			reqs := api.requests()
			if len(reqs) != 1 || reqs[0].Method != "PUT" || reqs[0].Path != tt.path {
				t.Fatalf("requests = %v, want one PUT %s", reqs, tt.path)
			}
			r := reqs[0]
			if r.Auth != "Bot "+testBotToken || !strings.HasPrefix(r.ContentType, "application/json") || !strings.HasPrefix(r.UserAgent, "DiscordBot (") {
				t.Errorf("headers: Authorization %q, Content-Type %q, User-Agent %q", r.Auth, r.ContentType, r.UserAgent)
			}
			body, ok := r.Body.([]any)
			if !ok || len(body) != 1 {
				t.Fatalf("body = %v, want a JSON array of one command", r.Body)
			}
			if dig(t, body, 0, "name") != "pokor" || dig(t, body, 0, "type") != 1.0 || dig(t, body, 0, "description") == "" {
				t.Errorf("command = %v", body[0])
			}
			for i, name := range []string{"title", "source", "query"} {
				if dig(t, body, 0, "options", i, "name") != name || dig(t, body, 0, "options", i, "type") != 3.0 {
					t.Errorf("option %d = %v, want string option %s", i, dig(t, body, 0, "options", i), name)
				}
			}
			if got := dig(t, body, 0, "options", 1, "choices", 2); !reflect.DeepEqual(got, map[string]any{"name": "Notion", "value": "notion"}) {
				t.Errorf("third source choice = %v", got)
			}
			if got := dig(t, body, 0, "contexts"); !reflect.DeepEqual(got, []any{0.0, 1.0}) {
				t.Errorf("contexts = %v", got)
			}
		})
	}
}

func TestRegisterNeedsCredentials(t *testing.T) {
	api := newFakeDiscord(t)
	for _, cfg := range []Config{{ApplicationID: testAppID}, {BotToken: testBotToken}} {
		cfg.APIURL = api.URL
		bot, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bot.Register(t.Context(), "", []*discordgo.ApplicationCommand{{Name: "pokor"}}); err == nil || !strings.Contains(err.Error(), "DISCORD_") {
			t.Errorf("Register with %+v: err = %v, want one naming the missing setting", cfg, err)
		}
	}
	if reqs := api.requests(); len(reqs) != 0 {
		t.Fatalf("requests sent without credentials: %v", reqs)
	}
}

func TestIdentity(t *testing.T) {
	api := newFakeDiscord(t)
	bot, err := New(Config{BotToken: testBotToken, APIURL: api.URL + "/api"})
	if err != nil {
		t.Fatal(err)
	}
	id, err := bot.Identity(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := Identity{BotID: testAppID, BotName: "Pokor", ApplicationID: testAppID, ApplicationName: "Pokor",
		VerifyKey: "bc771b1cc44157fa037246818ee049f5b7e56b0e32f110f1be2e3073bafd9140", InteractionsURL: "https://poker.example.com/discord/interactions",
		Guilds: 3, Commands: []string{"pokor"}}
	if !reflect.DeepEqual(id, want) {
		t.Fatalf("Identity = %+v, want %+v", id, want)
	}

	bad, _ := New(Config{BotToken: "wrong", APIURL: api.URL + "/api"})
	if _, err := bad.Identity(t.Context()); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("Identity with a wrong token: err = %v, want a 401", err)
	}
}

// TestAPIURL checks where requests go for the forms of DISCORD_API_URL, and that discordgo's
// package-level endpoints stay as they were.
func TestAPIURL(t *testing.T) {
	tests := []struct{ suffix, want string }{
		{"/api", "/api/v10/users/@me"},
		{"/api/", "/api/v10/users/@me"},
		{"/api/v10", "/api/v10/users/@me"},
		{"/api/v9/", "/api/v10/users/@me"},
		{"", "/v10/users/@me"},
		{"/proxy/discord/api", "/proxy/discord/api/v10/users/@me"},
	}
	for _, tt := range tests {
		t.Run(tt.suffix, func(t *testing.T) {
			api := newFakeDiscord(t)
			bot, err := New(Config{BotToken: testBotToken, APIURL: api.URL + tt.suffix})
			if err != nil {
				t.Fatal(err)
			}
			_, _ = bot.api.User("@me", discordgo.WithContext(t.Context()))
			if reqs := api.requests(); len(reqs) != 1 || reqs[0].Path != tt.want {
				t.Fatalf("requests = %v, want GET %s", reqs, tt.want)
			}
		})
	}
	if discordgo.EndpointAPI != "https://discord.com/api/v9/" || discordgo.EndpointDiscord != "https://discord.com/" {
		t.Fatalf("discordgo's endpoints changed: %s, %s", discordgo.EndpointAPI, discordgo.EndpointDiscord)
	}
}
