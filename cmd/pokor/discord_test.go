package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	discordAppID = "775799577604522054"
	discordToken = "test-bot-token"
)

// fakeDiscordAPI answers the REST calls of `pokor discord register` and `pokor check discord`
// with Discord's documented payloads, and records them.
type fakeDiscordAPI struct {
	*httptest.Server
	verifyKey string
	endpoint  string

	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	Method, Path, Auth string
	Body               any
}

func newFakeDiscordAPI(t *testing.T, verifyKey, endpoint string) *fakeDiscordAPI {
	t.Helper()
	f := &fakeDiscordAPI{verifyKey: verifyKey, endpoint: endpoint}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		rec := recorded{Method: r.Method, Path: r.URL.Path, Auth: r.Header.Get("Authorization")}
		_ = json.Unmarshal(raw, &rec.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, rec)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if rec.Auth != "Bot "+discordToken {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"message": "401: Unauthorized", "code": 0}`)
			return
		}
		var out any
		switch {
		case r.Method == "PUT" && strings.HasSuffix(r.URL.Path, "/commands"):
			cmds, _ := rec.Body.([]any)
			for i, c := range cmds {
				c.(map[string]any)["id"] = "10" + strconv.Itoa(i+1)
				c.(map[string]any)["application_id"] = discordAppID
				c.(map[string]any)["version"] = "1"
			}
			out = cmds
		case r.URL.Path == "/api/v10/users/@me":
			out = map[string]any{"id": discordAppID, "username": "Pokor", "discriminator": "0", "bot": true}
		case r.URL.Path == "/api/v10/applications/@me":
			out = map[string]any{"id": discordAppID, "name": "Pokor", "verify_key": f.verifyKey, "interactions_endpoint_url": f.endpoint,
				"bot_public": true, "bot_require_code_grant": false, "description": "", "flags": 0}
		case r.URL.Path == "/api/v10/applications/"+discordAppID+"/commands":
			out = []any{map[string]any{"id": "101", "application_id": discordAppID, "version": "1", "type": 1, "name": "pokor", "description": "x"}}
		default:
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"message": "404: Not Found", "code": 0}`)
			return
		}
		json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeDiscordAPI) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

// withEnv makes getenv read env for the test.
func withEnv(t *testing.T, env map[string]string) {
	t.Helper()
	old := getenv
	getenv = func(k string) string { return env[k] }
	t.Cleanup(func() { getenv = old })
}

func discordKey() ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("pokor discord test key"))
	return ed25519.NewKeyFromSeed(seed[:])
}

func TestDiscordRegister(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		path  string
		where string
	}{
		{"global", nil, "/api/v10/applications/" + discordAppID + "/commands", "globally"},
		{"guild", []string{"--guild", "290926798626357999"}, "/api/v10/applications/" + discordAppID + "/guilds/290926798626357999/commands", "in server 290926798626357999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newFakeDiscordAPI(t, "", "")
			withEnv(t, map[string]string{"DISCORD_APPLICATION_ID": discordAppID, "DISCORD_BOT_TOKEN": discordToken, "DISCORD_API_URL": api.URL + "/api"})
			var stdout, stderr bytes.Buffer
			args := append([]string{"discord", "register", "--file", "../../manifests/discord/commands.json"}, tt.args...)
			if err := run(context.Background(), args, &stdout, &stderr); err != nil {
				t.Fatalf("pokor %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
			}
			reqs := api.requests()
			if len(reqs) != 1 || reqs[0].Method != "PUT" || reqs[0].Path != tt.path || reqs[0].Auth != "Bot "+discordToken {
				t.Fatalf("requests = %+v, want one PUT %s with the bot token", reqs, tt.path)
			}
			body, _ := reqs[0].Body.([]any)
			if len(body) != 1 || body[0].(map[string]any)["name"] != "pokor" || body[0].(map[string]any)["type"] != 1.0 {
				t.Fatalf("body = %v, want the /pokor command", reqs[0].Body)
			}
			var names []any
			for _, o := range body[0].(map[string]any)["options"].([]any) {
				names = append(names, o.(map[string]any)["name"])
			}
			if !reflect.DeepEqual(names, []any{"title", "source", "query"}) {
				t.Fatalf("options = %v", names)
			}
			out := stdout.String()
			if !strings.Contains(out, "registered 1 command(s) "+tt.where) || !strings.Contains(out, "/pokor  id 101") {
				t.Fatalf("output %q does not say what was registered", out)
			}
		})
	}
}

func TestDiscordRegisterErrors(t *testing.T) {
	api := newFakeDiscordAPI(t, "", "")
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no subcommand", nil, []string{"discord"}, "discord command"},
		{"no token", map[string]string{"DISCORD_APPLICATION_ID": discordAppID}, []string{"discord", "register", "--file", "../../manifests/discord/commands.json"}, "DISCORD_BOT_TOKEN"},
		{"default file elsewhere", map[string]string{"DISCORD_APPLICATION_ID": discordAppID, "DISCORD_BOT_TOKEN": discordToken}, []string{"discord", "register"}, "--file"},
		{"wrong token", map[string]string{"DISCORD_APPLICATION_ID": discordAppID, "DISCORD_BOT_TOKEN": "wrong"}, []string{"discord", "register", "--file", "../../manifests/discord/commands.json"}, "401"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"DISCORD_API_URL": api.URL + "/api"}
			for k, v := range tt.env {
				env[k] = v
			}
			withEnv(t, env)
			err := run(context.Background(), tt.args, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestDiscordCheck(t *testing.T) {
	pub := hex.EncodeToString(discordKey().Public().(ed25519.PublicKey))
	tests := []struct {
		name      string
		publicKey string
		wantOK    bool
		wantFact  string
	}{
		{"all good", pub, true, "matches the application"},
		{"other public key", strings.Repeat("ab", 32), false, "is not this application's public key"},
		{"no public key", "", false, "DISCORD_PUBLIC_KEY is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newFakeDiscordAPI(t, pub, "https://poker.example.com/discord/interactions")
			withEnv(t, map[string]string{"DISCORD_APPLICATION_ID": discordAppID, "DISCORD_BOT_TOKEN": discordToken, "DISCORD_PUBLIC_KEY": tt.publicKey,
				"DISCORD_API_URL": api.URL + "/api", "POKOR_BASE_URL": "https://poker.example.com"})
			var stdout bytes.Buffer
			err := run(context.Background(), []string{"check", "discord", "--json"}, &stdout, io.Discard)
			if (err == nil) != tt.wantOK {
				t.Fatalf("err = %v, want ok %v", err, tt.wantOK)
			}
			var res map[string]any
			if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, stdout.String())
			}
			if res["provider"] != "discord" || res["ok"] != tt.wantOK || res["identity"] != "Pokor" {
				t.Fatalf("check = %v", res)
			}
			facts, _ := json.Marshal(res["facts"])
			for _, w := range []string{tt.wantFact, `"valid: bot \"Pokor\"`, "https://poker.example.com/discord/interactions", `"registered"`} {
				if !strings.Contains(string(facts), w) {
					t.Errorf("facts %s do not mention %q", facts, w)
				}
			}
			for _, f := range res["facts"].([]any) {
				if f := f.(map[string]any); f["name"] == "application" {
					if got := f["value"].(map[string]any)["id"]; got != discordAppID {
						t.Errorf("the application fact's id = %v", got)
					}
				}
			}
		})
	}
}

// TestDiscordMounted checks the wiring: with DISCORD_PUBLIC_KEY the server answers Discord's
// signed PING and reports Discord sessions; without it there is no endpoint.
func TestDiscordMounted(t *testing.T) {
	priv := discordKey()
	for _, key := range []string{hex.EncodeToString(priv.Public().(ed25519.PublicKey)), ""} {
		t.Run("key="+key, func(t *testing.T) {
			cfg, err := loadConfig(nil, func(k string) string {
				return map[string]string{
					"POKOR_ADDR": "127.0.0.1:0", "POKOR_DATABASE_URL": "sqlite:" + t.TempDir() + "/p.db",
					"POKOR_SECRET_KEY": strings.Repeat("s", 40), "DISCORD_PUBLIC_KEY": key,
				}[k]
			})
			if err != nil {
				t.Fatal(err)
			}
			m := NewMain(cfg, slog.New(slog.DiscardHandler))
			if err := m.Open(context.Background()); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { m.Close() })
			body := []byte(`{"application_id":"` + discordAppID + `","id":"1","token":"t","type":1,"version":1}`)
			ts := strconv.FormatInt(time.Now().Unix(), 10)
			req := httptest.NewRequest("POST", "/discord/interactions", bytes.NewReader(body))
			req.Header.Set("X-Signature-Ed25519", hex.EncodeToString(ed25519.Sign(priv, append([]byte(ts), body...))))
			req.Header.Set("X-Signature-Timestamp", ts)
			w := httptest.NewRecorder()
			m.Web.Handler().ServeHTTP(w, req)
			_, notifies := m.Chats["discord"]
			if key == "" {
				if w.Code != http.StatusNotFound || notifies {
					t.Fatalf("without a key: status %d, notifier %v; want 404 and none", w.Code, notifies)
				}
				return
			}
			if w.Code != http.StatusOK || strings.TrimSpace(w.Body.String()) != `{"type":1}` || !notifies {
				t.Fatalf("PING: %d %s, notifier %v", w.Code, w.Body.String(), notifies)
			}
		})
	}
}
