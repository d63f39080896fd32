package discord

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pokor/pokor/bots"
	"github.com/pokor/pokor/session"
)

// TestSummariesReachTheChannel runs a session started from Discord to its end through the room's
// JSON API, and checks that the accepted estimate and the final summary reach the channel.
func TestSummariesReachTheChannel(t *testing.T) {
	tests := []struct {
		name          string
		botToken      string
		channelStatus int32
		wantWebhook   bool
	}{
		{name: "bot token", botToken: testBotToken},
		{name: "no bot token: interaction webhook", wantWebhook: true},
		{name: "bot not in the channel: interaction webhook", botToken: testBotToken, channelStatus: http.StatusForbidden, wantWebhook: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{botToken: tt.botToken})
			e.api.ChannelStatus.Store(tt.channelStatus)
			in := command(t, map[string]string{"title": "Sprint 42"}, false)
			out := e.interact(t, in)
			room := e.organizer(t, dig(t, out, "data", "components", 0, "components", 0, "url").(string))

			stories := room.do(t, "POST", "/stories", map[string]any{"stories": []any{
				map[string]any{"title": "Login page"}, map[string]any{"title": "Sign-up form"},
			}}).([]any)
			sid := dig(t, stories, 0, "id").(string)
			room.do(t, "POST", "/stories/"+sid+"/select", nil)
			room.do(t, "PUT", "/stories/"+sid+"/vote", map[string]any{"card": "5"})
			room.do(t, "POST", "/stories/"+sid+"/reveal", nil)
			room.do(t, "POST", "/stories/"+sid+"/accept", map[string]any{"value": "5"})

			channelPath := "/api/v10/channels/" + testChannel + "/messages"
			webhookPath := "/api/v10/webhooks/" + testAppID + "/" + in["token"].(string)
			want, wantAuth := channelPath, "Bot "+testBotToken
			if tt.wantWebhook {
				want, wantAuth = webhookPath, ""
				if tt.botToken != "" {
					wantAuth = "Bot " + testBotToken
				}
			}
			posted := func(what string) func(apiRequest) bool {
				return func(r apiRequest) bool {
					c, _ := dig(t, r.Body, "content").(string)
					return r.Method == "POST" && r.Path == want && strings.Contains(c, what)
				}
			}
			msg := e.api.waitFor(t, "the accepted estimate", posted("estimated"))
			if msg.Auth != wantAuth {
				t.Errorf("Authorization = %q, want %q", msg.Auth, wantAuth)
			}
			if c := dig(t, msg.Body, "content").(string); c != "**Sprint 42**: “Login page” estimated at **5**.\nVotes: Mason 5" {
				t.Errorf("content = %q", c)
			}
			if got := dig(t, msg.Body, "allowed_mentions", "parse"); !reflect.DeepEqual(got, []any{}) {
				t.Errorf("allowed_mentions.parse = %v, want []", got)
			}
			if f := dig(t, msg.Body, "flags"); f != 4.0 {
				t.Errorf("flags = %v, want 4 (SUPPRESS_EMBEDS, and public: not 64)", f)
			}
			button := dig(t, msg.Body, "components", 0, "components", 0).(map[string]any)
			if button["style"] != 5.0 || button["url"] != e.svc.RoomURL(room.id) {
				t.Errorf("button = %v, want a link to the room", button)
			}

			room.do(t, "POST", "/close", nil)
			end := e.api.waitFor(t, "the session summary", posted("has ended"))
			wantEnd := "**Sprint 42** has ended: 1 of 2 stories estimated, 5 points in all.\n• “Login page”: **5**\nTook part: "
			if c := dig(t, end.Body, "content").(string); !strings.HasPrefix(c, wantEnd) {
				t.Errorf("content = %q, want %q", c, wantEnd)
			}
			if tt.channelStatus != 0 {
				// The bot was tried first each time.
				n := 0
				for _, r := range e.api.requests() {
					if r.Path == channelPath {
						n++
					}
				}
				if n != 2 {
					t.Errorf("%d posts as the bot, want 2 (one per notice) before the fallback", n)
				}
			}
		})
	}
}

func TestNotifyWithoutAWayToPost(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.bot.now = func() time.Time { return time.Now().Add(16 * time.Minute) }
	sess := &session.Session{ID: "s1", Title: "Sprint 42", Origin: session.Origin{
		Platform: "discord", Team: testGuild, Channel: testChannel,
		ReplyURL: "https://discord.com/api/v9/webhooks/" + testAppID + "/expired-token", ReplyExpires: time.Now().Add(15 * time.Minute),
	}}
	err := e.bot.PostChannel(t.Context(), sess.Origin, bots.Message{Text: "Sprint 42 has ended.", Link: &bots.Link{Label: "Open the room", URL: "http://pokor.example/s/s1"}})
	if err == nil || !strings.Contains(err.Error(), "DISCORD_BOT_TOKEN") {
		t.Fatalf("err = %v, want one telling to set DISCORD_BOT_TOKEN", err)
	}
	if reqs := e.api.requests(); len(reqs) != 0 {
		t.Fatalf("an expired webhook was used: %v", reqs)
	}
}

func TestNotifyErrorsHideTheToken(t *testing.T) {
	e := newEnv(t, envOptions{botToken: testBotToken})
	e.api.ChannelStatus.Store(http.StatusForbidden)
	e.api.Close() // nothing answers: the webhook post fails at the network
	sess := &session.Session{ID: "s1", Title: "Sprint 42", Origin: session.Origin{
		Platform: "discord", Channel: testChannel,
		ReplyURL: "https://discord.com/api/v9/webhooks/" + testAppID + "/secret-token", ReplyExpires: time.Now().Add(time.Minute),
	}}
	err := e.bot.PostChannel(t.Context(), sess.Origin, bots.Message{Text: "Sprint 42 has ended."})
	if err == nil {
		t.Fatal("Notify succeeded with Discord down")
	}
	if strings.Contains(err.Error(), "secret-token") {
		t.Fatalf("error %q leaks the interaction token", err)
	}
}

// TestSummaryFits: a long session's summary fits in one Discord message.
func TestSummaryFits(t *testing.T) {
	sess := &session.Session{Title: "Q3 *planning*"}
	many := make([]*session.Story, 200)
	for i := range many {
		many[i] = &session.Story{Title: strings.Repeat("long title ", 8), Status: session.StoryEstimated, Estimate: "8"}
	}
	people := make([]string, 50)
	for i := range people {
		people[i] = strings.Repeat("n", 32)
	}
	got := bots.Summarize(session.Notice{Kind: "closed", Session: sess, Stories: many, People: people}).Render(Markup)
	if n := len([]rune(got)); n > maxContent {
		t.Fatalf("summary is %d characters, Discord allows %d", n, maxContent)
	}
	if !strings.Contains(got, "more in the session") || !strings.HasPrefix(got, "**Q3 \\*planning\\*** has ended: 200 of 200 stories") {
		t.Fatalf("summary = %q", got)
	}
}

func TestWebhook(t *testing.T) {
	tests := []struct {
		url, app, token string
		ok              bool
	}{
		{"https://discord.com/api/v9/webhooks/1/tok", "1", "tok", true},
		{"https://discord.com/api/v9/webhooks/1/tok/messages/@original", "", "", false},
		{"https://evil.example/api/v9/webhooks/1/tok", "", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		app, token, ok := webhook(tt.url)
		if ok != tt.ok || ok && (app != tt.app || token != tt.token) {
			t.Errorf("webhook(%q) = %q, %q, %v", tt.url, app, token, ok)
		}
	}
	if err := errors.New("x"); apiError("op", err).Error() != "discord: op: x" {
		t.Errorf("apiError = %v", apiError("op", err))
	}
}
