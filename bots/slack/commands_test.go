package slack

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pokor/pokor/bots"
	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/webui/webuitest"
)

// TestSlashCommand is the whole path of /pokor Sprint 42: a signed command creates the session
// and answers at once with the private blocks; the Join as organizer link, opened in a browser,
// makes the Slack user the organizer under their Slack name and lands on the clean room URL.
func TestSlashCommand(t *testing.T) {
	e := newEnv(t)
	form := e.commandForm("Sprint 42")
	start := time.Now()
	m := e.command(form)
	if took := time.Since(start); took > time.Second {
		t.Errorf("the answer took %s; Slack gives up after 3 s", took)
	}

	if m.ResponseType != "ephemeral" {
		t.Errorf("response_type = %q, want ephemeral: the organizer link is private", m.ResponseType)
	}
	if len(m.Blocks) == 0 || m.Blocks[0].Type != "header" || m.Blocks[0].Text == nil || m.Blocks[0].Text.Text != "Sprint 42" {
		t.Errorf("the first block is not the title: %+v", m.Blocks)
	}
	join, ok := m.button(actionJoinOrganizer)
	if !ok || !strings.Contains(string(join.Text), "Join as organizer") || join.Style != "primary" {
		t.Fatalf("no Join as organizer button: %+v", m)
	}
	invite, ok := m.button(actionInvite)
	if !ok || !strings.Contains(string(invite.Text), "Invite channel") {
		t.Fatalf("no Invite channel button: %+v", m)
	}
	id := invite.Value
	if !strings.HasPrefix(join.URL, e.pokor.URL+"/s/"+id+"/enter?t=") {
		t.Fatalf("the organizer link %q is not a pre-signed link to session %s", join.URL, id)
	}
	if strings.Contains(m.Text, "/enter?t=") {
		t.Errorf("the notification text carries the link: %q", m.Text)
	}

	sess, err := e.svc.Session(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	want := session.Origin{Platform: "slack", Team: "T0001", Channel: "C2147483705", ReplyURL: form.Get("response_url"), ReplyExpires: e.clock.Now().Add(30 * time.Minute)}
	if sess.Title != "Sprint 42" || sess.Origin.Platform != want.Platform || sess.Origin.Team != want.Team || sess.Origin.Channel != want.Channel ||
		sess.Origin.ReplyURL != want.ReplyURL || !sess.Origin.ReplyExpires.Equal(want.ReplyExpires) {
		t.Errorf("session = %q from %+v, want Sprint 42 from %+v", sess.Title, sess.Origin, want)
	}

	// The link, opened with a cookie jar, makes the Slack user the organizer.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	resp, err := browser.Get(join.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/s/"+id || resp.Request.URL.RawQuery != "" {
		t.Fatalf("opening the link ended at %s with %d, want the clean room URL /s/%s", resp.Request.URL, resp.StatusCode, id)
	}
	resp, err = browser.Get(e.pokor.URL + "/api/v1/sessions/" + id)
	if err != nil {
		t.Fatal(err)
	}
	var snap struct {
		Me struct {
			Name string       `json:"name"`
			Role session.Role `json:"role"`
		} `json:"me"`
	}
	err = json.NewDecoder(resp.Body).Decode(&snap)
	resp.Body.Close()
	if err != nil || snap.Me.Role != session.RoleOrganizer || snap.Me.Name != "Steve" {
		t.Fatalf("after the link the browser is %+v (%v), want the organizer Steve", snap.Me, err)
	}
	if p := e.organizer(id, form); p.Role != session.RoleOrganizer || p.Name != "Steve" {
		t.Errorf("the Slack user is %+v", p)
	}
	if e.store.Created() != 1 {
		t.Errorf("%d sessions created, want 1", e.store.Created())
	}
}

func TestOrganizerLinkRefused(t *testing.T) {
	e := newEnv(t)
	m, _, _ := e.startSession("Sprint 42")
	join, _ := m.button(actionJoinOrganizer)
	// Change one character in the middle of the signature to another one.
	i := len(join.URL) - 10
	c := byte('A')
	if join.URL[i] == c {
		c = 'B'
	}
	tampered := join.URL[:i] + string(c) + join.URL[i+1:]
	tests := []struct {
		name    string
		link    string
		advance time.Duration
		status  int
		says    string
	}{
		{"tampered", tampered, 0, http.StatusForbidden, "not valid"},
		{"expired", join.URL, 24*time.Hour + time.Minute, http.StatusGone, "Run /pokor again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.clock.Advance(tt.advance)
			resp, err := http.Get(tt.link)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.says) {
				t.Fatalf("got %d, want %d with %q:\n%s", resp.StatusCode, tt.status, tt.says, body)
			}
			if len(resp.Cookies()) != 0 {
				t.Errorf("a refused link set a cookie")
			}
		})
	}
}

func TestSlashCommandRefusesUnsigned(t *testing.T) {
	e := newEnv(t)
	body := e.commandForm("Sprint 42").Encode()
	good := e.signed(body)
	old := strconv.FormatInt(e.clock.Now().Add(-6*time.Minute).Unix(), 10)
	tests := []struct {
		name string
		body string
		h    func() http.Header
	}{
		{"no signature", body, func() http.Header {
			h := good.Clone()
			h.Del("X-Slack-Signature")
			return h
		}},
		{"no timestamp", body, func() http.Header {
			h := good.Clone()
			h.Del("X-Slack-Request-Timestamp")
			return h
		}},
		{"tampered body", strings.Replace(body, "Sprint", "Sprunt", 1), good.Clone},
		{"wrong secret", body, func() http.Header {
			h := good.Clone()
			h.Set("X-Slack-Signature", sign("not-the-signing-secret", h.Get("X-Slack-Request-Timestamp"), []byte(body)))
			return h
		}},
		{"stale timestamp", body, func() http.Header {
			h := good.Clone()
			h.Set("X-Slack-Request-Timestamp", old)
			h.Set("X-Slack-Signature", sign(signingSecret, old, []byte(body)))
			return h
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"/slack/commands", "/slack/interactions"} {
				if status, out := e.send(path, tt.body, tt.h()); status != http.StatusUnauthorized {
					t.Errorf("POST %s: %d %s, want 401", path, status, out)
				}
			}
		})
	}
	if n := e.store.Created(); n != 0 {
		t.Errorf("refused requests created %d sessions", n)
	}
	if e.slack.hookCount("") != 0 {
		t.Errorf("refused requests posted to Slack")
	}

	// Slack's certificate check is answered without a signature, and creates nothing.
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	if status, _ := e.send("/slack/commands", "ssl_check=1&token=x", h); status != http.StatusOK || e.store.Created() != 0 {
		t.Errorf("ssl_check: %d, %d sessions", status, e.store.Created())
	}
}

// TestSlashCommandDocumentedRequest sends Slack's documented signed request as is, with the
// clock of its day.
func TestSlashCommandDocumentedRequest(t *testing.T) {
	v := loadVector(t)
	e := newEnv(t)
	sent, _ := strconv.ParseInt(v.Timestamp, 10, 64)
	e.clock.Advance(time.Unix(sent, 0).Add(20 * time.Second).Sub(e.clock.Now()))
	h := headers(v.Signature, v.Timestamp)
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	status, out := e.send("/slack/commands", v.Body, h)
	if status != http.StatusOK || !strings.Contains(string(out), "Join as organizer") {
		t.Fatalf("the documented request: %d %s", status, out)
	}
	var m message
	_ = json.Unmarshal(out, &m)
	invite, _ := m.button(actionInvite)
	p, err := e.store.ParticipantByChatID(t.Context(), invite.Value, "slack:T1DC2JH3J:U2CERLKJA")
	if err != nil || p.Name != "roadrunner" || p.Role != session.RoleOrganizer {
		t.Fatalf("organizer = %+v, %v; want roadrunner", p, err)
	}
	if sess, _ := e.svc.Session(t.Context(), invite.Value); !strings.HasPrefix(sess.Title, "Planning poker") {
		t.Errorf("an empty /pokor made %q, want the default title", sess.Title)
	}
}

// TestSlashCommandRetry: Slack retrying a command (X-Slack-Retry-Num, a new timestamp and so a
// new signature) gets the first answer and creates no second session.
func TestSlashCommandRetry(t *testing.T) {
	e := newEnv(t)
	body := e.commandForm("Sprint 42").Encode()
	status, first := e.send("/slack/commands", body, e.signed(body))
	if status != http.StatusOK {
		t.Fatalf("first attempt: %d", status)
	}
	e.clock.Advance(time.Minute)
	h := e.signed(body)
	h.Set("X-Slack-Retry-Num", "1")
	h.Set("X-Slack-Retry-Reason", "http_timeout")
	status, again := e.send("/slack/commands", body, h)
	if status != http.StatusOK || string(again) != string(first) {
		t.Fatalf("the retry got %d %s, want the first answer", status, again)
	}
	if n := e.store.Created(); n != 1 {
		t.Fatalf("%d sessions created, want 1", n)
	}
	// Another invocation (another trigger_id) is another session.
	e.startSession("Sprint 43")
	if n := e.store.Created(); n != 2 {
		t.Fatalf("%d sessions created, want 2", n)
	}
}

func TestSlashCommandHelp(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		text string
		says string
	}{
		{"help", "`/pokor Sprint 42`"},
		{"HELP", "`/pokor help`"},
		{"Sprint 42 from github", "say what to import from github"},
		{"Sprint 42 from jira", "say what to import from jira"},
		{strings.Repeat("long ", 50), "the limit is 200"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			m := e.command(e.commandForm(tt.text))
			if m.ResponseType != "ephemeral" || !strings.Contains(m.Text, tt.says) || !strings.Contains(m.Text, bots.NewGrammar(e.trackers.Trackers()).Help()) {
				t.Fatalf("answer %+v, want the grammar and %q", m, tt.says)
			}
			if len(m.Blocks) != 1 || m.Blocks[0].Text == nil || m.Blocks[0].Text.Type != "mrkdwn" {
				t.Errorf("blocks = %+v, want one mrkdwn section", m.Blocks)
			}
		})
	}
	if n := e.store.Created(); n != 0 {
		t.Errorf("help created %d sessions", n)
	}
}

// TestSlashCommandImport: the answer comes before the tracker is even asked, and the outcome
// of the import follows on the response_url.
func TestSlashCommandImport(t *testing.T) {
	tests := []struct {
		name  string
		query string
		says  string
		added int
	}{
		{"stories", "acme/api label:ready", "Imported 3 stories from github into *Sprint 42*", 3},
		{"unknown repository", "acme/missing", "Could not import stories from github into *Sprint 42*: github: repository acme/missing was not found", 0},
		{"nothing matches", "acme/empty", "No stories from github match `acme/empty`", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			gate := make(chan struct{})
			e.trackers.Gate = gate
			form := e.commandForm("Sprint 42 from github " + tt.query)
			m := e.command(form) // returns while the tracker is held: the import comes after
			invite, ok := m.button(actionInvite)
			if !ok || !strings.Contains(mustJSON(t, m), "Importing stories from github") {
				t.Fatalf("answer %+v, want the session and a note that the import runs", m)
			}
			if e.slack.hookCount("") != 0 {
				t.Fatal("the outcome was posted before the import ran")
			}
			close(gate)
			path := strings.TrimPrefix(form.Get("response_url"), e.slack.srv.URL+"/hooks/")
			got := e.slack.waitHook(t, path, func(hookPost) bool { return true })
			if got.Msg.ResponseType != "ephemeral" || !strings.Contains(got.Msg.Text, tt.says) {
				t.Fatalf("outcome %q (%s), want %q", got.Msg.Text, got.Msg.ResponseType, tt.says)
			}
			stories, err := e.store.Stories(t.Context(), invite.Value)
			if err != nil || len(stories) != tt.added {
				t.Fatalf("%d stories in the session (%v), want %d", len(stories), err, tt.added)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// BenchmarkSlashCommand measures one /pokor Sprint 42 through the server's handler: the gin
// router and middleware, the signature check, parsing, the session and its organizer written to
// SQLite (a durable commit), the signed link and the JSON answer. No network: the handler is
// called directly.
func BenchmarkSlashCommand(b *testing.B) {
	var bot *Bot
	srv := webuitest.Start(b, webuitest.Options{Secret: pokorSecret, Mount: func(s *webuitest.Server) {
		var err error
		if bot, err = New(Config{SigningSecret: signingSecret, BaseURL: s.URL, Service: s.Service}); err != nil {
			b.Fatal(err)
		}
		bot.Mount(s.Web.Router())
	}})
	defer bot.Close()
	h := srv.Web.Handler()
	form := url.Values{"team_id": {"T0001"}, "channel_id": {"C2147483705"}, "user_id": {"U2147483697"}, "user_name": {"Steve"},
		"command": {"/pokor"}, "text": {"Sprint 42"}, "response_url": {"https://hooks.slack.com/commands/1234/5678"}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		form.Set("trigger_id", "13345224609.738474920."+strconv.Itoa(i))
		body := form.Encode()
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req := httptest.NewRequest(http.MethodPost, "/slack/commands", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", sign(signingSecret, ts, []byte(body)))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Join as organizer") {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}

// Slack escapes &, < and > in a slash command's text; the session gets the text as typed.
func TestSlashCommandUnescapesText(t *testing.T) {
	e := newEnv(t)
	m := e.command(e.commandForm("R&amp;D &lt;sprint&gt; &amp;lt;"))
	invite, ok := m.button(actionInvite)
	if !ok {
		t.Fatalf("answer %+v, want the session", m)
	}
	sess, err := e.store.Session(t.Context(), invite.Value)
	if err != nil {
		t.Fatal(err)
	}
	if want := "R&D <sprint> &lt;"; sess.Title != want {
		t.Fatalf("title %q, want %q", sess.Title, want)
	}
}
