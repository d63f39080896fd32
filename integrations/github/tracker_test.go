package github

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/pokor/pokor/session"
)

// The session's token replaces GITHUB_TOKEN; a blank one keeps it, and no credential can move
// GitHub to another server. Without any token, a write is refused before it reaches GitHub and
// a refusal says where to set one.
func TestTrackerCredentials(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") == "" {
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"message":"Not Found"}`))
			return
		}
		w.Write([]byte(`[]`))
	}))
	defer srv.Close()
	env := map[string]string{"GITHUB_TOKEN": "ghp_server", "GITHUB_API_URL": srv.URL}
	tr := Tracker(func(k string) string { return env[k] })
	last := func() string {
		mu.Lock()
		defer mu.Unlock()
		return seen[len(seen)-1]
	}
	for _, tt := range []struct {
		creds session.Credentials
		want  string
	}{
		{nil, "Bearer ghp_server"},
		{session.Credentials{"token": "ghp_session"}, "Bearer ghp_session"},
		{session.Credentials{"token": "  ", "base_url": "http://evil.example"}, "Bearer ghp_server"},
	} {
		c, err := tr.Open(tt.creds)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.List(context.Background(), "acme/api", ""); err != nil {
			t.Fatal(err)
		}
		if got := last(); got != tt.want {
			t.Errorf("creds %v sent %q, want %q", tt.creds, got, tt.want)
		}
	}

	delete(env, "GITHUB_TOKEN")
	c, _ := tr.Open(nil)
	n := len(seen)
	_, err := c.WriteEstimate(context.Background(), "acme/api#1", session.WriteBack{Value: "5"})
	if session.ErrorCode(err) != session.CodeForbidden || !strings.Contains(session.ErrorMessage(err), "Import → Connection to GitHub") || len(seen) != n {
		t.Errorf("a write without a token: %v (%d requests)", err, len(seen)-n)
	}
	_, err = c.List(context.Background(), "acme/secret", "")
	if session.ErrorCode(err) != session.CodeNotFound || !strings.Contains(session.ErrorMessage(err), "set GITHUB_TOKEN on the server") {
		t.Errorf("listing a private repository anonymously: %v", err)
	}
}
