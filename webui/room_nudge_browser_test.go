package webui

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pokor/pokor/bots"
	"github.com/pokor/pokor/bots/discord"
	"github.com/pokor/pokor/bots/slack"
	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/webui/browsertest"
)

// chatAPI is a fake of the Slack Web API and the Discord REST API (v10), for the calls a nudge
// makes, answering with the providers' documented payloads; it records what it was sent.
type chatAPI struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []chatRequest
}

type chatRequest struct {
	Method, Path, Auth string
	Form               map[string]string // Slack's form fields
	JSON               map[string]any    // Discord's JSON body
}

func newChatAPI(t *testing.T) *chatAPI {
	t.Helper()
	posted, err := os.ReadFile("../bots/slack/testdata/chat_postMessage_docs_example.json")
	if err != nil {
		t.Fatal(err)
	}
	f := &chatAPI{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := chatRequest{Method: r.Method, Path: r.URL.Path, Auth: r.Header.Get("Authorization"), Form: map[string]string{}}
		if strings.HasPrefix(r.URL.Path, "/slack/") {
			_ = r.ParseForm()
			for k := range r.PostForm {
				req.Form[k] = r.PostForm.Get(k)
			}
		} else {
			b, _ := io.ReadAll(r.Body)
			_ = json.Unmarshal(b, &req.JSON)
		}
		f.mu.Lock()
		f.reqs = append(f.reqs, req)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/slack/api/chat.postMessage":
			_, _ = w.Write(posted)
		case r.URL.Path == "/discord/api/v10/users/@me/channels":
			// https://discord.com/developers/docs/resources/user#create-dm: a DM channel object.
			to, _ := req.JSON["recipient_id"].(string)
			_ = json.NewEncoder(w).Encode(map[string]any{"id": "9" + to, "type": 1, "last_message_id": nil, "flags": 0,
				"recipients": []any{map[string]any{"id": to, "username": "cat", "discriminator": "0", "global_name": "Cat", "avatar": nil}}})
		case strings.HasPrefix(r.URL.Path, "/discord/api/v10/channels/") && strings.HasSuffix(r.URL.Path, "/messages"):
			_ = json.NewEncoder(w).Encode(map[string]any{"id": "1100000000000000001", "type": 0, "channel_id": strings.Split(r.URL.Path, "/")[5],
				"content": req.JSON["content"], "tts": false, "mention_everyone": false, "timestamp": "2026-01-02T10:00:00.000000+00:00",
				"author": map[string]any{"id": "775799577604522054", "username": "Pokor", "discriminator": "0", "bot": true}})
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"message": "404: Not Found", "code": 0}`))
		}
	}))
	t.Cleanup(f.Close)
	return f
}

// waitFor returns the first request matching, waiting for it (chat messages go in the background).
func (f *chatAPI) waitFor(t *testing.T, what string, match func(chatRequest) bool) chatRequest {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		f.mu.Lock()
		for _, r := range f.reqs {
			if match(r) {
				f.mu.Unlock()
				return r
			}
		}
		f.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("the fake chat APIs never received %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestBrowserNudge: a session started from Slack; Bob came from Slack, Cat from Discord. The
// room lists who has not voted; Ann nudges them: each sees a gentle signal on their screen, and
// the bots remind them by direct message. The nudge buttons then rest for a while.
func TestBrowserNudge(t *testing.T) {
	exe := browsertest.Chromium(t)
	api := newChatAPI(t)
	chats := bots.Chats{}
	ts := startTestServer(t, "", serverOptions{service: func(c *session.Config) { c.Nudger = chats }})
	sb, err := slack.New(slack.Config{SigningSecret: "test-signing-secret", BotToken: "xoxb-test-token", APIURL: api.URL + "/slack/api",
		BaseURL: ts.http.URL, Service: ts.svc})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	db, err := discord.New(discord.Config{BotToken: "discord-test-token", APIURL: api.URL + "/discord/api", BaseURL: ts.http.URL, Service: ts.svc})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	chats["slack"] = bots.Chat{Platform: slack.Platform, Bot: sb}
	chats["discord"] = bots.Chat{Platform: discord.Platform, Bot: db}

	sess, _, _, err := ts.svc.CreateSession(t.Context(), session.CreateInput{Title: "Sprint 42", Organizer: "Ann", ChatID: "slack:T1:UANN",
		Origin: session.Origin{Platform: "slack", Team: "T1", Channel: "C1"}})
	if err != nil {
		t.Fatal(err)
	}
	link := func(chatID, name string, role session.Role) string {
		return ts.svc.LinkURL(session.Link{SessionID: sess.ID, Role: role, ChatID: chatID, Name: name, Expires: time.Now().Add(time.Hour).Unix()})
	}
	r := &room{ts: ts, url: ts.svc.RoomURL(sess.ID),
		ann: startBrowser(t, exe, "Ann", 1280, 900), bob: startBrowser(t, exe, "Bob", 1280, 900), cat: startBrowser(t, exe, "Cat", 390, 844)}
	// In this order, so that the lists below are in joining order.
	for _, j := range []struct {
		b    browser
		link string
	}{{r.ann, link("slack:T1:UANN", "Ann", session.RoleOrganizer)}, {r.bob, link("slack:T1:UBOB", "Bob", session.RoleVoter)},
		{r.cat, link("discord:G1:333444555", "Cat", session.RoleVoter)}} {
		browsertest.Do(t, j.b.ctx, chromedp.Navigate(j.link), chromedp.WaitVisible(css(`#room`)))
	}
	browsertest.Do(t, r.ann.ctx, chromedp.SendKeys(css(`#add-story input[name=title]`), "Login page\n"))
	for _, b := range r.everyone() {
		until(t, b, "the story and three people", `document.querySelectorAll("#poker-table .seat").length === 3 && !!document.querySelector("#cards .card")`)
	}

	// Everyone sees who is still to vote; only Ann can nudge.
	until(t, r.ann, "the list of voters still to vote", `document.querySelector("#waiting-text").textContent === "Still to vote: Bob 👋, Cat 👋"`)
	if got := js[string](t, r.bob, `document.querySelector("#waiting-text").textContent`); got != "Still to vote: Bob, Cat" {
		t.Errorf("Bob sees %q", got)
	}
	if js[int](t, r.bob, `document.querySelectorAll("#waiting-for button:not([hidden])").length`) != 0 {
		t.Error("Bob, a voter, has nudge buttons")
	}

	browsertest.Do(t, r.ann.ctx, chromedp.Click(css(`#nudge-all`)))
	until(t, r.ann, "the confirmation", `[...document.querySelectorAll("#toasts .toast")].some(e => e.textContent === "Nudged Bob (also on Slack), Cat (also on Discord).")`)
	for _, b := range []browser{r.bob, r.cat} {
		until(t, b, "the nudge", `!document.querySelector("#nudge-banner").hidden && document.querySelector("#nudge-banner").textContent === "Ann is waiting for your vote." && document.title.startsWith("⏳ ")`)
	}
	if js[bool](t, r.ann, `!document.querySelector("#nudge-banner").hidden`) {
		t.Error("Ann, who nudged, got the nudge")
	}
	browsertest.Screenshot(t, r.cat.ctx, "room-phone-nudged.png")

	// The bots: Slack DMs Bob (chat.postMessage to his user id), Discord opens a DM with Cat.
	dm := api.waitFor(t, "a Slack DM to Bob", func(q chatRequest) bool {
		return q.Path == "/slack/api/chat.postMessage" && q.Form["channel"] == "UBOB"
	})
	if token := strings.TrimPrefix(dm.Auth, "Bearer ") + dm.Form["token"]; token != "xoxb-test-token" || !strings.Contains(dm.Form["text"], "Ann is waiting for your vote on “Login page” in *Sprint 42*") || !strings.Contains(dm.Form["blocks"], r.url) {
		t.Errorf("Slack DM: %+v", dm)
	}
	open := api.waitFor(t, "a Discord DM channel with Cat", func(q chatRequest) bool { return q.Path == "/discord/api/v10/users/@me/channels" })
	if open.JSON["recipient_id"] != "333444555" || open.Auth != "Bot discord-test-token" {
		t.Errorf("Discord Create DM: %+v", open)
	}
	msg := api.waitFor(t, "a Discord DM to Cat", func(q chatRequest) bool { return q.Path == "/discord/api/v10/channels/9333444555/messages" })
	if c, _ := msg.JSON["content"].(string); !strings.Contains(c, "Ann is waiting for your vote on “Login page” in **Sprint 42**") {
		t.Errorf("Discord DM: %+v", msg.JSON)
	}
	api.mu.Lock()
	for _, q := range api.reqs {
		if q.Form["channel"] == "UANN" || strings.Contains(q.Path, "UANN") {
			t.Errorf("Ann, who nudged, was messaged: %+v", q)
		}
	}
	api.mu.Unlock()

	// At once again: the buttons rest while the server would refuse (TestTimerAndNudgeAPI).
	until(t, r.ann, "the nudge buttons resting", `[...document.querySelectorAll("#waiting-text button")].every(b => b.disabled) && document.querySelector("#nudge-all").hidden &&
		document.querySelector("#waiting-text").textContent === "Still to vote: Bob ✓, Cat ✓"`)

	// Bob votes: his signal goes, and he leaves the list.
	browsertest.Do(t, r.bob.ctx, chromedp.Click(css(`#cards .card[data-card="5"]`)))
	until(t, r.bob, "the nudge gone", `document.querySelector("#nudge-banner").hidden && !document.title.startsWith("⏳")`)
	until(t, r.ann, "Cat alone still to vote", `document.querySelector("#waiting-text").textContent === "Still to vote: Cat ✓" && document.querySelector("#nudge-all").hidden`)
}
