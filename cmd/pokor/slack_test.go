package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func testConfig(t *testing.T, env map[string]string) Config {
	t.Helper()
	cfg, err := loadConfig(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func baseEnv(t *testing.T) map[string]string {
	return map[string]string{
		"POKOR_ADDR": "127.0.0.1:0", "POKOR_DATABASE_URL": "sqlite:" + t.TempDir() + "/p.db",
		"POKOR_SECRET_KEY": "cmd-test-secret-0123456789-abcdefghijklmnop",
	}
}

func openMain(t *testing.T, env map[string]string) *Main {
	t.Helper()
	m := NewMain(testConfig(t, env), slog.New(slog.DiscardHandler))
	if err := m.Open(t.Context()); err != nil {
		m.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// TestSlackWiring: with SLACK_SIGNING_SECRET the Slack endpoints answer and the bot reports
// sessions started from Slack; without it there are no Slack endpoints.
func TestSlackWiring(t *testing.T) {
	const secret = "slack-signing-secret"
	body := "team_id=T1&channel_id=C1&user_id=U1&user_name=ann&command=%2Fpokor&text=Sprint+42&response_url=https%3A%2F%2Fhooks.slack.com%2Fx&trigger_id=1.2.3"
	post := func(m *Main, signed bool) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/slack/commands", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if signed {
			ts := strconv.FormatInt(time.Now().Unix(), 10)
			mac := hmac.New(sha256.New, []byte(secret))
			mac.Write([]byte("v0:" + ts + ":" + body))
			req.Header.Set("X-Slack-Request-Timestamp", ts)
			req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
		}
		rec := httptest.NewRecorder()
		m.Web.Handler().ServeHTTP(rec, req)
		return rec
	}

	t.Run("enabled", func(t *testing.T) {
		env := baseEnv(t)
		env["SLACK_SIGNING_SECRET"] = secret
		m := openMain(t, env)
		if m.Chats["slack"].Bot == nil {
			t.Fatal("the Slack bot is not a notifier")
		}
		if rec := post(m, false); rec.Code != http.StatusUnauthorized {
			t.Errorf("unsigned command: %d, want 401", rec.Code)
		}
		if rec := post(m, true); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Join as organizer") {
			t.Errorf("signed command: %d %s", rec.Code, rec.Body)
		}
	})
	t.Run("disabled", func(t *testing.T) {
		m := openMain(t, baseEnv(t))
		if _, ok := m.Chats["slack"]; ok {
			t.Error("a Slack notifier without a signing secret")
		}
		if rec := post(m, true); rec.Code != http.StatusNotFound {
			t.Errorf("POST /slack/commands without Slack configured: %d, want 404", rec.Code)
		}
	})
	t.Run("half an install configuration", func(t *testing.T) {
		env := baseEnv(t)
		env["SLACK_SIGNING_SECRET"] = secret
		env["SLACK_CLIENT_ID"] = "123.456"
		m := NewMain(testConfig(t, env), slog.New(slog.DiscardHandler))
		defer m.Close()
		if err := m.Open(t.Context()); err == nil || !strings.Contains(err.Error(), "SLACK_CLIENT_SECRET") {
			t.Errorf("Open: %v, want an error naming SLACK_CLIENT_SECRET", err)
		}
	})
}

// fakeAuthTest answers auth.test with Slack's documented response for token, invalid_auth else.
func fakeAuthTest(t *testing.T, token string) *httptest.Server {
	t.Helper()
	doc, err := os.ReadFile("../../bots/slack/testdata/auth_test_docs_example.json")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		got := r.PostForm.Get("token")
		if h, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			got = h
		}
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path != "/api/auth.test" || got != token {
			_, _ = io.WriteString(w, `{"ok":false,"error":"invalid_auth"}`)
			return
		}
		_, _ = w.Write(doc)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestCheckSlack(t *testing.T) {
	const token = "xoxb-check-token"
	srv := fakeAuthTest(t, token)
	tests := []struct {
		name    string
		env     map[string]string
		ok      bool
		wantErr string
		says    []string
	}{
		{"valid token", map[string]string{"SLACK_BOT_TOKEN": token, "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": srv.URL + "/api/"}, true, "",
			[]string{"Subarachnoid Workspace (T12345678)", "grace (W12345678)"}},
		{"revoked token", map[string]string{"SLACK_BOT_TOKEN": "xoxb-old", "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": srv.URL + "/api"}, false, "invalid_auth",
			[]string{"the bot token is not valid"}},
		{"no token", map[string]string{"SLACK_SIGNING_SECRET": "s"}, false, "SLACK_BOT_TOKEN", []string{"not set"}},
		{"no signing secret", map[string]string{"SLACK_BOT_TOKEN": token, "SLACK_API_URL": srv.URL + "/api/"}, false, "",
			[]string{"SLACK_SIGNING_SECRET", "Subarachnoid Workspace"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch, err := checkSlack(t.Context(), testConfig(t, tt.env), nil)
			if (tt.wantErr == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("checkSlack error = %v, want %q", err, tt.wantErr)
			}
			if ch.Provider != "slack" || ch.OK != tt.ok {
				t.Errorf("check = %+v, want provider slack, ok %v", ch, tt.ok)
			}
			var out bytes.Buffer
			printCheck(&out, ch)
			for _, s := range tt.says {
				if !strings.Contains(out.String(), s) {
					t.Errorf("the report does not say %q:\n%s", s, out.String())
				}
			}
			if strings.Contains(out.String(), "xoxb-") {
				t.Errorf("the report shows the token:\n%s", out.String())
			}
		})
	}
}

// TestCheckSlackCommand runs `pokor check slack --json` as a user would.
func TestCheckSlackCommand(t *testing.T) {
	srv := fakeAuthTest(t, "xoxb-check-token")
	env := map[string]string{"SLACK_BOT_TOKEN": "xoxb-check-token", "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": srv.URL + "/api/"}
	saved := getenv
	getenv = func(k string) string { return env[k] }
	t.Cleanup(func() { getenv = saved })
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"check", "slack", "--json"}, &stdout, &stderr); err != nil {
		t.Fatalf("pokor check slack: %v\n%s", err, stderr.String())
	}
	var got struct {
		Provider string `json:"provider"`
		OK       bool   `json:"ok"`
		Site     string `json:"site"`
		Facts    []struct {
			Name  string         `json:"name"`
			Text  string         `json:"text"`
			Value map[string]any `json:"value"`
		} `json:"facts"`
	}
	workspace := map[string]any{}
	err := json.Unmarshal(stdout.Bytes(), &got)
	for _, f := range got.Facts {
		if f.Name == "workspace" {
			workspace = f.Value
		}
	}
	if err != nil || !got.OK || got.Site != "https://subarachnoid.slack.com/" || workspace["name"] != "Subarachnoid Workspace" {
		t.Fatalf("--json printed %s (%v)", stdout.String(), err)
	}
}
