package webui

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pokor/pokor/integrations/csv"
	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/session/sqlstore"
)

// testServer is a real Pokor web server on a real SQLite file.
type testServer struct {
	t     *testing.T
	dir   string
	keys  *session.Keys
	store *sqlstore.Store
	hub   *session.Hub
	svc   *session.Service
	web   *Server
	http  *httptest.Server
	// stopTimers ends the timer worker.
	stopTimers func()
}

const testSecret = "test-secret-key-that-is-long-enough-0123456789"

// newTestServer starts a server on a fresh database in dir (a new temp dir when empty).
func newTestServer(t *testing.T, dir string) *testServer {
	t.Helper()
	return startTestServer(t, dir, serverOptions{})
}

// serverOptions adjust a test server.
type serverOptions struct {
	// addr is the address to listen on; a restarted server takes the port its clients know.
	addr string
	// service changes the service's configuration (a chat nudger) before it is built.
	service func(*session.Config)
}

// startTestServer starts a server on the database in dir (a new temp dir when empty); the
// database of an earlier server in the same dir is opened as it was left, as after a restart.
func startTestServer(t *testing.T, dir string, opts serverOptions) *testServer {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	keys, err := session.NewKeys(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlstore.Open(context.Background(), "sqlite:"+filepath.Join(dir, "pokor.db"), keys)
	if err != nil {
		t.Fatal(err)
	}
	hub := session.NewHub()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ts := &testServer{t: t, dir: dir, keys: keys, store: store, hub: hub}
	ts.http = httptest.NewUnstartedServer(nil)
	if opts.addr != "" {
		ln, err := net.Listen("tcp", opts.addr)
		if err != nil {
			t.Fatalf("listening on %s again: %v", opts.addr, err)
		}
		ts.http.Listener.Close()
		ts.http.Listener = ln
	}
	base := "http://" + ts.http.Listener.Addr().String()
	cfg := session.Config{Store: store, Bus: session.LocalBus{Hub: hub}, Presence: hub, Keys: keys, BaseURL: base, Logger: log,
		Trackers: []session.Tracker{csv.Tracker()}}
	if opts.service != nil {
		opts.service(&cfg)
	}
	ts.svc = session.NewService(cfg)
	hub.OnPresence(ts.svc.PresenceChanged)
	ts.web, err = New(Config{Service: ts.svc, Hub: hub, BaseURL: base, Logger: log, Ready: store.Ping})
	if err != nil {
		t.Fatal(err)
	}
	ts.http.Config.Handler = ts.web.Handler()
	ts.http.Start()
	timers, stopTimers := context.WithCancel(context.Background())
	go ts.svc.RunTimers(timers)
	ts.stopTimers = stopTimers
	t.Cleanup(ts.close)
	return ts
}

func (ts *testServer) close() {
	if ts.http == nil {
		return
	}
	ts.stopTimers()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ts.web.Shutdown(ctx)
	ts.http.CloseClientConnections()
	ts.http.Close()
	ts.store.Close()
	ts.http = nil
}

// client is one browser: a cookie jar and, once connected, a WebSocket that records every byte.
type client struct {
	t    *testing.T
	ts   *testServer
	http *http.Client
	name string
	id   string // participant id

	mu     sync.Mutex
	ws     *websocket.Conn
	raw    [][]byte
	events chan map[string]any
	// closeErr is how the server ended the socket (a *websocket.CloseError for a close frame).
	closeErr error
	seq      int
}

func (ts *testServer) newClient(name string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: ts.t, ts: ts, http: &http.Client{Jar: jar, Timeout: 10 * time.Second}, name: name, events: make(chan map[string]any, 1024)}
}

// do sends a JSON API request and decodes the answer into out (when not nil); it returns the status.
func (c *client) do(method, path string, body any, out any) int {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.ts.http.URL+path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: decoding %q: %v", method, path, b, err)
		}
	}
	return res.StatusCode
}

// create makes a session with this client as organizer and returns its id.
func (c *client) create(body map[string]any) string {
	c.t.Helper()
	body["name"] = c.name
	var out joinedResponse
	if st := c.do("POST", "/api/v1/sessions", body, &out); st != http.StatusCreated {
		c.t.Fatalf("create session: status %d", st)
	}
	c.id = out.Participant.ID
	return out.Session.ID
}

func (c *client) join(sid, role string) {
	c.t.Helper()
	var out joinedResponse
	if st := c.do("POST", "/api/v1/sessions/"+sid+"/participants", map[string]any{"name": c.name, "role": role}, &out); st != http.StatusCreated {
		c.t.Fatalf("join: status %d", st)
	}
	c.id = out.Participant.ID
}

// connect opens the room WebSocket with the client's cookies and waits for the snapshot.
func (c *client) connect(sid string) map[string]any {
	c.t.Helper()
	u := "ws" + strings.TrimPrefix(c.ts.http.URL, "http") + "/s/" + sid + "/ws"
	hdr := http.Header{}
	for _, ck := range c.http.Jar.Cookies(mustURL(c.ts.http.URL)) {
		hdr.Add("Cookie", ck.Name+"="+ck.Value)
	}
	ws, res, err := websocket.DefaultDialer.Dial(u, hdr)
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		c.t.Fatalf("dial %s: %v (status %d)", c.name, err, status)
	}
	events := make(chan map[string]any, 1024)
	c.mu.Lock()
	c.ws, c.events = ws, events
	c.mu.Unlock()
	go func() {
		for {
			_, msg, err := ws.ReadMessage()
			if err != nil {
				c.mu.Lock()
				c.closeErr = err
				c.mu.Unlock()
				close(events)
				return
			}
			c.mu.Lock()
			c.raw = append(c.raw, msg)
			c.mu.Unlock()
			var ev map[string]any
			if json.Unmarshal(msg, &ev) == nil {
				events <- ev
			}
		}
	}()
	return c.expect("snapshot")
}

// send writes a raw message on the socket.
func (c *client) send(v any) {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	if b, ok := v.([]byte); ok {
		err = c.ws.WriteMessage(websocket.TextMessage, b)
	} else {
		err = c.ws.WriteJSON(v)
	}
	if err != nil {
		c.t.Fatalf("%s send: %v", c.name, err)
	}
}

// request sends an action on the socket and returns its ack or error event.
func (c *client) request(typ string, fields map[string]any) map[string]any {
	c.t.Helper()
	c.seq++
	id := c.name + "-" + strconv.Itoa(c.seq)
	msg := map[string]any{"id": id, "type": typ}
	for k, v := range fields {
		msg[k] = v
	}
	c.send(msg)
	for {
		ev := c.next()
		if ev["type"] == "ack" || ev["type"] == "error" {
			if d, _ := ev["data"].(map[string]any); d["id"] == id {
				return ev
			}
		}
	}
}

// next returns the next event, failing the test after a generous deadline.
func (c *client) next() map[string]any {
	c.t.Helper()
	c.mu.Lock()
	events := c.events
	c.mu.Unlock()
	select {
	case ev, ok := <-events:
		if !ok {
			c.t.Fatalf("%s: connection closed", c.name)
		}
		return ev
	case <-time.After(10 * time.Second):
		c.t.Fatalf("%s: no event within 10s; received:\n%s", c.name, c.received())
	}
	return nil
}

// expect skips events until one of the given type arrives.
func (c *client) expect(typ string) map[string]any {
	c.t.Helper()
	for {
		if ev := c.next(); ev["type"] == typ {
			return ev
		}
	}
}

// received returns every byte received so far.
func (c *client) received() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Join(c.raw, []byte("\n"))
}

func mustURL(s string) *url.URL {
	u, _ := url.Parse(s)
	return u
}
