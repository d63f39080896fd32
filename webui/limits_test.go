package webui

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// post sends a JSON POST with extra headers, as a client that is not a browser might.
func post(t *testing.T, ts *testServer, path, body string, hdr map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", ts.http.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

// metric returns the value of one sample line of /metrics ("" when absent).
func metric(t *testing.T, ts *testServer, sample string) string {
	t.Helper()
	res, err := http.Get(ts.http.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			return v
		}
	}
	return ""
}

func TestRateLimitSessions(t *testing.T) {
	tests := []struct {
		name    string
		proxies []string
		// spoofed: whether requests with different X-Forwarded-For count as different clients.
		spoofed bool
	}{
		{"X-Forwarded-For ignored without trusted proxies", nil, false},
		{"X-Forwarded-For honoured from a trusted proxy", []string{"127.0.0.1/32"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServerWith(t, "", func(c *Config) {
				c.Limits = Limits{Sessions: Rate{N: 2, Per: time.Hour}, TrustedProxies: tt.proxies}
			})
			create := func(xff string) *http.Response {
				return post(t, ts, "/api/v1/sessions", `{"name":"Ann"}`, map[string]string{"X-Forwarded-For": xff})
			}
			for i := range 2 {
				if res := create("203.0.113.1"); res.StatusCode != http.StatusCreated {
					t.Fatalf("create %d: %d", i, res.StatusCode)
				}
			}
			res := create("203.0.113.1")
			if res.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("third create: %d, want 429", res.StatusCode)
			}
			// One token comes back every 30 minutes.
			if s, _ := strconv.Atoi(res.Header.Get("Retry-After")); s < 1700 || s > 1800 {
				t.Errorf("Retry-After = %q, want about 1800", res.Header.Get("Retry-After"))
			}
			other := create("198.51.100.7")
			if got := other.StatusCode == http.StatusCreated; got != tt.spoofed {
				t.Errorf("another X-Forwarded-For: %d; counted as another client = %v, want %v", other.StatusCode, got, tt.spoofed)
			}
			if v := metric(t, ts, `pokor_rate_limited_total{limit="sessions"}`); v == "" || v == "0" {
				t.Errorf("pokor_rate_limited_total{limit=sessions} = %q", v)
			}
		})
	}
}

func TestRateLimitJoinsAndMessages(t *testing.T) {
	ts := newTestServerWith(t, "", func(c *Config) {
		c.Limits = Limits{Joins: Rate{N: 1, Per: time.Minute}, Messages: Rate{N: 3, Per: time.Minute}}
	})
	org := ts.newClient("Olga")
	sid := org.create(map[string]any{})
	ann := ts.newClient("Ann")
	ann.join(sid, "voter")
	if st := ts.newClient("Bob").do("POST", "/api/v1/sessions/"+sid+"/participants", map[string]any{"name": "Bob"}, nil); st != http.StatusTooManyRequests {
		t.Errorf("second join within a minute: %d, want 429", st)
	}
	res, _ := http.Get(ts.http.URL + "/s/" + sid + "/enter?t=x")
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Errorf("joining by link over the limit: %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	res.Body.Close()

	// Messages: Olga's API calls and WebSocket messages share her three a minute.
	if st := org.do("POST", "/api/v1/sessions/"+sid+"/stories", map[string]any{"title": "One"}, nil); st != http.StatusOK {
		t.Fatalf("add story: %d", st)
	}
	org.connect(sid)
	if ev := org.request("ping", nil); ev["type"] != "ack" {
		t.Errorf("ping is not counted: %v", ev)
	}
	for i := range 2 {
		if ev := org.request("snapshot", nil); ev["type"] != "ack" {
			t.Fatalf("message %d: %v", i, ev)
		}
	}
	ev := org.request("snapshot", nil)
	d, _ := ev["data"].(map[string]any)
	if ev["type"] != "error" || d["code"] != "rate_limited" || d["retry_after"] == nil {
		t.Errorf("fourth message: %v, want a rate_limited error with retry_after", ev)
	}
	if st := org.do("POST", "/api/v1/sessions/"+sid+"/stories", map[string]any{"title": "Two"}, nil); st != http.StatusTooManyRequests {
		t.Errorf("API call over the limit: %d, want 429", st)
	}
	// Ann has her own budget.
	if st := ann.do("GET", "/api/v1/sessions/"+sid, nil, nil); st != http.StatusOK {
		t.Errorf("another participant: %d", st)
	}
	if v := metric(t, ts, `pokor_rate_limited_total{limit="messages"}`); v != "2" {
		t.Errorf("pokor_rate_limited_total{limit=messages} = %q, want 2", v)
	}
}

func TestConnectionCaps(t *testing.T) {
	ts := newTestServerWith(t, "", func(c *Config) { c.Limits = Limits{MaxConnections: 2, MaxRooms: 1} })
	org := ts.newClient("Olga")
	sid := org.create(map[string]any{})
	other := ts.newClient("Olga")
	sid2 := other.create(map[string]any{})
	dial := func(c *client, sid string) (*websocket.Conn, int) {
		hdr := http.Header{}
		for _, ck := range c.http.Jar.Cookies(mustURL(ts.http.URL)) {
			hdr.Add("Cookie", ck.Name+"="+ck.Value)
		}
		ws, res, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.http.URL, "http")+"/s/"+sid+"/ws", hdr)
		if err != nil {
			if res == nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			if !bytes.Contains(b, []byte("rate_limited")) {
				t.Errorf("refusal body: %s", b)
			}
			return nil, res.StatusCode
		}
		return ws, res.StatusCode
	}
	a, _ := dial(org, sid)
	b, _ := dial(org, sid)
	if _, st := dial(org, sid); st != http.StatusTooManyRequests {
		t.Errorf("third connection from one address: %d, want 429", st)
	}
	a.Close()
	time.Sleep(200 * time.Millisecond) // the server notices the close
	if _, st := dial(other, sid2); st != http.StatusTooManyRequests {
		t.Errorf("a second room from one address: %d, want 429", st)
	}
	b.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ws, st := dial(other, sid2)
		if ws != nil {
			ws.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after leaving the first room, the second is still refused: %d", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if v := metric(t, ts, `pokor_rate_limited_total{limit="rooms"}`); v == "" || v == "0" {
		t.Errorf("pokor_rate_limited_total{limit=rooms} = %q", v)
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]Rate{"30/m": {30, time.Minute}, "5/s": {5, time.Second}, "1000/h": {1000, time.Hour}, "off": {}, "0": {}} {
		if got, err := ParseRate(in); err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"30", "x/m", "-1/m", "30/d", "30/"} {
		if _, err := ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q) accepted", in)
		}
	}
}
