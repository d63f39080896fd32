package discord

import (
	"strings"
	"testing"

	"github.com/pokor/pokor/bots"
)

// germanCommand is /pokor from a person whose Discord is in German, on a server whose primary
// language is guildLocale.
func germanCommand(t *testing.T, options map[string]string, guildLocale string) map[string]any {
	t.Helper()
	in := command(t, options, false)
	in["locale"], in["guild_locale"] = "de", guildLocale
	return in
}

// TestGermanLocale: the interaction's locale picks the language of what only its person sees
// (the organizer link message, the help, failures); guild_locale that of what the channel reads
// (the invitation, the summaries), with German numbers.
func TestGermanLocale(t *testing.T) {
	e := newEnv(t, envOptions{botToken: testBotToken})

	t.Run("organizer link message", func(t *testing.T) {
		out := e.interact(t, germanCommand(t, map[string]string{"title": "Sprint 42"}, "en-US"))
		want := "**Sprint 42** ist bereit.\nDer Button **Zum Moderieren beitreten** ist nur für dich und gilt 24 Stunden. " +
			"**Kanal einladen** postet einen Beitrittslink für alle hier."
		if c := dig(t, out, "data", "content"); c != want {
			t.Errorf("content = %q, want %q", c, want)
		}
		if l := dig(t, out, "data", "components", 0, "components", 0, "label"); l != "Zum Moderieren beitreten" {
			t.Errorf("join button %q", l)
		}
		if l := dig(t, out, "data", "components", 0, "components", 1, "label"); l != "Kanal einladen" {
			t.Errorf("invite button %q", l)
		}
		// The server is in English: the invitation is for everyone there.
		inv := e.interact(t, invite(t, dig(t, out, "data", "components", 0, "components", 1, "custom_id").(string)))
		if c := dig(t, inv, "data", "content").(string); !strings.HasPrefix(c, "<@"+testUser+"> invites you to estimate **Sprint 42**") {
			t.Errorf("invitation on an English server: %q", c)
		}
	})

	t.Run("help and mistakes", func(t *testing.T) {
		out := e.interact(t, germanCommand(t, map[string]string{"title": "Sprint", "source": "gitlab", "query": "x"}, "de"))
		c := dig(t, out, "data", "content").(string)
		for _, want := range []string{"⚠️ unbekannte Quelle \"gitlab\": nimm github, jira oder notion", "Fülle in Discord die Optionen von `/pokor` aus",
			"`/pokor help` diese Hilfe"} {
			if !strings.Contains(c, want) {
				t.Errorf("help lacks %q:\n%s", want, c)
			}
		}
	})

	t.Run("failure", func(t *testing.T) {
		in := germanCommand(t, map[string]string{"title": "Sprint 42", "source": "github", "query": "acme/missing"}, "de")
		e.interact(t, in)
		path := "/api/v10/webhooks/" + testAppID + "/" + in["token"].(string) + "/messages/@original"
		edit := e.api.waitFor(t, "the edit", func(r apiRequest) bool { return r.Method == "PATCH" && r.Path == path })
		want := "⚠️ Storys aus github konnten nicht in **Sprint 42** importiert werden: github: repository acme/missing not found, " +
			"or the token cannot see it. Du kannst auch im Raum importieren."
		if c := dig(t, edit.Body, "content").(string); !strings.Contains(c, want) || !strings.HasPrefix(c, "**Sprint 42** ist bereit.") {
			t.Errorf("edited content %q, want %q", c, want)
		}
		gone := e.interact(t, map[string]any(withLocale(invite(t, invitePrefix+"nosuchsession"), "de")))
		if c := dig(t, gone, "data", "content"); c != "⚠️ Diese Sitzung gibt es nicht mehr. Führe `/pokor` aus, um eine neue zu starten." {
			t.Errorf("unknown session: %q", c)
		}
	})

	t.Run("summary with a decimal comma", func(t *testing.T) {
		// An English-speaking organizer on a German server: their answer is English, the
		// channel's summaries German.
		in := command(t, map[string]string{"title": "Sprint 42"}, false)
		in["locale"], in["guild_locale"] = "en-US", "de"
		out := e.interact(t, in)
		if c := dig(t, out, "data", "content").(string); !strings.HasPrefix(c, "**Sprint 42** is ready.") {
			t.Fatalf("the organizer's answer: %q", c)
		}
		room := e.organizer(t, dig(t, out, "data", "components", 0, "components", 0, "url").(string))
		stories := room.do(t, "POST", "/stories", map[string]any{"stories": []any{
			map[string]any{"title": "Login page"}, map[string]any{"title": "Sign-up form"}, map[string]any{"title": "Later"},
		}}).([]any)
		// The organizers may settle on a value off the deck ("½" after a vote of 1).
		for i, card := range []string{"5", "½"} {
			sid := dig(t, stories, i, "id").(string)
			room.do(t, "POST", "/stories/"+sid+"/select", nil)
			room.do(t, "PUT", "/stories/"+sid+"/vote", map[string]any{"card": map[string]string{"5": "5", "½": "1"}[card]})
			room.do(t, "POST", "/stories/"+sid+"/reveal", nil)
			room.do(t, "POST", "/stories/"+sid+"/accept", map[string]any{"value": card})
		}
		channelPath := "/api/v10/channels/" + testChannel + "/messages"
		posted := func(what string) func(apiRequest) bool {
			return func(r apiRequest) bool {
				c, _ := dig(t, r.Body, "content").(string)
				return r.Method == "POST" && r.Path == channelPath && strings.Contains(c, what)
			}
		}
		msg := e.api.waitFor(t, "the accepted estimate", posted("„Login page“"))
		if c := dig(t, msg.Body, "content"); c != "**Sprint 42**: „Login page“ auf **5** geschätzt.\nStimmen: Mason 5" {
			t.Errorf("estimate: %q", c)
		}
		if l := dig(t, msg.Body, "components", 0, "components", 0, "label"); l != "Raum öffnen" {
			t.Errorf("button %q", l)
		}
		room.do(t, "POST", "/close", nil)
		end := e.api.waitFor(t, "the session summary", posted("ist beendet"))
		want := "**Sprint 42** ist beendet: 2 von 3 Storys geschätzt, insgesamt 5,5 Punkte.\n• „Login page“: **5**\n• „Sign-up form“: **½**\nDabei waren: "
		if c := dig(t, end.Body, "content").(string); !strings.HasPrefix(c, want) {
			t.Errorf("summary %q, want %q", c, want)
		}
	})
}

// TestDefaultGuildLocale: a server that is not a Community server always sends guild_locale
// en-US, whatever its members speak; its channel gets POKOR_LANGUAGE instead, and each person
// still their own language.
func TestDefaultGuildLocale(t *testing.T) {
	de, err := bots.ParseLanguage("de")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOptions{botToken: testBotToken, language: de})
	in := command(t, map[string]string{"title": "Sprint 42"}, false) // locale and guild_locale en-US
	out := e.interact(t, in)
	if c := dig(t, out, "data", "content").(string); !strings.HasPrefix(c, "**Sprint 42** is ready.") {
		t.Errorf("the en-US user's answer: %q", c)
	}
	inv := e.interact(t, invite(t, dig(t, out, "data", "components", 0, "components", 1, "custom_id").(string)))
	if c := dig(t, inv, "data", "content").(string); !strings.HasPrefix(c, "<@"+testUser+"> lädt dich ein, **Sprint 42** mit Planning Poker zu schätzen.") {
		t.Errorf("the channel's invitation: %q", c)
	}
	in = germanCommand(t, map[string]string{"title": "Sprint 43"}, "fr")
	out = e.interact(t, in)
	if c := dig(t, out, "data", "content").(string); !strings.HasPrefix(c, "**Sprint 43** ist bereit.") {
		t.Errorf("the German user's answer: %q", c)
	}
}

func withLocale(m map[string]any, locale string) map[string]any {
	m["locale"] = locale
	return m
}
