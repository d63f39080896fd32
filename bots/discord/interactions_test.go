package discord

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

func TestSignature(t *testing.T) {
	e := newEnv(t, envOptions{botToken: testBotToken})
	ping, err := os.ReadFile("testdata/ping.json")
	if err != nil {
		t.Fatal(err)
	}
	ping = bytes.TrimSpace(ping)
	cmd, _ := json.Marshal(command(t, map[string]string{"title": "Sprint 42"}, false))
	seed := sha256.Sum256([]byte("another key"))
	other := ed25519.NewKeyFromSeed(seed[:])
	ts := now()
	valid := signature(e.priv, ts, cmd)

	tests := []struct {
		name    string
		body    []byte
		headers map[string]string
	}{
		{"tampered body", bytes.Replace(cmd, []byte("Sprint 42"), []byte("Sprint 43"), 1), valid},
		{"wrong timestamp", cmd, map[string]string{"X-Signature-Ed25519": valid["X-Signature-Ed25519"], "X-Signature-Timestamp": strconv.Itoa(mustAtoi(t, ts) + 1)}},
		{"other key", cmd, signature(other, ts, cmd)},
		{"malformed hex", cmd, map[string]string{"X-Signature-Ed25519": "zz" + valid["X-Signature-Ed25519"][2:], "X-Signature-Timestamp": ts}},
		{"truncated signature", cmd, map[string]string{"X-Signature-Ed25519": valid["X-Signature-Ed25519"][:126], "X-Signature-Timestamp": ts}},
		{"missing signature", cmd, map[string]string{"X-Signature-Timestamp": ts}},
		{"missing timestamp", cmd, map[string]string{"X-Signature-Ed25519": valid["X-Signature-Ed25519"]}},
		{"missing headers", cmd, nil},
		{"signed without the timestamp", cmd, map[string]string{"X-Signature-Ed25519": hex.EncodeToString(ed25519.Sign(e.priv, cmd)), "X-Signature-Timestamp": ts}},
		{"ping with the command's signature", ping, valid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.post(t, tt.body, tt.headers)
			if resp.StatusCode != http.StatusUnauthorized {
				b, _ := io.ReadAll(resp.Body)
				t.Fatalf("status %d (%s), want 401", resp.StatusCode, b)
			}
		})
	}
	if n := e.store.created.Load(); n != 0 {
		t.Fatalf("refused interactions created %d sessions", n)
	}
	if reqs := e.api.requests(); len(reqs) != 0 {
		t.Fatalf("refused interactions reached Discord: %v", reqs)
	}

	t.Run("valid ping", func(t *testing.T) {
		resp := e.post(t, ping, signature(e.priv, ts, ping))
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(b)) != `{"type":1}` {
			t.Fatalf("PING answered %d %s, want 200 {\"type\":1}", resp.StatusCode, b)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("Content-Type = %q", ct)
		}
	})
	t.Run("valid command", func(t *testing.T) {
		if resp := e.post(t, cmd, valid); resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if n := e.store.created.Load(); n != 1 {
			t.Fatalf("%d sessions created, want 1", n)
		}
	})
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestNewRefusesBadKeys(t *testing.T) {
	for _, key := range []string{"not hex", "abcd", strings.Repeat("ab", 33)} {
		if _, err := New(Config{PublicKey: key}); err == nil {
			t.Errorf("New accepted public key %q", key)
		}
	}
	if _, err := New(Config{APIURL: "discord.example"}); err == nil {
		t.Error("New accepted an API URL without scheme")
	}
}

// A bot without a public key cannot verify anything, so it refuses everything.
func TestNoPublicKeyRefusesAll(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.bot.key = nil
	body, _ := json.Marshal(command(t, nil, false))
	if resp := e.post(t, body, signature(e.priv, now(), body)); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", resp.StatusCode)
	}
}

func TestPokorCreatesSessionWithOrganizerLink(t *testing.T) {
	tests := []struct {
		name     string
		dm       bool
		user     map[string]any // replaces the invoking user
		title    string
		wantName string
	}{
		{name: "guild, username", title: "Sprint 42", wantName: "Mason"},
		{name: "guild, global name", title: "Sprint 42", user: map[string]any{"id": testUser, "username": "mason", "global_name": "Mason M.", "discriminator": "0"}, wantName: "Mason M."},
		{name: "DM", dm: true, title: "Sprint 42", wantName: "Mason"},
		{name: "default title", wantName: "Mason"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{botToken: testBotToken})
			opts := map[string]string{}
			if tt.title != "" {
				opts["title"] = tt.title
			}
			in := command(t, opts, tt.dm)
			if tt.user != nil {
				in["member"].(map[string]any)["user"] = tt.user
			}
			out := e.interact(t, in)

			if got := dig(t, out, "type"); got != 4.0 {
				t.Fatalf("type = %v, want 4 (CHANNEL_MESSAGE_WITH_SOURCE)", got)
			}
			if got := dig(t, out, "data", "flags"); got != 64.0 {
				t.Fatalf("flags = %v, want 64 (EPHEMERAL)", got)
			}
			content := dig(t, out, "data", "content").(string)
			wantTitle := tt.title
			if wantTitle == "" {
				wantTitle = "Planning poker "
			}
			if !strings.Contains(content, "**"+wantTitle) {
				t.Fatalf("content %q does not hold the title %q", content, wantTitle)
			}
			if got := dig(t, out, "data", "allowed_mentions", "parse"); !reflect.DeepEqual(got, []any{}) {
				t.Fatalf("allowed_mentions.parse = %v, want []", got)
			}
			row := dig(t, out, "data", "components", 0)
			if got := dig(t, row, "type"); got != 1.0 {
				t.Fatalf("component type = %v, want 1 (action row)", got)
			}
			join := dig(t, row, "components", 0).(map[string]any)
			if join["type"] != 2.0 || join["style"] != 5.0 || join["label"] != "Join as organizer" || join["custom_id"] != nil {
				t.Fatalf("join button = %v, want a link button (type 2, style 5) without custom_id", join)
			}
			if len(join["url"].(string)) > maxButtonURL {
				t.Fatalf("link is %d characters, Discord allows %d", len(join["url"].(string)), maxButtonURL)
			}
			inv := dig(t, row, "components", 1).(map[string]any)
			if inv["type"] != 2.0 || inv["style"] != 1.0 || inv["label"] != "Invite channel" || !strings.HasPrefix(inv["custom_id"].(string), invitePrefix) {
				t.Fatalf("invite button = %v", inv)
			}

			room := e.organizer(t, join["url"].(string))
			if want := invitePrefix + room.id; inv["custom_id"] != want {
				t.Fatalf("invite custom_id = %v, want %s", inv["custom_id"], want)
			}
			snap := room.do(t, "GET", "", nil)
			if got := dig(t, snap, "me", "role"); got != "organizer" {
				t.Fatalf("the link made a %v, want an organizer", got)
			}
			if got := dig(t, snap, "me", "name"); got != tt.wantName {
				t.Fatalf("organizer name = %v, want %s", got, tt.wantName)
			}
			if n := len(dig(t, snap, "participants").([]any)); n != 1 {
				t.Fatalf("%d participants, want the organizer alone (the link must find the one /pokor made)", n)
			}
			sess, err := e.svc.Session(t.Context(), room.id)
			if err != nil {
				t.Fatal(err)
			}
			o := sess.Origin
			wantTeam, wantChannel := testGuild, testChannel
			if tt.dm {
				wantTeam, wantChannel = "", "1200000000000000001"
			}
			if o.Platform != "discord" || o.Team != wantTeam || o.Channel != wantChannel {
				t.Fatalf("origin = %+v", o)
			}
			if want := "https://discord.com/api/v9/webhooks/" + testAppID + "/" + in["token"].(string); o.ReplyURL != want {
				t.Fatalf("reply URL = %q, want %q", o.ReplyURL, want)
			}
			if d := time.Until(o.ReplyExpires); d < 14*time.Minute || d > 15*time.Minute {
				t.Fatalf("reply expires in %s, want 15 minutes", d)
			}
		})
	}
}

func TestPokorHelpAndMistakes(t *testing.T) {
	e := newEnv(t, envOptions{})
	tests := []struct {
		name    string
		in      map[string]any
		want    []string
		notWant string
	}{
		{"help", command(t, map[string]string{"title": "help"}, false), []string{"`/pokor Sprint 42`", "**Start a planning-poker session**", "`source`"}, ""},
		{"source without query", command(t, map[string]string{"title": "Sprint 42", "source": "github"}, false), []string{"say what to import from github", "`/pokor Sprint 42`"}, ""},
		{"query without source", command(t, map[string]string{"query": "acme/api"}, false), []string{"a query needs a source"}, ""},
		{"unknown source", command(t, map[string]string{"source": "gitlab", "query": "x"}, false), []string{`unknown source "gitlab"`}, ""},
		{"other command", func() map[string]any {
			m := command(t, nil, false)
			m["data"].(map[string]any)["name"] = "cardsearch"
			return m
		}(), []string{"`/pokor Sprint 42`"}, ""},
		{"title with control characters", command(t, map[string]string{"title": "a\x07b"}, false), []string{"title contains control characters"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := e.interact(t, tt.in)
			if dig(t, out, "type") != 4.0 || dig(t, out, "data", "flags") != 64.0 {
				t.Fatalf("answer %v, want an ephemeral message", out)
			}
			content := dig(t, out, "data", "content").(string)
			for _, w := range tt.want {
				if !strings.Contains(content, w) {
					t.Errorf("content %q does not contain %q", content, w)
				}
			}
			if c := dig(t, out, "data", "components"); c != nil {
				t.Errorf("components = %v, want none", c)
			}
		})
	}
	if n := e.store.created.Load(); n != 0 {
		t.Fatalf("%d sessions created by help and mistakes", n)
	}
}

func TestInviteChannel(t *testing.T) {
	e := newEnv(t, envOptions{})
	out := e.interact(t, command(t, map[string]string{"title": "Sprint *42*"}, false))
	customID := dig(t, out, "data", "components", 0, "components", 1, "custom_id").(string)
	id := strings.TrimPrefix(customID, invitePrefix)

	t.Run("public message with the room link", func(t *testing.T) {
		out := e.interact(t, invite(t, customID))
		if dig(t, out, "type") != 4.0 {
			t.Fatalf("type = %v, want 4", dig(t, out, "type"))
		}
		if f := dig(t, out, "data", "flags"); f != nil && f != 0.0 {
			t.Fatalf("flags = %v: the invitation must be public", f)
		}
		room := e.svc.RoomURL(id)
		content := dig(t, out, "data", "content").(string)
		for _, w := range []string{room, "<@" + testUser + ">", `**Sprint \*42\***`} {
			if !strings.Contains(content, w) {
				t.Errorf("content %q does not contain %q", content, w)
			}
		}
		button := dig(t, out, "data", "components", 0, "components", 0).(map[string]any)
		if button["style"] != 5.0 || button["url"] != room {
			t.Fatalf("button = %v, want a link button to %s", button, room)
		}
		if strings.Contains(content, "enter?t=") || strings.Contains(button["url"].(string), "enter?t=") {
			t.Fatal("the public invitation holds a pre-signed link")
		}
		if got := dig(t, out, "data", "allowed_mentions", "parse"); !reflect.DeepEqual(got, []any{}) {
			t.Fatalf("allowed_mentions.parse = %v, want [] (no pings)", got)
		}
	})
	t.Run("unknown session", func(t *testing.T) {
		out := e.interact(t, invite(t, invitePrefix+"nosuchsession"))
		if dig(t, out, "data", "flags") != 64.0 || !strings.Contains(dig(t, out, "data", "content").(string), "This session no longer exists") {
			t.Fatalf("answer %v, want an ephemeral not-found message", out)
		}
	})
	t.Run("foreign button", func(t *testing.T) {
		out := e.interact(t, invite(t, "click_yes"))
		if dig(t, out, "data", "flags") != 64.0 {
			t.Fatalf("answer %v, want an ephemeral message", out)
		}
	})
}

func TestDeferredImport(t *testing.T) {
	tests := []struct {
		name      string
		source    string
		query     string
		want      string
		wantCount int
	}{
		{"imported", "github", "acme/api label:ready", "Imported 2 stories from github into **Sprint 42**.", 2},
		{"tracker error", "github", "acme/missing", "Could not import stories from github into **Sprint 42**: github: repository acme/missing not found", 0},
		{"tracker not configured", "notion", "0123456789abcdef0123456789abcdef", `no Notion credentials`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			in := command(t, map[string]string{"title": "Sprint 42", "source": tt.source, "query": tt.query}, false)
			out := e.interact(t, in)
			if dig(t, out, "type") != 5.0 || dig(t, out, "data", "flags") != 64.0 {
				t.Fatalf("answer %v, want type 5 (deferred) with flags 64", out)
			}

			path := "/api/v10/webhooks/" + testAppID + "/" + in["token"].(string) + "/messages/@original"
			edit := e.api.waitFor(t, "PATCH "+path, func(r apiRequest) bool { return r.Method == "PATCH" && r.Path == path })
			if edit.Auth != "" {
				t.Errorf("the webhook edit sent Authorization %q; interaction webhooks need none", edit.Auth)
			}
			if !strings.HasPrefix(edit.ContentType, "application/json") {
				t.Errorf("Content-Type = %q", edit.ContentType)
			}
			content := dig(t, edit.Body, "content").(string)
			if !strings.Contains(content, "**Sprint 42** is ready.") || !strings.Contains(content, tt.want) {
				t.Fatalf("edited content %q, want the title and %q", content, tt.want)
			}
			join := dig(t, edit.Body, "components", 0, "components", 0).(map[string]any)
			if join["style"] != 5.0 || join["label"] != "Join as organizer" {
				t.Fatalf("join button = %v", join)
			}
			if got := dig(t, edit.Body, "components", 0, "components", 1, "label"); got != "Invite channel" {
				t.Fatalf("second button = %v", got)
			}
			snap := e.organizer(t, join["url"].(string)).do(t, "GET", "", nil)
			if dig(t, snap, "me", "role") != "organizer" {
				t.Fatal("the edited link does not make an organizer")
			}
			if n := len(dig(t, snap, "stories").([]any)); n != tt.wantCount {
				t.Fatalf("%d stories in the session, want %d", n, tt.wantCount)
			}
		})
	}
}

// The documented example interaction has no application_id: the bot then uses
// DISCORD_APPLICATION_ID, and without it lets the room follow the import.
func TestCommandWithoutApplicationID(t *testing.T) {
	tests := []struct {
		name, appID string
		wantType    float64
	}{
		{"DISCORD_APPLICATION_ID set", testAppID, 5},
		{"no application id at all", "", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{appID: tt.appID})
			in := command(t, map[string]string{"title": "Sprint 42", "source": "github", "query": "acme/api label:ready"}, false)
			delete(in, "application_id")
			out := e.interact(t, in)
			if got := dig(t, out, "type"); got != tt.wantType || dig(t, out, "data", "flags") != 64.0 {
				t.Fatalf("answer %v, want type %v, ephemeral", out, tt.wantType)
			}
			var link string
			if tt.wantType == 5 {
				path := "/api/v10/webhooks/" + testAppID + "/" + in["token"].(string) + "/messages/@original"
				edit := e.api.waitFor(t, "the edit", func(r apiRequest) bool { return r.Path == path })
				link = dig(t, edit.Body, "components", 0, "components", 0, "url").(string)
			} else {
				if c := dig(t, out, "data", "content").(string); !strings.Contains(c, "Importing from github in the background") {
					t.Fatalf("content = %q", c)
				}
				link = dig(t, out, "data", "components", 0, "components", 0, "url").(string)
			}
			room := e.organizer(t, link)
			deadline := time.Now().Add(10 * time.Second)
			for len(dig(t, room.do(t, "GET", "", nil), "stories").([]any)) != 2 {
				if time.Now().After(deadline) {
					t.Fatal("the stories were never imported")
				}
				runtime.Gosched()
			}
		})
	}
}

func TestEditOriginalRetriesUntilTheDeferralArrives(t *testing.T) {
	tests := []struct {
		name    string
		missing int32 // edits answered 404 Unknown Webhook before the response exists
		wantErr bool
	}{
		{"arrives at once", 0, false},
		{"arrives late", 2, false},
		{"never arrives", 100, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			e.bot.retryWait = time.Millisecond
			e.api.MissingEdits.Store(tt.missing)
			content := "done"
			err := e.bot.editOriginal(t.Context(), testAppID, "secret-token", &discordgo.WebhookEdit{Content: &content})
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error: %v", err, tt.wantErr)
			}
			if err != nil && (strings.Contains(err.Error(), "secret-token") || !strings.Contains(err.Error(), "Unknown Webhook")) {
				t.Fatalf("error %q: want Discord's message without the interaction token", err)
			}
			want := min(int(tt.missing)+1, 4)
			if n := len(e.api.requests()); n != want {
				t.Fatalf("%d edits sent, want %d", n, want)
			}
		})
	}
}
