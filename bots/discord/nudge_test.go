package discord

import (
	"reflect"
	"strings"
	"testing"

	"github.com/pokor/pokor/bots"
	"github.com/pokor/pokor/session"
)

// TestNudge: a reminder to vote goes to the Discord user as a direct message from the bot (Create
// DM, then a message in that channel); a user who takes no direct messages is mentioned in the
// session's channel instead, pinging them alone.
func TestNudge(t *testing.T) {
	e := newEnv(t, envOptions{botToken: testBotToken})
	const closed = "80351110224678912"
	e.api.closedDMs[closed] = true
	n := session.Nudge{
		Session:     &session.Session{Title: "Sprint *42*", Origin: session.Origin{Platform: "discord", Team: testGuild, Channel: testChannel}},
		Story:       &session.Story{Title: "Log in with SSO"},
		Participant: &session.Participant{Name: "Bob", ChatID: "discord:" + testGuild + ":" + testUser},
		From:        "Olga",
		URL:         "https://poker.example.com/s/abc",
	}
	if err := nudger(e.bot).Nudge(t.Context(), n); err != nil {
		t.Fatal(err)
	}
	reqs := e.api.requests()
	if len(reqs) != 2 || reqs[0].String() != "POST /api/v10/users/@me/channels" || reqs[1].String() != "POST /api/v10/channels/9"+testUser+"/messages" {
		t.Fatalf("requests %v, want Create DM then a message in it", reqs)
	}
	if got := dig(t, reqs[0].Body, "recipient_id"); got != testUser {
		t.Errorf("DM opened with %v", got)
	}
	content, _ := dig(t, reqs[1].Body, "content").(string)
	if want := `Olga is waiting for your vote on “Log in with SSO” in **Sprint \*42\***.`; !strings.Contains(content, want) {
		t.Errorf("reminder %q, want %q", content, want)
	}
	if url := dig(t, reqs[1].Body, "components", 0, "components", 0, "url"); url != n.URL {
		t.Errorf("button links to %v", url)
	}

	n.Participant.ChatID = "discord:" + testGuild + ":" + closed
	if err := nudger(e.bot).Nudge(t.Context(), n); err != nil {
		t.Fatal(err)
	}
	reqs = e.api.requests()
	last := reqs[len(reqs)-1]
	if last.String() != "POST /api/v10/channels/"+testChannel+"/messages" {
		t.Fatalf("after a refused DM: %v", last)
	}
	content, _ = dig(t, last.Body, "content").(string)
	if !strings.HasPrefix(content, "<@"+closed+"> ") {
		t.Errorf("channel reminder %q does not mention the user", content)
	}
	if users := dig(t, last.Body, "allowed_mentions", "users"); !reflect.DeepEqual(users, []any{closed}) {
		t.Errorf("allowed_mentions.users %v, want only the user", users)
	}

	// Without a channel to fall back on, the refusal is reported with Discord's words.
	n.Session.Origin = session.Origin{}
	err := nudger(e.bot).Nudge(t.Context(), n)
	if err == nil || !strings.Contains(err.Error(), "Cannot send messages to this user (code 50007)") {
		t.Errorf("error %v", err)
	}
}

func TestNudgeWithoutToken(t *testing.T) {
	e := newEnv(t, envOptions{})
	err := nudger(e.bot).Nudge(t.Context(), session.Nudge{Session: &session.Session{}, Story: &session.Story{}, Participant: &session.Participant{ChatID: "discord:G:U"}})
	if err == nil || !strings.Contains(err.Error(), "DISCORD_BOT_TOKEN") {
		t.Errorf("error %v", err)
	}
}

// nudger is what the server nudges with: the shared chat seam, with this platform's bot.
func nudger(b *Bot) bots.Chats { return bots.Chats{Platform.Name: {Platform: Platform, Bot: b}} }
