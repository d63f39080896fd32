package mattermost

import (
	"encoding/json"
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
	"github.com/pokor/pokor/session/sqlstore"
	"github.com/pokor/pokor/webui/webuitest"
)

const (
	// commandToken is the token of the documented example request.
	commandToken = "okwexkjpe7ygb8eq1ww58t483w"
	botToken     = "bot-token-4xq8ksnbwbdw7fjj1hx8n7pbta"
	botUserID    = "bot0user0id0000000000000bt"
	team         = "carya1qs77bemjup96ff538snh"
	channelID    = "jux16pkewjrkfj3ehep1psxyxc"
	userID       = "aoa1agao6t8fmx3ikt1j9w5ybw"
)

// fakeMattermost serves what Pokor calls on a Mattermost server: the response_url of slash
// commands (/hooks/commands/{id}), and the REST API as a bot account uses it.
type fakeMattermost struct {
	srv *httptest.Server
	// forbidden channels answer 403 to posts, as for a bot that is not a member.
	forbidden sync.Map
	// hookStatus, when set, is every response_url's answer.
	hookStatus atomic.Int32

	mu    sync.Mutex
	hooks map[string][]commandResponse // response_url id → posts
	posts []sentPost
	dms   [][]string
}

type sentPost struct {
	Auth string
	Post post
}

func newFakeMattermost(t *testing.T) *fakeMattermost {
	f := &fakeMattermost{hooks: map[string][]commandResponse{}}
	appError := func(w http.ResponseWriter, status int, file string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(readFile(t, file))
	}
	authed := func(w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("Authorization") != "Bearer "+botToken {
			appError(w, http.StatusUnauthorized, "testdata/app_error_401.json")
			return false
		}
		return true
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /hooks/commands/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "want JSON", http.StatusBadRequest)
			return
		}
		if st := f.hookStatus.Load(); st != 0 {
			w.WriteHeader(int(st))
			return
		}
		var m commandResponse
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		id := r.PathValue("id")
		if len(f.hooks[id]) == 5 { // Mattermost takes 5 posts per response_url
			appError(w, http.StatusBadRequest, "testdata/app_error_403.json")
			return
		}
		f.hooks[id] = append(f.hooks[id], m)
	})
	mux.HandleFunc("GET /api/v4/system/ping", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Version-Id", "10.5.0.13552585470.abc.true")
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ActiveSearchBackend":"database","AndroidLatestVersion":"","status":"OK"}`)
	})
	mux.HandleFunc("GET /api/v4/users/me", func(w http.ResponseWriter, r *http.Request) {
		if authed(w, r) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(readFile(t, "testdata/users_me_bot.json"))
		}
	})
	mux.HandleFunc("POST /api/v4/channels/direct", func(w http.ResponseWriter, r *http.Request) {
		if !authed(w, r) {
			return
		}
		var ids []string
		if err := json.NewDecoder(r.Body).Decode(&ids); err != nil || len(ids) != 2 {
			http.Error(w, "want two user ids", http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.dms = append(f.dms, ids)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"id": "dm" + ids[1], "type": "D", "name": ids[0] + "__" + ids[1]})
	})
	mux.HandleFunc("POST /api/v4/posts", func(w http.ResponseWriter, r *http.Request) {
		if !authed(w, r) {
			return
		}
		var p post
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil || p.ChannelID == "" {
			http.Error(w, "want a post with a channel_id", http.StatusBadRequest)
			return
		}
		if _, no := f.forbidden.Load(p.ChannelID); no {
			appError(w, http.StatusForbidden, "testdata/app_error_403.json")
			return
		}
		f.mu.Lock()
		f.posts = append(f.posts, sentPost{Auth: r.Header.Get("Authorization"), Post: p})
		f.mu.Unlock()
		var created map[string]any
		json.Unmarshal(readFile(t, "testdata/post_created.json"), &created)
		created["channel_id"], created["message"] = p.ChannelID, p.Message
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(created)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// hookURL is a response_url of the fake.
func (f *fakeMattermost) hookURL(id string) string { return f.srv.URL + "/hooks/commands/" + id }

// waitHook waits for a post to the response_url id that ok accepts.
func (f *fakeMattermost) waitHook(t *testing.T, id string, ok func(commandResponse) bool) commandResponse {
	t.Helper()
	var got commandResponse
	waitFor(t, "a post to the response_url", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, m := range f.hooks[id] {
			if ok(m) {
				got = m
				return true
			}
		}
		return false
	})
	return got
}

// waitPost waits for a post through the API that ok accepts.
func (f *fakeMattermost) waitPost(t *testing.T, ok func(sentPost) bool) sentPost {
	t.Helper()
	var got sentPost
	waitFor(t, "a post through /api/v4/posts", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, p := range f.posts {
			if ok(p) {
				got = p
				return true
			}
		}
		return false
	})
	return got
}

func (f *fakeMattermost) counts() (hooks, posts int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, h := range f.hooks {
		hooks += len(h)
	}
	return hooks, len(f.posts)
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// env is a Pokor server built from its real parts with the Mattermost integration mounted, and
// a fake Mattermost beside it.
type env struct {
	t        *testing.T
	mm       *fakeMattermost
	bot      *Bot
	svc      *session.Service
	store    *botstest.CountingStore
	pokor    *httptest.Server
	trackers *botstest.Trackers
	hooks    atomic.Int64
}

// newEnv starts the server; withBot gives the integration a bot account, configure changes
// the rest.
func newEnv(t *testing.T, withBot bool, configure ...func(*Config)) *env {
	t.Helper()
	e := &env{t: t, mm: newFakeMattermost(t), trackers: &botstest.Trackers{}}
	chats := bots.Chats{}
	srv := webuitest.Start(t, webuitest.Options{
		Logger: slog.New(slog.DiscardHandler),
		Service: func(c *session.Config) {
			e.store = &botstest.CountingStore{Store: c.Store.(*sqlstore.Store)}
			c.Store, c.Trackers, c.Notifier = e.store, e.trackers.Trackers(), chats
		},
		Mount: func(s *webuitest.Server) {
			cfg := Config{CommandTokens: []string{"another-team-token", commandToken}, BaseURL: s.URL, Service: s.Service,
				Logger: slog.New(slog.DiscardHandler)}
			if withBot {
				cfg.ServerURL, cfg.BotToken = e.mm.srv.URL+"/", botToken
			}
			for _, f := range configure {
				f(&cfg)
			}
			var err error
			if e.bot, err = New(cfg); err != nil {
				t.Fatal(err)
			}
			e.bot.Mount(s.Web.Router())
			chats[Platform.Name] = bots.Chat{Platform: Platform, Bot: e.bot}
		},
	})
	t.Cleanup(func() { _ = e.bot.Close() })
	e.svc, e.pokor = srv.Service, srv.HTTP
	return e
}

// form is the documented slash command request for /pokor text, with a fresh response_url.
func (e *env) form(text string) url.Values {
	e.t.Helper()
	f, err := url.ParseQuery(string(readFile(e.t, "testdata/slash_command_docs_example.txt")))
	if err != nil {
		e.t.Fatal(err)
	}
	f.Set("command", "/pokor")
	f.Set("text", text)
	f.Set("response_url", e.mm.hookURL("hook"+strconv.FormatInt(e.hooks.Add(1), 10)))
	return f
}

// post sends a request to Pokor as Mattermost would.
func (e *env) post(path, contentType, body string, header map[string]string) (int, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.pokor.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", "mattermost-10.5.0")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// command runs /pokor with form, with Mattermost's Authorization header, and decodes the answer.
func (e *env) command(f url.Values) commandResponse {
	e.t.Helper()
	status, out := e.post(CommandsPath, "application/x-www-form-urlencoded", f.Encode(), map[string]string{"Authorization": "Token " + f.Get("token")})
	if status != http.StatusOK {
		e.t.Fatalf("/pokor: %d %s", status, out)
	}
	var m commandResponse
	if err := json.Unmarshal(out, &m); err != nil {
		e.t.Fatalf("answer %s: %v", out, err)
	}
	return m
}

// press presses a button of an answer as the user of f, with the context Mattermost kept.
func (e *env) press(f url.Values, ctx map[string]any) (int, actionResponse) {
	e.t.Helper()
	req := actionRequest{UserID: f.Get("user_id"), UserName: f.Get("user_name"), ChannelID: f.Get("channel_id"),
		ChannelName: f.Get("channel_name"), TeamID: f.Get("team_id"), TeamDomain: f.Get("team_domain"),
		PostID: "ephemeralpostid0000000000a", TriggerID: "trigger", Type: "button", Context: ctx}
	b, _ := json.Marshal(req)
	status, out := e.post(ActionsPath, "application/json", string(b), nil)
	var r actionResponse
	if err := json.Unmarshal(out, &r); err != nil {
		e.t.Fatalf("action answer %s: %v", out, err)
	}
	return status, r
}

// organizer is the participant the Mattermost user of f became.
func (e *env) organizer(sessionID string, f url.Values) *session.Participant {
	e.t.Helper()
	p, err := e.store.ParticipantByChatID(e.t.Context(), sessionID, "mattermost:"+f.Get("team_id")+":"+f.Get("user_id"))
	if err != nil {
		e.t.Fatalf("the Mattermost user is not in the session: %v", err)
	}
	return p
}

// inviteContext returns the context of the Invite channel button of an answer.
func inviteContext(t *testing.T, m commandResponse) map[string]any {
	t.Helper()
	if len(m.Attachments) != 1 || len(m.Attachments[0].Actions) != 1 {
		t.Fatalf("answer %+v, want one attachment with the Invite channel button", m)
	}
	a := m.Attachments[0].Actions[0]
	if a.ID != actionInvite || a.Type != "button" || (a.Name != "Invite channel" && a.Name != "Kanal einladen") || !strings.HasSuffix(a.Integration.URL, ActionsPath) {
		t.Fatalf("button %+v", a)
	}
	// Mattermost gives the context back as JSON, so strings stay strings.
	var ctx map[string]any
	b, _ := json.Marshal(a.Integration.Context)
	json.Unmarshal(b, &ctx)
	return ctx
}
