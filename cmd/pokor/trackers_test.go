package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
)

const (
	testSecretKey = "test-secret-key-that-is-long-enough-0123456789"
	githubToken   = "ghp_cmdT0ken0000000000000000000000000000"
)

// fakeGitHubAPI serves the GitHub REST endpoints that check and a label write-back use, with
// the documented payloads, and records the writes.
type fakeGitHubAPI struct {
	*httptest.Server
	mu     sync.Mutex
	labels []string
	writes []string
}

// waitWrites waits up to timeout for the first write-back and returns the writes so far.
func (f *fakeGitHubAPI) waitWrites(t *testing.T, timeout time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		f.mu.Lock()
		writes := slices.Clone(f.writes)
		f.mu.Unlock()
		if len(writes) > 0 {
			return writes
		}
		if time.Now().After(deadline) {
			t.Fatal("the estimate never reached GitHub")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func newFakeGitHubAPI(t *testing.T) *fakeGitHubAPI {
	t.Helper()
	f := &fakeGitHubAPI{}
	mux := http.NewServeMux()
	js := func(w http.ResponseWriter, status int, body string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
	mux.HandleFunc("GET /user", func(w http.ResponseWriter, r *http.Request) {
		js(w, 200, `{"login":"octocat","id":1,"name":"The Octocat","type":"User"}`)
	})
	mux.HandleFunc("GET /repos/acme/api", func(w http.ResponseWriter, r *http.Request) {
		js(w, 200, `{"id":1,"name":"api","full_name":"acme/api","private":false,"has_issues":true,"permissions":{"pull":true,"triage":true,"push":true}}`)
	})
	mux.HandleFunc("GET /rate_limit", func(w http.ResponseWriter, r *http.Request) {
		js(w, 200, `{"resources":{"core":{"limit":5000,"remaining":4999,"reset":1893456000,"used":1}}}`)
	})
	mux.HandleFunc("GET /repos/acme/api/issues/1", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		labels := []string{}
		for i, l := range f.labels {
			labels = append(labels, fmt.Sprintf(`{"id":%d,"name":%q,"color":"c5def5"}`, i+1, l))
		}
		js(w, 200, `{"id":1001,"number":1,"title":"Login fails","state":"open","html_url":"https://github.com/acme/api/issues/1","labels":[`+strings.Join(labels, ",")+`]}`)
	})
	mux.HandleFunc("GET /repos/acme/api/issues", func(w http.ResponseWriter, r *http.Request) {
		js(w, 200, `[{"id":1001,"number":1,"title":"Login fails","state":"open","html_url":"https://github.com/acme/api/issues/1","labels":[{"id":3,"name":"estimate: 3"}]},`+
			`{"id":1002,"number":2,"title":"Export PDF","state":"open","html_url":"https://github.com/acme/api/issues/2","labels":[]}]`)
	})
	mux.HandleFunc("GET /repos/acme/api/labels/{name}", func(w http.ResponseWriter, r *http.Request) {
		js(w, 404, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest/issues/labels#get-a-label"}`)
	})
	mux.HandleFunc("POST /repos/acme/api/labels", func(w http.ResponseWriter, r *http.Request) {
		js(w, 201, `{"id":9,"name":"estimate: 5","color":"c5def5"}`)
	})
	mux.HandleFunc("POST /repos/acme/api/issues/1/labels", func(w http.ResponseWriter, r *http.Request) {
		var names []string
		_ = json.NewDecoder(r.Body).Decode(&names)
		f.mu.Lock()
		f.labels = append(f.labels, names...)
		f.writes = append(f.writes, "labels "+strings.Join(names, ","))
		f.mu.Unlock()
		js(w, 200, `[{"id":9,"name":"estimate: 5"}]`)
	})
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+githubToken {
			js(w, 401, `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}`)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func TestCheckGitHubCommand(t *testing.T) {
	gh := newFakeGitHubAPI(t)
	withEnv(t, map[string]string{"GITHUB_TOKEN": githubToken, "GITHUB_API_URL": gh.URL})
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"check", "github", "--json", "--repo", "acme/api"}, &stdout, io.Discard); err != nil {
		t.Fatalf("check: %v\n%s", err, stdout.String())
	}
	var ch struct {
		Provider, Identity string
		OK                 bool
		Facts              []struct {
			Name, Text string
			Value      any
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &ch); err != nil {
		t.Fatal(err)
	}
	if ch.Provider != "github" || !ch.OK || ch.Identity != "octocat" || len(ch.Facts) < 3 {
		t.Errorf("check = %+v", ch)
	}
	for _, f := range ch.Facts {
		if v, ok := f.Value.(map[string]any); ok && f.Name == "rate limit" {
			if _, num := v["remaining"].(float64); !num {
				t.Errorf("the rate limit's remaining is not a number: %+v", f)
			}
		}
	}
	if strings.Contains(stdout.String(), githubToken) {
		t.Error("the check prints the token")
	}

	stdout.Reset()
	withEnv(t, map[string]string{"GITHUB_TOKEN": "ghp_wrong", "GITHUB_API_URL": gh.URL})
	err := run(context.Background(), []string{"check", "github", "acme/api"}, &stdout, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "the token is invalid or expired") || !strings.Contains(stdout.String(), "github: FAILED") {
		t.Errorf("bad token: %v\n%s", err, stdout.String())
	}

	withEnv(t, map[string]string{})
	for _, name := range []string{"jira", "notion"} {
		stdout.Reset()
		err := run(context.Background(), []string{"check", name}, &stdout, io.Discard)
		if err == nil || !strings.Contains(err.Error(), strings.ToUpper(name)+"_") {
			t.Errorf("check %s without credentials: %v", name, err)
		}
	}
	if err := run(context.Background(), []string{"check", "jira", "--issue", "API-1", "--project", "API"}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Errorf("check jira with both flags: %v", err)
	}
}

func TestImportCommand(t *testing.T) {
	dir := t.TempDir()
	withEnv(t, map[string]string{"POKOR_DATABASE_URL": "sqlite:" + filepath.Join(dir, "pokor.db"), "POKOR_SECRET_KEY": testSecretKey})
	ctx := context.Background()
	m, err := openOffline(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sess, _, _, err := m.Service.CreateSession(ctx, session.CreateInput{Title: "Sprint", Organizer: "Ann"})
	m.Close()
	if err != nil {
		t.Fatal(err)
	}

	file := filepath.Join(dir, "backlog.csv")
	if err := os.WriteFile(file, []byte("Summary,Issue key,Description\nLogin fails,API-1,\"Steps:\n1. log in\"\nExport PDF,API-2,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"imported 2 new and updated 0 stories", "imported 0 new and updated 2 stories"} {
		var stdout bytes.Buffer
		if err := run(ctx, []string{"import", sess.ID, file}, &stdout, io.Discard); err != nil {
			t.Fatalf("import %d: %v", i+1, err)
		}
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("import %d said %q, want %q", i+1, stdout.String(), want)
		}
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"export", sess.ID}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "API-1,Login fails,\"Steps:\n1. log in\",,,open,1,,,") || strings.Count(out.String(), "\n") != 3+1 {
		t.Errorf("export after import:\n%s", out.String())
	}

	// From a tracker, with the server's credentials; a GitHub estimate label is the imported estimate.
	gh := newFakeGitHubAPI(t)
	withEnv(t, map[string]string{"POKOR_DATABASE_URL": "sqlite:" + filepath.Join(dir, "pokor.db"), "POKOR_SECRET_KEY": testSecretKey,
		"GITHUB_TOKEN": githubToken, "GITHUB_API_URL": gh.URL})
	var from bytes.Buffer
	if err := run(ctx, []string{"import", sess.ID, "--from", "github", "acme/api", "state:open"}, &from, io.Discard); err != nil {
		t.Fatalf("import --from github: %v", err)
	}
	if !strings.Contains(from.String(), "imported 2 new and updated 0 stories") {
		t.Errorf("import --from said %q", from.String())
	}
	out.Reset()
	run(ctx, []string{"export", "--format", "json", sess.ID}, &out, io.Discard)
	if !strings.Contains(out.String(), `"imported_estimate": "3"`) {
		t.Errorf("the GitHub estimate label is not the imported estimate:\n%s", out.String())
	}
	if err := run(ctx, []string{"import", sess.ID, "--from", "trello", "x"}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "use github, jira, notion") {
		t.Errorf("an unknown tracker: %v", err)
	}

	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("name,url\n\"Broken,https://x\n"), 0o600)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"import", sess.ID}, "usage: pokor import SESSION_ID FILE.csv"},
		{[]string{"import", "nosuchsession", file}, `session "nosuchsession" does not exist`},
		{[]string{"import", sess.ID, filepath.Join(dir, "missing.csv")}, "no such file"},
		{[]string{"import", sess.ID, bad}, "csv: line 2: a quoted field is never closed"},
	}
	for _, tt := range tests {
		err := run(ctx, tt.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %v, want %q", tt.args, err, tt.want)
		}
	}
}

// TestServeWritesBack starts the server as `pokor serve` does and checks the tracker wiring:
// an estimate accepted over the API reaches GitHub through the write-back worker.
func TestServeWritesBack(t *testing.T) {
	gh := newFakeGitHubAPI(t)
	base, _ := serveWired(t, map[string]string{"GITHUB_TOKEN": githubToken, "GITHUB_API_URL": gh.URL})
	acceptGitHubEstimate(t, jsonCaller(t, base))

	if writes := gh.waitWrites(t, 10*time.Second); len(writes) != 1 || writes[0] != "labels estimate: 5" {
		t.Errorf("GitHub saw %v", writes)
	}
}

// serveWired runs the server as main wires it, on a fresh SQLite database with env on top, until the
// test ends. It returns the server's base URL and call, which sends a JSON request with the
// cookies of one browser, fails the test on an error status and decodes the answer into out.
func serveWired(t *testing.T, env map[string]string) (base string, call func(method, path string, body, out any)) {
	t.Helper()
	all := map[string]string{"POKOR_ADDR": "127.0.0.1:0", "POKOR_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "pokor.db"),
		"POKOR_SECRET_KEY": testSecretKey}
	for k, v := range env {
		all[k] = v
	}
	withEnv(t, all)
	cfg, err := loadConfig(nil, getenv)
	if err != nil {
		t.Fatal(err)
	}
	m := NewMain(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := m.Open(context.Background()); err != nil {
		m.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; m.Close() })

	base = "http://" + m.Addr()
	return base, jsonCaller(t, base)
}

// jsonCaller returns call, which sends a JSON request to the server at base with the cookies of
// one browser, fails the test on an error status and decodes the answer into out.
func jsonCaller(t *testing.T, base string) func(method, path string, body, out any) {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	return func(method, path string, body, out any) {
		t.Helper()
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
		}
		if out != nil {
			json.Unmarshal(b, out)
		}
	}
}

// acceptGitHubEstimate does through call what an organizer does to estimate a GitHub issue:
// create a session, connect GitHub, add acme/api#1, vote 5, reveal and accept. The write-back
// follows.
func acceptGitHubEstimate(t *testing.T, call func(method, path string, body, out any)) {
	t.Helper()
	var created struct {
		Session struct{ ID string }
	}
	call("POST", "/api/v1/sessions", map[string]string{"name": "Ann"}, &created)
	api := "/api/v1/sessions/" + created.Session.ID
	call("PUT", api+"/connections/github", map[string]any{"options": map[string]string{"mode": "label"}}, nil)
	var stories []struct{ ID string }
	call("POST", api+"/stories", map[string]string{"title": "Login fails", "source": "github", "key": "acme/api#1"}, &stories)
	sid := stories[0].ID
	call("PUT", api+"/stories/"+sid+"/vote", map[string]string{"card": "5"}, nil)
	call("POST", api+"/stories/"+sid+"/reveal", nil, nil)
	call("POST", api+"/stories/"+sid+"/accept", map[string]string{"value": "5"}, nil)
}
