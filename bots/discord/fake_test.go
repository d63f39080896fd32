package discord

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
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
	"github.com/pokor/pokor/session/sqlstore"
	"github.com/pokor/pokor/webui/i18n"
	"github.com/pokor/pokor/webui/webuitest"
)

const (
	testAppID    = "775799577604522054"
	testBotToken = "test-bot-token"
	testGuild    = "290926798626357999"
	testChannel  = "645027906669510667"
	testUser     = "53908232506183680"
)

// testKey is a fixed Ed25519 key pair standing for the application's: Discord publishes no test
// vector, so the tests sign with a key of their own, as Discord would with its private key.
func testKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	seed := sha256.Sum256([]byte("pokor discord test key"))
	return ed25519.NewKeyFromSeed(seed[:])
}

func publicHex(priv ed25519.PrivateKey) string {
	return hex.EncodeToString(priv.Public().(ed25519.PublicKey))
}

// apiRequest is one request the fake Discord API received, its JSON body decoded generically:
// what Discord receives is the contract.
type apiRequest struct {
	Method, Path, RawQuery, Auth, ContentType, UserAgent string
	Body                                                 any
}

func (r apiRequest) String() string { return r.Method + " " + r.Path }

// fakeDiscord is an httptest server answering like Discord's REST API (v10) for the endpoints
// Pokor uses, with the documented payload shapes. It records every request.
type fakeDiscord struct {
	*httptest.Server
	// ChannelStatus, when set, is the status of POST /channels/{id}/messages (403 Missing Access).
	ChannelStatus atomic.Int32
	// MissingEdits is how many more edits of an original response answer 404 Unknown Webhook,
	// as when the deferral has not reached Discord yet.
	MissingEdits atomic.Int32
	// closedDMs holds the users who take no direct messages (set before the test runs).
	closedDMs map[string]bool

	mu     sync.Mutex
	reqs   []apiRequest
	signal chan struct{}
}

func newFakeDiscord(t *testing.T) *fakeDiscord {
	t.Helper()
	f := &fakeDiscord{signal: make(chan struct{}, 1), closedDMs: map[string]bool{}}
	mux := http.NewServeMux()
	bot := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bot "+testBotToken {
				writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "401: Unauthorized", "code": 0})
				return
			}
			h(w, r)
		}
	}
	mux.HandleFunc("PATCH /api/v10/webhooks/{app}/{token}/messages/{msg}", func(w http.ResponseWriter, r *http.Request) {
		if f.MissingEdits.Add(-1) >= 0 {
			writeJSON(w, http.StatusNotFound, map[string]any{"message": "Unknown Webhook", "code": 10015})
			return
		}
		writeJSON(w, http.StatusOK, message(r.PathValue("app"), testChannel, body(r)))
	})
	mux.HandleFunc("POST /api/v10/webhooks/{app}/{token}", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("wait") != "true" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		writeJSON(w, http.StatusOK, message(r.PathValue("app"), testChannel, body(r)))
	})
	// Create DM: the DM channel's id is "9" and the recipient's id, so posts to it can be told apart.
	mux.HandleFunc("POST /api/v10/users/@me/channels", bot(func(w http.ResponseWriter, r *http.Request) {
		b, _ := body(r).(map[string]any)
		to, _ := b["recipient_id"].(string)
		writeJSON(w, http.StatusOK, map[string]any{"id": "9" + to, "type": 1, "last_message_id": nil, "flags": 0,
			"recipients": []any{map[string]any{"id": to, "username": "someone", "discriminator": "0", "global_name": nil, "avatar": nil}}})
	}))
	mux.HandleFunc("POST /api/v10/channels/{channel}/messages", bot(func(w http.ResponseWriter, r *http.Request) {
		if dm, ok := strings.CutPrefix(r.PathValue("channel"), "9"); ok && f.closedDMs[dm] {
			writeJSON(w, http.StatusForbidden, map[string]any{"message": "Cannot send messages to this user", "code": 50007})
			return
		}
		if s := int(f.ChannelStatus.Load()); s != 0 {
			writeJSON(w, s, map[string]any{"message": "Missing Access", "code": 50001})
			return
		}
		writeJSON(w, http.StatusOK, message("", r.PathValue("channel"), body(r)))
	}))
	overwrite := bot(func(w http.ResponseWriter, r *http.Request) {
		cmds, _ := body(r).([]any)
		out := []any{}
		for i, c := range cmds {
			m, _ := c.(map[string]any)
			m["id"] = fmt.Sprintf("10%02d", i+1)
			m["application_id"] = r.PathValue("app")
			m["version"] = "1"
			if g := r.PathValue("guild"); g != "" {
				m["guild_id"] = g
			}
			out = append(out, m)
		}
		writeJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("PUT /api/v10/applications/{app}/commands", overwrite)
	mux.HandleFunc("PUT /api/v10/applications/{app}/guilds/{guild}/commands", overwrite)
	mux.HandleFunc("GET /api/v10/applications/{app}/commands", bot(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, []any{map[string]any{"id": "1001", "application_id": testAppID, "version": "1", "type": 1, "name": "pokor", "description": "Start a planning-poker session"}})
	}))
	mux.HandleFunc("GET /api/v10/users/@me", bot(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"id": testAppID, "username": "Pokor", "discriminator": "0", "global_name": nil, "avatar": nil, "bot": true, "flags": 0})
	}))
	mux.HandleFunc("GET /api/v10/applications/@me", bot(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{
			"id": testAppID, "name": "Pokor", "icon": nil, "description": "", "bot_public": true, "bot_require_code_grant": false,
			"verify_key": "bc771b1cc44157fa037246818ee049f5b7e56b0e32f110f1be2e3073bafd9140", "flags": 0,
			"interactions_endpoint_url": "https://poker.example.com/discord/interactions", "approximate_guild_count": 3,
			"bot": map[string]any{"id": testAppID, "username": "Pokor", "discriminator": "0", "bot": true},
		})
	}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "404: Not Found", "code": 0})
	})
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		req := apiRequest{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Auth: r.Header.Get("Authorization"),
			ContentType: r.Header.Get("Content-Type"), UserAgent: r.Header.Get("User-Agent")}
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &req.Body); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]any{"message": "400: Bad Request", "code": 50109})
				return
			}
		}
		f.mu.Lock()
		f.reqs = append(f.reqs, req)
		f.mu.Unlock()
		mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), bodyKey{}, req.Body)))
		select {
		case f.signal <- struct{}{}:
		default:
		}
	}))
	t.Cleanup(f.Close)
	return f
}

// message is a message object as Discord returns it after a post or an edit.
func message(webhookID, channel string, body any) map[string]any {
	m := map[string]any{"id": "1100000000000000001", "type": 0, "channel_id": channel, "tts": false, "mention_everyone": false,
		"timestamp": "2026-01-02T10:00:00.000000+00:00", "author": map[string]any{"id": testAppID, "username": "Pokor", "discriminator": "0", "bot": true}}
	if webhookID != "" {
		m["webhook_id"] = webhookID
	}
	if b, ok := body.(map[string]any); ok {
		m["content"] = b["content"]
		m["components"] = b["components"]
	}
	return m
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

type bodyKey struct{}

// body is the decoded JSON body of a request to the fake.
func body(r *http.Request) any { return r.Context().Value(bodyKey{}) }

func (f *fakeDiscord) requests() []apiRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]apiRequest(nil), f.reqs...)
}

// waitFor returns the first request matching, waiting for it (asynchronous posts) up to a deadline.
func (f *fakeDiscord) waitFor(t *testing.T, what string, match func(apiRequest) bool) apiRequest {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		for _, r := range f.requests() {
			if match(r) {
				return r
			}
		}
		select {
		case <-f.signal:
		case <-deadline.C:
			t.Fatalf("Discord never received %s; it received %v", what, f.requests())
		}
	}
}

// fakeTrackers lists two GitHub issues for "acme/api label:ready" and knows no other tracker.
type fakeTrackers struct{}

// trackers describes the fake as the tracker "github".
func (f fakeTrackers) trackers() []session.Tracker {
	return []session.Tracker{{Name: "github", Label: "GitHub", WritesBack: true,
		Query: session.QueryGrammar{Example: "acme/api label:ready", Summary: "import GitHub issues"},
		Open:  func(session.Credentials) (session.TrackerClient, error) { return f, nil }},
		botstest.Unconfigured("jira", "Jira", "project = API"), botstest.Unconfigured("notion", "Notion", "Backlog")}
}

func (fakeTrackers) List(_ context.Context, query, _ string) (session.ExternalPage, error) {
	if query != "acme/api label:ready" {
		return session.ExternalPage{}, &session.Error{Code: session.CodeNotFound, Message: "github: repository acme/missing not found, or the token cannot see it"}
	}
	return session.ExternalPage{Total: 2, Stories: []session.ExternalStory{
		{Key: "acme/api#1", Title: "Login page", URL: "https://github.com/acme/api/issues/1"},
		{Key: "acme/api#2", Title: "Sign-up form", URL: "https://github.com/acme/api/issues/2"},
	}}, nil
}

func (fakeTrackers) WriteEstimate(context.Context, string, session.WriteBack) (session.WriteResult, error) {
	return session.WriteResult{Detail: "label estimate: set"}, nil
}

func (fakeTrackers) Check(context.Context, string) (session.CheckReport, error) {
	return session.CheckReport{Provider: "github", OK: true}, nil
}

// countingStore counts the sessions created, to prove that refused requests create nothing.
type countingStore struct {
	session.Store
	created atomic.Int32
}

func (s *countingStore) CreateSession(ctx context.Context, sess *session.Session, org *session.Participant, tokenHash string) error {
	s.created.Add(1)
	return s.Store.CreateSession(ctx, sess, org, tokenHash)
}

// env is a Pokor server built from real parts (SQLite store, hub, service, web UI) with the
// Discord bot mounted, talking to a fake Discord API.
type env struct {
	srv   *httptest.Server
	svc   *session.Service
	bot   *Bot
	api   *fakeDiscord
	store *countingStore
	priv  ed25519.PrivateKey
}

type envOptions struct {
	botToken string
	// appID is DISCORD_APPLICATION_ID; interactions carry application_id anyway.
	appID string
	// language is POKOR_LANGUAGE; nil is English.
	language *i18n.Catalog
}

func newEnv(t *testing.T, opt envOptions) *env {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	e := &env{api: newFakeDiscord(t), priv: testKey(t)}
	notifiers := bots.Chats{}
	srv := webuitest.Start(t, webuitest.Options{
		Secret: strings.Repeat("pokor-test-secret-", 3),
		Logger: log,
		Service: func(c *session.Config) {
			e.store = &countingStore{Store: c.Store.(*sqlstore.Store)}
			c.Store, c.Trackers, c.Notifier = e.store, fakeTrackers{}.trackers(), notifiers
		},
		Mount: func(s *webuitest.Server) {
			var err error
			e.bot, err = New(Config{
				PublicKey: publicHex(e.priv), ApplicationID: opt.appID, BotToken: opt.botToken,
				APIURL: e.api.URL + "/api", BaseURL: s.URL, Service: s.Service, Logger: log, Language: opt.language,
			})
			if err != nil {
				t.Fatal(err)
			}
			e.bot.Mount(s.Web.Router())
			notifiers["discord"] = bots.Chat{Platform: Platform, Bot: e.bot}
		},
	})
	// Registered after Start, so it runs first: imports still running finish before the store closes.
	t.Cleanup(func() { _ = e.bot.Close() })
	e.srv, e.svc = srv.HTTP, srv.Service
	return e
}

// signed posts body to the interactions endpoint, signed with key at ts.
func (e *env) post(t *testing.T, body []byte, headers map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/discord/interactions", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// signature returns the headers Discord sends: X-Signature-Ed25519 over timestamp + body.
func signature(priv ed25519.PrivateKey, ts string, body []byte) map[string]string {
	sig := ed25519.Sign(priv, append([]byte(ts), body...))
	return map[string]string{"X-Signature-Ed25519": hex.EncodeToString(sig), "X-Signature-Timestamp": ts}
}

func now() string { return strconv.FormatInt(time.Now().Unix(), 10) }

// interact posts a signed interaction and decodes the answer as a generic JSON object.
func (e *env) interact(t *testing.T, interaction map[string]any) map[string]any {
	t.Helper()
	body, err := json.Marshal(interaction)
	if err != nil {
		t.Fatal(err)
	}
	resp := e.post(t, body, signature(e.priv, now(), body))
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("interaction answered %d: %s", resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q, want application/json", ct)
	}
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

var tokens atomic.Int64

// command is the documented slash-command interaction, made a /pokor with these options. In a
// DM, Discord sends user instead of member and no guild_id.
func command(t *testing.T, options map[string]string, dm bool) map[string]any {
	t.Helper()
	m := fixture(t, "application_command_docs_example.json")
	m["application_id"] = testAppID
	m["version"] = 1
	m["token"] = fmt.Sprintf("interaction-token-%d", tokens.Add(1))
	data := m["data"].(map[string]any)
	data["name"] = "pokor"
	data["id"] = "1001"
	opts := []any{}
	for _, k := range []string{"title", "source", "query"} {
		if v, ok := options[k]; ok {
			opts = append(opts, map[string]any{"type": 3, "name": k, "value": v})
		}
	}
	data["options"] = opts
	if dm {
		member := m["member"].(map[string]any)
		delete(m, "member")
		delete(m, "guild_id")
		delete(m, "guild_locale")
		m["user"] = member["user"]
		m["context"] = 1
		m["channel_id"] = "1200000000000000001"
	}
	return m
}

// invite is a click on the Invite channel button of a session.
func invite(t *testing.T, customID string) map[string]any {
	t.Helper()
	m := fixture(t, "message_component_invite.json")
	m["data"].(map[string]any)["custom_id"] = customID
	return m
}

func fixture(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

// dig walks a generic JSON value by object keys and array indexes.
func dig(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %q: %v is not an object", k, v)
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				t.Fatalf("at [%d]: %v is not an array that long", k, v)
			}
			v = a[k]
		}
	}
	return v
}

// organizer opens a Join as organizer link like a browser: it follows the redirect, keeps the
// cookie, and returns a client that acts as that participant with the room's JSON API.
func (e *env) organizer(t *testing.T, link string) *roomClient {
	t.Helper()
	if !strings.HasPrefix(link, e.srv.URL+"/s/") || !strings.Contains(link, "/enter?t=") {
		t.Fatalf("link %q is not a pre-signed link of this server", link)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("opening the link: status %d, want 303", resp.StatusCode)
	}
	loc := resp.Header.Get("Location")
	id, ok := strings.CutPrefix(loc, "/s/")
	if !ok || strings.Contains(loc, "?") {
		t.Fatalf("the link redirects to %q, want the clean room URL", loc)
	}
	return &roomClient{e: e, c: c, id: id}
}

type roomClient struct {
	e  *env
	c  *http.Client
	id string
}

// do calls the room's JSON API and decodes the answer generically.
func (r *roomClient) do(t *testing.T, method, path string, body any) any {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, r.e.srv.URL+"/api/v1/sessions/"+r.id+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	var out any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return out
}
