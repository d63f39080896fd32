package notion

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		kind session.Code
	}{
		{name: "no token", cfg: Config{Token: "  "}, kind: session.CodeForbidden},
		{name: "base url without scheme", cfg: Config{Token: testToken, BaseURL: "localhost:8080"}, kind: session.CodeInvalid},
		{name: "base url of another scheme", cfg: Config{Token: testToken, BaseURL: "ftp://example.com"}, kind: session.CodeInvalid},
		{name: "public api", cfg: Config{Token: testToken}},
		{name: "proxy", cfg: Config{Token: testToken, BaseURL: "https://proxy.example/notion"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.cfg)
			if tt.kind != "" {
				wantKind(t, err, tt.kind)
				return
			}
			if err != nil || c == nil {
				t.Fatalf("New: %v", err)
			}
		})
	}
}

func TestConfigStringHidesSecrets(t *testing.T) {
	cfg := Config{Token: testToken, BaseURL: "http://pokor:proxy-password@localhost:9999"}
	for _, s := range []string{cfg.String(), fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg)} {
		if strings.Contains(s, testToken) || strings.Contains(s, "proxy-password") || !strings.Contains(s, "Token: set") {
			t.Fatalf("%q shows a secret or hides whether the token is set", s)
		}
	}
}

func TestBaseURLRewrite(t *testing.T) {
	tests := []struct {
		name     string
		prefix   string // path of NOTION_API_URL
		wantPath string
	}{
		{name: "host only", prefix: "", wantPath: "/v1/users/me"},
		{name: "trailing slash", prefix: "/", wantPath: "/v1/users/me"},
		{name: "proxy prefix", prefix: "/notion", wantPath: "/notion/v1/users/me"},
		{name: "with version", prefix: "/notion/v1/", wantPath: "/notion/v1/users/me"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotPath, gotHost, gotAuth, gotVersion string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotPath, gotHost = r.URL.Path, r.Host
				gotAuth, gotVersion = r.Header.Get("Authorization"), r.Header.Get("Notion-Version")
				writeJSON(w, map[string]any{"object": "user", "id": "u1", "name": "Pokor", "type": "bot", "bot": map[string]any{}})
			}))
			defer srv.Close()
			c, err := New(Config{Token: testToken, BaseURL: srv.URL + tt.prefix})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.me(context.Background()); err != nil {
				t.Fatalf("me: %v", err)
			}
			if gotPath != tt.wantPath || gotHost != strings.TrimPrefix(srv.URL, "http://") {
				t.Errorf("request went to %s%s, want %s", gotHost, gotPath, tt.wantPath)
			}
			if gotAuth != "Bearer "+testToken || gotVersion != notionVersion {
				t.Errorf("Authorization %q, Notion-Version %q", gotAuth, gotVersion)
			}
		})
	}
}

func TestCallerHTTPClientIsKept(t *testing.T) {
	f := newFake(t)
	f.standard()
	var seen atomic.Int32
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		seen.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})}
	c, err := New(Config{Token: testToken, BaseURL: f.srv.URL, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Databases(context.Background()); err != nil {
		t.Fatalf("Databases: %v", err)
	}
	if seen.Load() != 1 {
		t.Fatalf("caller's transport saw %d requests, want 1", seen.Load())
	}
	if _, ok := hc.Transport.(roundTripFunc); !ok {
		t.Fatal("New modified the caller's http.Client")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestErrorGuidance(t *testing.T) {
	tests := []struct {
		name    string
		token   string
		failOn  string // "METHOD /path" the fake answers with status
		status  int
		kind    session.Code
		wantMsg []string
		retry   bool
	}{
		{name: "invalid token", token: "ntn_wrong", kind: session.CodeForbidden,
			wantMsg: []string{"token is invalid", "NOTION_TOKEN"}},
		{name: "missing capability", failOn: "POST /v1/databases/" + backlogID + "/query", status: http.StatusForbidden,
			kind: session.CodeForbidden, wantMsg: []string{"may not read database", "Capabilities", "Read content"}},
		{name: "server error", failOn: "POST /v1/databases/" + backlogID + "/query", status: http.StatusInternalServerError,
			kind: session.CodeUnavailable, wantMsg: []string{"500 internal_server_error"}, retry: true},
		{name: "html from a proxy", failOn: "GET /v1/databases/" + backlogID, status: http.StatusBadGateway,
			kind: session.CodeUnavailable, wantMsg: []string{"502 bad_gateway"}, retry: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.standard()
			if tt.failOn != "" {
				method, path, _ := strings.Cut(tt.failOn, " ")
				f.fail(method, path, tt.status)
			}
			token := testToken
			if tt.token != "" {
				token = tt.token
			}
			c, err := New(Config{Token: token, BaseURL: f.srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			c.pace.interval = time.Millisecond
			_, err = c.List(context.Background(), backlogID, "")
			e := wantKind(t, err, tt.kind)
			for _, m := range tt.wantMsg {
				if !strings.Contains(e.Message, m) {
					t.Errorf("message %q does not contain %q", e.Message, m)
				}
			}
			if strings.Contains(e.Error(), token) {
				t.Errorf("error %q contains the token", e.Error())
			}
			if retry, _ := session.Retryable(err); retry != tt.retry {
				t.Errorf("Retryable = %v, want %v", retry, tt.retry)
			}
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	f := newFake(t)
	f.standard()
	c := newClient(t, f)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if i%2 == 0 {
				_, err = c.List(context.Background(), "Sprint Backlog [Status=Ready]", "")
			} else {
				_, err = c.WriteEstimate(context.Background(), page2ID, session.WriteBack{Value: "3"})
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent call: %v", err)
		}
	}
}

func TestRateLimit(t *testing.T) {
	t.Run("short pause is sat out and the request resent whole", func(t *testing.T) {
		f := newFake(t)
		f.standard()
		c := newClient(t, f)
		if _, err := c.List(context.Background(), backlogID, ""); err != nil {
			t.Fatal(err)
		}
		f.rateLimit("1")
		start := time.Now()
		page, err := c.List(context.Background(), backlogID+" [Status=Ready]", "")
		if err != nil {
			t.Fatalf("List after a 429: %v", err)
		}
		if elapsed := time.Since(start); elapsed < 900*time.Millisecond {
			t.Errorf("retried after %s, want Retry-After's 1s respected", elapsed)
		}
		if len(page.Stories) != 2 {
			t.Errorf("got %d items, want 2", len(page.Stories))
		}
		// The query after the retried read carries its whole filter.
		queries := f.calls("POST", "/v1/databases/"+backlogID+"/query")
		assertJSON(t, queries[len(queries)-1].body, `{"page_size":100,"filter":{"property":"Status","status":{"equals":"Ready"}}}`)
	})

	t.Run("a 429 on a POST is resent with its body", func(t *testing.T) {
		f := newFake(t)
		f.standard()
		c := newClient(t, f)
		f.rateLimit("1")
		if _, err := c.Databases(context.Background()); err != nil {
			t.Fatalf("Databases after a 429: %v", err)
		}
		searches := f.calls("POST", "/v1/search")
		if len(searches) != 2 || searches[0].body != searches[1].body || searches[1].body == "" {
			t.Fatalf("searches = %+v, want the same body twice", searches)
		}
	})

	t.Run("long pause is reported with Retry-After", func(t *testing.T) {
		f := newFake(t)
		f.standard()
		c := newClient(t, f)
		f.rateLimit("30")
		_, err := c.WriteEstimate(context.Background(), page2ID, session.WriteBack{Value: "3"})
		e := wantKind(t, err, session.CodeUnavailable)
		if e.RetryAfter != 30*time.Second {
			t.Errorf("RetryAfter = %s, want 30s", e.RetryAfter)
		}
		retry, wait := session.Retryable(err)
		if !retry || wait != 30*time.Second {
			t.Errorf("Retryable = %v, %s; want true, 30s", retry, wait)
		}
		before := len(f.calls("", ""))
		_, err = c.WriteEstimate(context.Background(), page2ID, session.WriteBack{Value: "3"})
		e = wantKind(t, err, session.CodeUnavailable)
		if e.RetryAfter < 29*time.Second || e.RetryAfter > 30*time.Second {
			t.Errorf("RetryAfter = %s while paused, want about 30s", e.RetryAfter)
		}
		if after := len(f.calls("", "")); after != before {
			t.Errorf("%d requests reached Notion during the pause, want none", after-before)
		}
	})

	t.Run("a 429 without Retry-After", func(t *testing.T) {
		f := newFake(t)
		f.standard()
		c := newClient(t, f)
		f.rateLimit("", "")
		_, err := c.List(context.Background(), backlogID, "")
		e := wantKind(t, err, session.CodeUnavailable)
		if e.RetryAfter != time.Second {
			t.Errorf("RetryAfter = %s, want 1s", e.RetryAfter)
		}
	})
}

func TestPacer(t *testing.T) {
	tests := []struct {
		name     string
		requests int
		minTime  time.Duration
	}{
		{name: "burst goes at once", requests: 3, minTime: 0},
		{name: "beyond the burst is spaced", requests: 6, minTime: 140 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &pacer{interval: 50 * time.Millisecond, burst: 3, maxWait: time.Second}
			start := time.Now()
			for range tt.requests {
				if err := p.wait(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			elapsed := time.Since(start)
			if elapsed < tt.minTime {
				t.Fatalf("%d requests took %s, want at least %s", tt.requests, elapsed, tt.minTime)
			}
			if tt.minTime == 0 && elapsed > 40*time.Millisecond {
				t.Fatalf("burst of %d took %s, want no wait", tt.requests, elapsed)
			}
		})
	}

	t.Run("cancelled while waiting", func(t *testing.T) {
		p := &pacer{interval: time.Second, burst: 1, maxWait: time.Second}
		_ = p.wait(context.Background())
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		if err := p.wait(ctx); err == nil {
			t.Fatal("wait outlived its context")
		}
	})
}

// A payload Pokor did not expect neither panics nor stops an import: a property without its
// "type" is a property Pokor does not read, and an answer that is not Notion's JSON is a
// retryable error.
func TestUnexpectedPayload(t *testing.T) {
	var broken atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			writeJSON(w, databaseJSON(&fakeDB{id: backlogID, title: "Backlog", props: []fakeProp{{name: "Name", id: "title", typ: "title"}}}))
			return
		}
		if broken.Load() {
			writeJSON(w, map[string]any{"object": "list", "results": "not a list"})
			return
		}
		writeJSON(w, map[string]any{"object": "list", "has_more": false, "next_cursor": nil, "results": []any{
			map[string]any{"object": "page", "id": page1ID, "properties": map[string]any{"Name": map[string]any{"id": "title"}}},
		}})
	}))
	defer srv.Close()
	c, err := New(Config{Token: testToken, BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.List(context.Background(), backlogID, "")
	if err != nil || len(p.Stories) != 1 || p.Stories[0].Title != "Untitled" {
		t.Fatalf("a property without its type: %+v, %v", p, err)
	}
	broken.Store(true)
	_, err = c.List(context.Background(), backlogID, "")
	e := wantKind(t, err, session.CodeUnavailable)
	if !strings.Contains(e.Message, "could not read") {
		t.Fatalf("message %q", e.Message)
	}
}
