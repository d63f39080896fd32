package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pokor/pokor/bots"
	"github.com/pokor/pokor/bots/botstest"
	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/session/sessiontest"
	"github.com/pokor/pokor/session/sqlstore"
	"github.com/pokor/pokor/webui/webuitest"
)

// The secrets of the tests. The signing secret is the one of Slack's documented example.
const (
	signingSecret = "8f742231b10e8888abcd99yyyzzz85a5"
	pokorSecret   = "slack-test-secret-0123456789-abcdefghijklmnop"
	clientID      = "1234567890.0987654321"
	clientSecret  = "client-secret-for-tests"
	installCode   = "good-code"
	// installedToken is the bot token of testdata/oauth_v2_access_docs_example.json.
	installedToken = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"
	installedTeam  = "T9TK3CUKW"
	envBotToken    = "xoxb-single-workspace-token"
)

// sign returns Slack's v0 signature of a body.
func sign(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("v0:" + ts + ":"))
	m.Write(body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

// clock is the tests' time, shared by the bot and the service.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fakeSlack is Slack's Web API and its response_url webhooks, answering with the documented
// payloads of testdata and recording what Pokor sent.
type fakeSlack struct {
	srv  *httptest.Server
	base string // Pokor's base URL, for the OAuth redirect_uri

	mu      sync.Mutex
	changed chan struct{} // closed and replaced at each recorded request
	chat    []chatPost
	hooks   []hookPost
	// postError, when set, is the error chat.postMessage answers with.
	postError string
	// hookStatus, when set, is the status the response_urls answer with.
	hookStatus int
}

type chatPost struct {
	Token, Channel, Text, Blocks string
}

type hookPost struct {
	Path string
	Msg  message
	Raw  string
}

func newFakeSlack(t *testing.T) *fakeSlack {
	t.Helper()
	f := &fakeSlack{changed: make(chan struct{})}
	oauth := readFile(t, "testdata/oauth_v2_access_docs_example.json")
	authTest := readFile(t, "testdata/auth_test_docs_example.json")
	posted := readFile(t, "testdata/chat_postMessage_docs_example.json")
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/oauth.v2.access", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if r.PostForm.Get("client_id") != clientID || r.PostForm.Get("client_secret") != clientSecret {
			writeSlack(w, `{"ok":false,"error":"invalid_client_id"}`)
			return
		}
		if r.PostForm.Get("redirect_uri") != f.base+"/slack/oauth/callback" {
			writeSlack(w, `{"ok":false,"error":"bad_redirect_uri"}`)
			return
		}
		if r.PostForm.Get("code") != installCode {
			writeSlack(w, `{"ok":false,"error":"invalid_code"}`)
			return
		}
		writeSlack(w, string(oauth))
	})
	mux.HandleFunc("POST /api/auth.test", func(w http.ResponseWriter, r *http.Request) {
		if bearer(r) != envBotToken {
			writeSlack(w, `{"ok":false,"error":"invalid_auth"}`)
			return
		}
		writeSlack(w, string(authTest))
	})
	mux.HandleFunc("POST /api/chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		f.record(func() {
			f.chat = append(f.chat, chatPost{Token: bearer(r), Channel: r.PostForm.Get("channel"), Text: r.PostForm.Get("text"), Blocks: r.PostForm.Get("blocks")})
		})
		f.mu.Lock()
		e := f.postError
		f.mu.Unlock()
		if e != "" {
			writeSlack(w, `{"ok":false,"error":"`+e+`"}`)
			return
		}
		writeSlack(w, string(posted))
	})
	mux.HandleFunc("POST /hooks/", func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var m message
		if r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(raw, &m) != nil {
			http.Error(w, "invalid_payload", http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		status := f.hookStatus
		f.mu.Unlock()
		if status != 0 {
			http.Error(w, "expired_url", status)
			return
		}
		f.record(func() { f.hooks = append(f.hooks, hookPost{Path: r.URL.Path, Msg: m, Raw: string(raw)}) })
		_, _ = io.WriteString(w, "ok")
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// bearer returns the token of a Web API call: the Authorization header, or the token field of
// the form (both are documented; slack-go sends the form field).
func bearer(r *http.Request) string {
	if t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return t
	}
	_ = r.ParseForm()
	return r.PostForm.Get("token")
}

func writeSlack(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = io.WriteString(w, body)
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (f *fakeSlack) record(change func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change()
	close(f.changed)
	f.changed = make(chan struct{})
}

// hookURL is a response_url on the fake.
func (f *fakeSlack) hookURL(path string) string { return f.srv.URL + "/hooks/" + path }

// wait returns once found, called under the lock, reports true; it fails the test after 5 s.
func (f *fakeSlack) wait(t *testing.T, what string, found func() bool) {
	t.Helper()
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		ok := found()
		changed := f.changed
		f.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// waitHook returns the first post to the response_url with that path for which match is true.
func (f *fakeSlack) waitHook(t *testing.T, path string, match func(hookPost) bool) hookPost {
	t.Helper()
	var got hookPost
	f.wait(t, "a post to the response_url "+path, func() bool {
		for _, h := range f.hooks {
			if h.Path == "/hooks/"+path && match(h) {
				got = h
				return true
			}
		}
		return false
	})
	return got
}

// hookCount counts the posts to the response_urls whose path starts with prefix.
func (f *fakeSlack) hookCount(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, h := range f.hooks {
		if strings.HasPrefix(h.Path, "/hooks/"+prefix) {
			n++
		}
	}
	return n
}

// waitChat returns the first chat.postMessage for which match is true.
func (f *fakeSlack) waitChat(t *testing.T, match func(chatPost) bool) chatPost {
	t.Helper()
	var got chatPost
	f.wait(t, "a chat.postMessage", func() bool {
		for _, p := range f.chat {
			if match(p) {
				got = p
				return true
			}
		}
		return false
	})
	return got
}

// message is what Pokor answers Slack with, decoded loosely for assertions.
type message struct {
	ResponseType    string  `json:"response_type"`
	Text            string  `json:"text"`
	ReplaceOriginal bool    `json:"replace_original"`
	Blocks          []block `json:"blocks"`
}

type block struct {
	Type      string    `json:"type"`
	Text      *textObj  `json:"text"`
	Elements  []element `json:"elements"`
	Accessory *element  `json:"accessory"`
}

type textObj struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type element struct {
	Type     string          `json:"type"`
	ActionID string          `json:"action_id"`
	URL      string          `json:"url"`
	Value    string          `json:"value"`
	Style    string          `json:"style"`
	Text     json.RawMessage `json:"text"`
}

// button returns the button of a message with that action id.
func (m message) button(actionID string) (element, bool) {
	for _, b := range m.Blocks {
		for _, e := range append(b.Elements, ptrSlice(b.Accessory)...) {
			if e.Type == "button" && e.ActionID == actionID {
				return e, true
			}
		}
	}
	return element{}, false
}

func ptrSlice(e *element) []element {
	if e == nil {
		return nil
	}
	return []element{*e}
}

// env is a Pokor server built from its real parts (SQLite store, hub, service, web server) with
// the Slack app mounted on its router, and a fake Slack beside it.
type env struct {
	t        *testing.T
	clock    *clock
	keys     *session.Keys
	store    *botstest.CountingStore
	hub      *session.Hub
	svc      *session.Service
	bot      *Bot
	pokor    *httptest.Server
	slack    *fakeSlack
	trackers *botstest.Trackers
	logs     *sessiontest.Logs
	triggers atomic.Int64
	// secrets must never appear in the logs: link tokens, response_urls, bot tokens.
	secretsMu sync.Mutex
	secrets   []string
}

func newEnv(t *testing.T, configure ...func(*Config)) *env {
	t.Helper()
	e := &env{t: t, clock: &clock{t: time.Now().Truncate(time.Second)}, logs: &sessiontest.Logs{}, trackers: &botstest.Trackers{}}
	t.Cleanup(e.checkLogs) // runs last
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.slack = newFakeSlack(t)

	notifiers := bots.Chats{}
	srv := webuitest.Start(t, webuitest.Options{
		Secret: pokorSecret,
		Logger: log,
		Service: func(c *session.Config) {
			e.store = &botstest.CountingStore{Store: c.Store.(*sqlstore.Store)}
			c.Store, c.Trackers, c.Notifier, c.Now = e.store, e.trackers.Trackers(), notifiers, e.clock.Now
		},
		Mount: func(s *webuitest.Server) {
			e.slack.base = s.URL
			cfg := Config{
				SigningSecret: signingSecret, ClientID: clientID, ClientSecret: clientSecret,
				APIURL: e.slack.srv.URL + "/api", BaseURL: s.URL, Service: s.Service, Installations: e.store,
				Now: e.clock.Now, Logger: log,
			}
			for _, f := range configure {
				f(&cfg)
			}
			var err error
			if e.bot, err = New(cfg); err != nil {
				t.Fatal(err)
			}
			e.bot.Mount(s.Web.Router())
			notifiers["slack"] = bots.Chat{Platform: Platform, Bot: e.bot}
		},
	})
	// Registered after Start, so it runs first: imports still running finish before the store closes.
	t.Cleanup(func() { _ = e.bot.Close() })
	e.keys, e.hub, e.svc, e.pokor = srv.Keys, srv.Hub, srv.Service, srv.HTTP
	e.secret(installedToken, envBotToken, clientSecret, signingSecret)
	return e
}

// secret registers values the logs must never contain.
func (e *env) secret(s ...string) {
	e.secretsMu.Lock()
	defer e.secretsMu.Unlock()
	e.secrets = append(e.secrets, s...)
}

func (e *env) checkLogs() {
	logs := e.logs.String()
	e.secretsMu.Lock()
	defer e.secretsMu.Unlock()
	for _, s := range e.secrets {
		if s != "" && strings.Contains(logs, s) {
			e.t.Errorf("the logs contain a secret (%.12s…):\n%s", s, logs)
		}
	}
	if strings.Contains(logs, "/enter?t=") || strings.Contains(logs, "/hooks/") {
		e.t.Errorf("the logs contain a link token or a response_url:\n%s", logs)
	}
}

// commandForm is Slack's documented slash command with our text, a response_url on the fake
// and a fresh trigger_id.
func (e *env) commandForm(text string) url.Values {
	var fx struct {
		Fields map[string]string `json:"parsed_fields"`
	}
	readJSON(e.t, "testdata/slash_command_docs_example.json", &fx)
	v := url.Values{}
	for k, s := range fx.Fields {
		v.Set(k, s)
	}
	n := e.triggers.Add(1)
	v.Set("command", "/pokor")
	v.Set("text", text)
	v.Set("response_url", e.slack.hookURL(fmt.Sprintf("commands/T0001/%d/secret", n)))
	v.Set("trigger_id", fmt.Sprintf("13345224609.738474920.%d", n))
	e.secret(v.Get("response_url"))
	return v
}

// signed returns the headers Slack sends with body, signed now.
func (e *env) signed(body string) http.Header {
	ts := strconv.FormatInt(e.clock.Now().Unix(), 10)
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	h.Set("X-Slack-Request-Timestamp", ts)
	h.Set("X-Slack-Signature", sign(signingSecret, ts, []byte(body)))
	return h
}

// send posts body to Pokor with the given headers and returns the status and the body.
func (e *env) send(path, body string, h http.Header) (int, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.pokor.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// command runs a signed /pokor and returns the answer.
func (e *env) command(form url.Values) message {
	e.t.Helper()
	body := form.Encode()
	status, out := e.send("/slack/commands", body, e.signed(body))
	if status != http.StatusOK {
		e.t.Fatalf("POST /slack/commands: %d %s", status, out)
	}
	var m message
	if err := json.Unmarshal(out, &m); err != nil {
		e.t.Fatalf("the answer is not a message: %v: %s", err, out)
	}
	if link, ok := m.button(actionJoinOrganizer); ok {
		e.secret(link.URL[strings.Index(link.URL, "t=")+2:])
	}
	return m
}

// startSession runs /pokor with a title and returns the answer and the session's id.
func (e *env) startSession(title string) (message, url.Values, string) {
	e.t.Helper()
	form := e.commandForm(title)
	m := e.command(form)
	invite, ok := m.button(actionInvite)
	if !ok || invite.Value == "" {
		e.t.Fatalf("no Invite channel button in %+v", m)
	}
	return m, form, invite.Value
}

// organizer returns the participant the Slack user of form is in a session.
func (e *env) organizer(sessionID string, form url.Values) *session.Participant {
	e.t.Helper()
	p, err := e.store.ParticipantByChatID(e.t.Context(), sessionID, "slack:"+form.Get("team_id")+":"+form.Get("user_id"))
	if err != nil {
		e.t.Fatalf("the Slack user is not in the session: %v", err)
	}
	return p
}
