package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/pokor/pokor/bots/mattermost"
)

// TestMattermostWiring: with MATTERMOST_COMMAND_TOKEN the Mattermost endpoints answer and the
// bot reports sessions started from Mattermost; without it there are no Mattermost endpoints.
func TestMattermostWiring(t *testing.T) {
	const token = "mm-command-token-0123456789"
	form := url.Values{"token": {token}, "team_id": {"team1"}, "channel_id": {"chan1"}, "user_id": {"user1"}, "user_name": {"ann"},
		"command": {"/pokor"}, "text": {"Sprint 42"}, "response_url": {"http://mm.example/hooks/commands/x"}}
	post := func(m *Main, tok string) *httptest.ResponseRecorder {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		f.Set("token", tok)
		req := httptest.NewRequest(http.MethodPost, mattermost.CommandsPath, strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		m.Web.Handler().ServeHTTP(rec, req)
		return rec
	}
	t.Run("enabled", func(t *testing.T) {
		env := baseEnv(t)
		env["MATTERMOST_COMMAND_TOKEN"] = "other-team, " + token
		m := openMain(t, env)
		if m.Chats["mattermost"].Bot == nil {
			t.Fatal("the Mattermost bot is not a notifier")
		}
		if rec := post(m, "wrong"); rec.Code != http.StatusUnauthorized {
			t.Errorf("wrong token: %d, want 401", rec.Code)
		}
		if rec := post(m, token); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Join as organizer") {
			t.Errorf("command: %d %s", rec.Code, rec.Body)
		}
	})
	t.Run("disabled", func(t *testing.T) {
		m := openMain(t, baseEnv(t))
		if _, ok := m.Chats["mattermost"]; ok {
			t.Error("a Mattermost notifier without a command token")
		}
		if rec := post(m, token); rec.Code != http.StatusNotFound {
			t.Errorf("POST /mattermost/commands without Mattermost configured: %d, want 404", rec.Code)
		}
	})
}

// fakeMattermostAPI answers system/ping, and users/me for token.
func fakeMattermostAPI(t *testing.T, token string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/api/v4/system/ping":
			w.Header().Set("X-Version-Id", "10.5.0")
			io.WriteString(w, `{"status":"OK"}`)
		case r.URL.Path == "/api/v4/users/me" && r.Header.Get("Authorization") == "Bearer "+token:
			io.WriteString(w, `{"id":"botid","username":"pokor","is_bot":true}`)
		default:
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"id":"api.context.session_expired.app_error","message":"Invalid or expired session, please login again.","status_code":401}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestCheckMattermostCommand runs `pokor check mattermost --json` as an admin would.
func TestCheckMattermostCommand(t *testing.T) {
	const token = "mm-bot-token"
	srv := fakeMattermostAPI(t, token)
	tests := []struct {
		name string
		env  map[string]string
		ok   bool
		says string
	}{
		{"valid", map[string]string{"MATTERMOST_COMMAND_TOKEN": "c", "MATTERMOST_URL": srv.URL, "MATTERMOST_BOT_TOKEN": token}, true, "@pokor (botid)"},
		{"wrong bot token", map[string]string{"MATTERMOST_COMMAND_TOKEN": "c", "MATTERMOST_URL": srv.URL, "MATTERMOST_BOT_TOKEN": "old"}, false, "MATTERMOST_BOT_TOKEN is not valid"},
		{"no command token", map[string]string{"MATTERMOST_URL": srv.URL, "MATTERMOST_BOT_TOKEN": token}, false, "MATTERMOST_COMMAND_TOKEN is set"},
		{"no server", map[string]string{"MATTERMOST_COMMAND_TOKEN": "c"}, false, "MATTERMOST_URL is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			saved := getenv
			getenv = func(k string) string { return tt.env[k] }
			t.Cleanup(func() { getenv = saved })
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), []string{"check", "mattermost", "--json"}, &stdout, &stderr)
			if (err == nil) != tt.ok {
				t.Fatalf("pokor check mattermost: %v, want ok %v\n%s", err, tt.ok, stdout.String())
			}
			var got struct {
				Provider string `json:"provider"`
				OK       bool   `json:"ok"`
				Facts    []struct {
					Name, Text string
					OK         bool
				} `json:"facts"`
			}
			if err := json.Unmarshal(stdout.Bytes(), &got); err != nil || got.Provider != "mattermost" || got.OK != tt.ok {
				t.Fatalf("--json printed %s (%v)", stdout.String(), err)
			}
			if !strings.Contains(stdout.String(), tt.says) || strings.Contains(stdout.String(), token) && tt.ok {
				t.Errorf("the report does not say %q, or shows the token:\n%s", tt.says, stdout.String())
			}
		})
	}
}
