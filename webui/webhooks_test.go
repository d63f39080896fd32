package webui_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pokor/pokor/integrations/webhook"
	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/session/sqlstore"
	"github.com/pokor/pokor/webui/webuitest"
)

// TestSessionWebhookAPI: an organizer sets the session's webhook through the JSON API (every
// answer checked against the OpenAPI description by webuitest), and the webhook receives the
// accepted estimate, signed with the secret that was shown once.
func TestSessionWebhookAPI(t *testing.T) {
	_, recv, setSecret, got, client := webhookServer(t)
	call := client()
	var created struct{ Session struct{ ID string } }
	if st := call("POST", "/api/v1/sessions", `{"name":"Olga"}`, &created); st != http.StatusCreated {
		t.Fatalf("create: %d", st)
	}
	base := "/api/v1/sessions/" + created.Session.ID
	if st := call("GET", base+"/webhook", "", nil); st != http.StatusNotFound {
		t.Errorf("no webhook yet: %d", st)
	}
	if st := call("PUT", base+"/webhook", `{"url":"gopher://x"}`, nil); st != http.StatusBadRequest {
		t.Errorf("a gopher URL: %d", st)
	}
	var hook struct {
		URL, Secret string
		Events      []string
	}
	if st := call("PUT", base+"/webhook", `{"url":"`+recv.URL+`/hook"}`, &hook); st != http.StatusOK || !strings.HasPrefix(hook.Secret, "whsec_") || len(hook.Events) != 2 {
		t.Fatalf("set: %d %+v", st, hook)
	}
	setSecret(hook.Secret)
	var stories []struct{ ID string }
	call("POST", base+"/stories", `{"title":"Login page"}`, &stories)
	sid := stories[0].ID
	call("POST", base+"/stories/"+sid+"/select", "", nil)
	call("PUT", base+"/stories/"+sid+"/vote", `{"card":"8"}`, nil)
	call("POST", base+"/stories/"+sid+"/reveal", "", nil)
	if st := call("POST", base+"/stories/"+sid+"/accept", `{"value":"8"}`, nil); st != http.StatusOK {
		t.Fatalf("accept: %d", st)
	}
	select {
	case b := <-got:
		if b["type"] != "estimate.accepted" || b["estimate"].(map[string]any)["value"] != "8" {
			t.Errorf("delivered %v", b)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the webhook got nothing")
	}
	if st := call("DELETE", base+"/webhook", "", nil); st != http.StatusNoContent {
		t.Errorf("delete: %d", st)
	}
	call("POST", base+"/close", "", nil)
	select {
	case b := <-got:
		t.Errorf("a removed webhook got %v", b)
	case <-time.After(300 * time.Millisecond):
	}
}

// webhookServer starts a server that delivers webhooks at once, and a receiver that checks each
// delivery's signature with the secret given to setSecret and passes its body on got. client
// makes an API caller with its own cookies.
func webhookServer(t *testing.T) (srv *webuitest.Server, recv *httptest.Server, setSecret func(string), got chan map[string]any,
	client func() func(method, path, body string, out any) int) {
	var mu sync.Mutex
	var secret string
	got = make(chan map[string]any, 8)
	recv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		err := webhook.Verify(secret, r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature), body, time.Now())
		mu.Unlock()
		if err != nil {
			t.Errorf("delivery: %v", err)
		}
		var b map[string]any
		_ = json.Unmarshal(body, &b)
		got <- b
	}))
	t.Cleanup(recv.Close)
	srv = webuitest.Start(t, webuitest.Options{Service: func(c *session.Config) {
		c.Webhooks = session.WebhookConfig{Store: c.Store.(*sqlstore.Store), Sender: webhook.New([]string{"127.0.0.1"}, "test"), Poll: 20 * time.Millisecond}
	}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); srv.Service.RunWebhooks(ctx, "webui-test") }()
	t.Cleanup(func() { cancel(); <-done })
	setSecret = func(s string) { mu.Lock(); secret = s; mu.Unlock() }
	client = func() func(method, path, body string, out any) int {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		return func(method, path, body string, out any) int {
			t.Helper()
			if strings.HasPrefix(path, "/") {
				path = srv.URL + path
			}
			req, _ := http.NewRequest(method, path, strings.NewReader(body))
			if body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			res, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			if out != nil {
				_ = json.NewDecoder(res.Body).Decode(out)
			}
			return res.StatusCode
		}
	}
	return srv, recv, setSecret, got, client
}
