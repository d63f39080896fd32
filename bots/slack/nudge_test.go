package slack

import (
	"strings"
	"testing"

	"github.com/pokor/pokor/bots"
	"github.com/pokor/pokor/session"
)

// TestNudge: a reminder to vote reaches the Slack user as a direct message from the bot (the
// user's id as the channel of chat.postMessage); when Slack refuses, the bot tries a mention in
// the session's channel and says why both failed.
func TestNudge(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.BotToken = envBotToken })
	n := session.Nudge{
		Session:     &session.Session{Title: "Sprint <42>", Origin: session.Origin{Platform: "slack", Team: "T0001", Channel: "C2147483705"}},
		Story:       &session.Story{Title: "Log in with SSO"},
		Participant: &session.Participant{Name: "Bob", ChatID: "slack:T0001:U0BOB"},
		From:        "Olga",
		URL:         "https://poker.example.com/s/abc",
	}
	if err := nudger(e.bot).Nudge(t.Context(), n); err != nil {
		t.Fatal(err)
	}
	p := e.slack.waitChat(t, func(p chatPost) bool { return strings.Contains(p.Text, "waiting for your vote") })
	if p.Channel != "U0BOB" || p.Token != envBotToken {
		t.Errorf("reminder posted to %q with %.10q…, want a direct message to U0BOB with the bot token", p.Channel, p.Token)
	}
	want := "Olga is waiting for your vote on “Log in with SSO” in *Sprint &lt;42&gt;*."
	if !strings.Contains(p.Text, want) || !strings.Contains(p.Blocks, n.URL) {
		t.Errorf("reminder %q (blocks %s), want %q and the room link", p.Text, p.Blocks, want)
	}

	e.slack.mu.Lock()
	e.slack.postError = "channel_not_found"
	e.slack.mu.Unlock()
	err := nudger(e.bot).Nudge(t.Context(), n)
	if err == nil || !strings.Contains(err.Error(), "direct message failed: channel_not_found") || !strings.Contains(err.Error(), "mention in the channel failed") {
		t.Fatalf("error %v, want both attempts explained", err)
	}
	e.slack.waitChat(t, func(p chatPost) bool { return p.Channel == "C2147483705" && strings.HasPrefix(p.Text, "<@U0BOB> ") })

	if err := nudger(e.bot).Nudge(t.Context(), session.Nudge{Session: n.Session, Story: n.Story, Participant: &session.Participant{ChatID: "discord:G:U"}}); err == nil {
		t.Error("a Discord user was reminded through Slack")
	}
}

// TestNudgeWithoutToken: without a bot token the reminder cannot go, and the error says what to do.
func TestNudgeWithoutToken(t *testing.T) {
	e := newEnv(t)
	err := nudger(e.bot).Nudge(t.Context(), session.Nudge{Session: &session.Session{}, Story: &session.Story{Title: "x"},
		Participant: &session.Participant{ChatID: "slack:T0001:U0BOB"}, URL: "https://poker.example.com/s/abc"})
	if err == nil || !strings.Contains(err.Error(), "SLACK_BOT_TOKEN") {
		t.Errorf("error %v, want advice on the bot token", err)
	}
}

// nudger is what the server nudges with: the shared chat seam, with this platform's bot.
func nudger(b *Bot) bots.Chats { return bots.Chats{Platform.Name: {Platform: Platform, Bot: b}} }
