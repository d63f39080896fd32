package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// pokorBin is the binary built once for the tests that run `pokor` as a process.
var pokorBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pokor-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pokorBin = filepath.Join(dir, "pokor")
	build := exec.Command("go", "build", "-o", pokorBin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building pokor: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// clusterSecretKey is the POKOR_SECRET_KEY every instance of a multi-instance test shares.
const clusterSecretKey = "multi-instance-test-secret-0123456789abcdef"

// proc is a running `pokor serve`.
type proc struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	addr string // host:port it listens on
	done chan struct{}
	err  error // exit status, once done is closed

	mu  sync.Mutex
	log bytes.Buffer
}

// startPokor runs `pokor serve` with env (on top of a minimal environment) on a free port and
// waits until it listens.
func startPokor(t *testing.T, name string, env map[string]string) *proc {
	t.Helper()
	p := &proc{t: t, name: name, done: make(chan struct{})}
	p.cmd = exec.Command(pokorBin, "serve")
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "POKOR_ADDR=127.0.0.1:0", "POKOR_LOG_FORMAT=json", "POKOR_LOG_LEVEL=debug"}
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	listening := make(chan string, 1)
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.log.WriteString(line + "\n")
			p.mu.Unlock()
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "pokor listening" {
				listening <- rec.Addr
			}
		}
	}()
	go func() {
		<-read // Wait closes the pipe: read all of it first
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("log of %s:\n%s", p.name, p.logs())
		}
	})
	select {
	case p.addr = <-listening:
	case <-p.done:
		t.Fatalf("%s exited at start: %v\n%s", name, p.err, p.logs())
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not start listening\n%s", name, p.logs())
	}
	return p
}

func (p *proc) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

func (p *proc) url(path string) string { return "http://" + p.addr + path }

// terminate sends SIGTERM, as an orchestrator does.
func (p *proc) terminate() { _ = p.cmd.Process.Signal(syscall.SIGTERM) }

// wait waits for the process to exit and returns its exit error.
func (p *proc) wait(d time.Duration) error {
	p.t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(d):
		p.t.Fatalf("%s did not exit within %s", p.name, d)
		return nil
	}
}

func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.terminate()
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// status returns the status and body of a GET.
func (p *proc) get(path string) (int, string) {
	res, err := http.Get(p.url(path))
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func (p *proc) waitReady() {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, body := p.get("/readyz")
		if st == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s not ready: %d %s", p.name, st, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// person is one participant: its token moves with it from instance to instance, as the browser's
// cookie does behind a load balancer.
type person struct {
	t     *testing.T
	name  string
	sid   string
	id    string
	token string

	mu     sync.Mutex
	ws     *websocket.Conn
	events chan map[string]any
	seen   []map[string]any
	seq    int
}

// api sends a JSON API request to an instance as this person and decodes the answer into out.
func (c *person) api(p *proc, method, path string, body, out any) int {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.url(path), r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.AddCookie(&http.Cookie{Name: "pokor_" + c.sid, Value: c.token})
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s %s: %v", c.name, method, path, err)
	}
	defer res.Body.Close()
	for _, ck := range res.Cookies() {
		if strings.HasPrefix(ck.Name, "pokor_") {
			c.token = ck.Value
		}
	}
	b, _ := io.ReadAll(res.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: decoding %s: %v", method, path, b, err)
		}
	}
	if res.StatusCode >= 300 {
		c.t.Logf("%s %s %s: %d %s", c.name, method, path, res.StatusCode, b)
	}
	return res.StatusCode
}

type joined struct {
	Session struct {
		ID string `json:"id"`
	} `json:"session"`
	Participant struct {
		ID string `json:"id"`
	} `json:"participant"`
}

// createSession makes a session on p with this person as organizer.
func createSession(t *testing.T, p *proc, name string, settings map[string]any) *person {
	t.Helper()
	c := &person{t: t, name: name}
	var out joined
	if st := c.api(p, "POST", "/api/v1/sessions", map[string]any{"name": name, "settings": settings}, &out); st != http.StatusCreated {
		t.Fatalf("creating a session: %d", st)
	}
	c.sid, c.id = out.Session.ID, out.Participant.ID
	return c
}

// joinSession joins the session through p.
func joinSession(t *testing.T, p *proc, sid, name string) *person {
	t.Helper()
	c := &person{t: t, name: name, sid: sid}
	var out joined
	if st := c.api(p, "POST", "/api/v1/sessions/"+sid+"/participants", map[string]any{"name": name}, &out); st != http.StatusCreated {
		t.Fatalf("%s joining: %d", name, st)
	}
	c.id = out.Participant.ID
	return c
}

// connect opens the room socket on p and returns the snapshot.
func (c *person) connect(p *proc) map[string]any {
	c.t.Helper()
	hdr := http.Header{}
	hdr.Set("Cookie", "pokor_"+c.sid+"="+c.token)
	ws, res, err := websocket.DefaultDialer.Dial("ws://"+p.addr+"/s/"+c.sid+"/ws", hdr)
	if err != nil {
		st := 0
		if res != nil {
			st = res.StatusCode
		}
		c.t.Fatalf("%s connecting to %s: %v (%d)", c.name, p.name, err, st)
	}
	events := make(chan map[string]any, 4096)
	c.mu.Lock()
	c.ws, c.events = ws, events
	c.mu.Unlock()
	go func() {
		defer close(events)
		for {
			_, msg, err := ws.ReadMessage()
			if err != nil {
				return
			}
			var ev map[string]any
			if json.Unmarshal(msg, &ev) == nil {
				c.mu.Lock()
				c.seen = append(c.seen, ev)
				c.mu.Unlock()
				events <- ev
			}
		}
	}()
	return c.expect("snapshot")
}

// next returns the next event; ok is false when the socket closed.
func (c *person) next(d time.Duration) (map[string]any, bool) {
	c.t.Helper()
	c.mu.Lock()
	events := c.events
	c.mu.Unlock()
	select {
	case ev, ok := <-events:
		return ev, ok
	case <-time.After(d):
		c.t.Fatalf("%s: no event within %s", c.name, d)
		return nil, false
	}
}

// expect skips events until one of type typ arrives.
func (c *person) expect(typ string) map[string]any {
	c.t.Helper()
	for {
		ev, ok := c.next(15 * time.Second)
		if !ok {
			c.t.Fatalf("%s: connection closed while waiting for %s", c.name, typ)
		}
		if ev["type"] == typ {
			return ev
		}
	}
}

// closed waits for the server to close the socket.
func (c *person) closed() {
	c.t.Helper()
	for {
		if _, ok := c.next(15 * time.Second); !ok {
			return
		}
	}
}

// request sends a room action on the socket and waits for its answer.
func (c *person) request(typ string, fields map[string]any) map[string]any {
	c.t.Helper()
	id := c.send(typ, fields)
	return c.answer(id)
}

func (c *person) send(typ string, fields map[string]any) string {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	id := c.name + "-" + strconv.Itoa(c.seq)
	msg := map[string]any{"id": id, "type": typ}
	for k, v := range fields {
		msg[k] = v
	}
	if err := c.ws.WriteJSON(msg); err != nil {
		c.t.Fatalf("%s sending %s: %v", c.name, typ, err)
	}
	return id
}

func (c *person) answer(id string) map[string]any {
	c.t.Helper()
	for {
		ev, ok := c.next(15 * time.Second)
		if !ok {
			c.t.Fatalf("%s: connection closed while waiting for the answer to %s", c.name, id)
		}
		if ev["type"] == "ack" || ev["type"] == "error" {
			if d, _ := ev["data"].(map[string]any); d["id"] == id {
				if ev["type"] == "error" {
					c.t.Fatalf("%s: request %s failed: %v", c.name, id, d)
				}
				return d
			}
		}
	}
}

// count returns how many events of type typ (for story storyID when not empty) arrived so far.
func (c *person) count(typ, storyID string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, ev := range c.seen {
		if ev["type"] != typ {
			continue
		}
		if d, _ := ev["data"].(map[string]any); storyID == "" || d["id"] == storyID || d["story_id"] == storyID {
			n++
		}
	}
	return n
}

// waitCount waits until count(typ, storyID) reaches n, and fails if it goes beyond.
func (c *person) waitCount(typ, storyID string, n int) {
	c.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for c.count(typ, storyID) < n {
		if time.Now().After(deadline) {
			c.t.Fatalf("%s saw %d %s events for %s, want %d", c.name, c.count(typ, storyID), typ, storyID, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := c.count(typ, storyID); got != n {
		c.t.Errorf("%s saw %d %s events for %s, want %d", c.name, got, typ, storyID, n)
	}
}

// lastData returns the data of the last event of type typ for storyID.
func (c *person) lastData(typ, storyID string) map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.seen) - 1; i >= 0; i-- {
		ev := c.seen[i]
		if d, _ := ev["data"].(map[string]any); ev["type"] == typ && (d["id"] == storyID || d["story_id"] == storyID) {
			return d
		}
	}
	return nil
}

func (c *person) hangUp() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ws != nil {
		c.ws.Close()
	}
}
