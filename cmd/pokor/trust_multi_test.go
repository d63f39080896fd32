package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/session/sessiontest"
)

// watcher is a room socket that keeps every message it receives and how it was closed, for the
// tests of what a member may see across instances (issue #12).
type watcher struct {
	t    *testing.T
	name string
	ws   *websocket.Conn
	done chan struct{}

	mu       sync.Mutex
	raw      [][]byte
	closeErr error
	seq      int
}

// watch opens c's room socket on p.
func watch(t *testing.T, p *proc, c *person) *watcher {
	t.Helper()
	hdr := http.Header{}
	hdr.Set("Cookie", "pokor_"+c.sid+"="+c.token)
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+p.addr+"/s/"+c.sid+"/ws", hdr)
	if err != nil {
		t.Fatalf("%s connecting to %s: %v", c.name, p.name, err)
	}
	w := &watcher{t: t, name: c.name + "@" + p.name, ws: ws, done: make(chan struct{})}
	t.Cleanup(func() { ws.Close() })
	go func() {
		defer close(w.done)
		for {
			_, msg, err := ws.ReadMessage()
			w.mu.Lock()
			if err != nil {
				w.closeErr = err
				w.mu.Unlock()
				return
			}
			w.raw = append(w.raw, msg)
			w.mu.Unlock()
		}
	}()
	w.find(0, "snapshot", nil)
	return w
}

func (w *watcher) mark() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.raw)
}

func (w *watcher) since(m int) []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return bytes.Join(w.raw[m:], []byte("\n"))
}

// find waits for an event of type typ after mark m for which match (when not nil) is true.
func (w *watcher) find(m int, typ string, match func(d map[string]any) bool) map[string]any {
	w.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		w.mu.Lock()
		msgs := w.raw[m:]
		w.mu.Unlock()
		for _, msg := range msgs {
			var ev struct {
				Type string         `json:"type"`
				Data map[string]any `json:"data"`
			}
			if json.Unmarshal(msg, &ev) == nil && ev.Type == typ && (match == nil || match(ev.Data)) {
				return ev.Data
			}
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("%s: no %s event; received:\n%s", w.name, typ, w.since(m))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ping makes a round trip on the socket: every event published before it has arrived after it.
func (w *watcher) ping() {
	w.t.Helper()
	w.mu.Lock()
	w.seq++
	id := fmt.Sprint("ping-", w.seq)
	m := len(w.raw)
	w.mu.Unlock()
	if err := w.ws.WriteJSON(map[string]any{"type": "ping", "id": id}); err != nil {
		w.t.Fatal(err)
	}
	w.find(m, "ack", func(d map[string]any) bool { return d["id"] == id })
}

// closed waits for the server to close the socket and returns the close code and reason.
func (w *watcher) closed() (int, string) {
	w.t.Helper()
	select {
	case <-w.done:
	case <-time.After(15 * time.Second):
		w.t.Fatalf("%s: the socket is still open", w.name)
	}
	var ce *websocket.CloseError
	if !errors.As(w.closeErr, &ce) {
		w.t.Fatalf("%s: the socket ended without a close frame: %v", w.name, w.closeErr)
	}
	return ce.Code, ce.Text
}

// TestTrustAcrossInstances: the organizer acts on blue while the members it acts on are connected
// to green. Removal closes the member's socket on green at once, and nothing of the room reaches
// it afterwards; a demoted organizer on green stops hearing of waiting joiners and a promoted one
// starts, on the same socket, each with a reloaded snapshot.
func TestTrustAcrossInstances(t *testing.T) {
	blue, green := startCluster(t)
	org := createSession(t, blue, "Olga", nil)
	ann := joinSession(t, green, org.sid, "Ann")
	bob := joinSession(t, green, org.sid, "Bob")
	oscar := joinSession(t, green, org.sid, "Oscar")
	st := addStory(t, org, blue, "Checkout")
	org.connect(blue)
	annWS, bobWS, oscarWS := watch(t, green, ann), watch(t, green, bob), watch(t, green, oscar)

	// Removal.
	for _, c := range []*person{ann, bob} {
		if code := c.api(green, "PUT", "/api/v1/sessions/"+org.sid+"/stories/"+st+"/vote", map[string]any{"card": map[*person]string{ann: "3", bob: "13"}[c], "rationale": "rationale of " + c.name}, nil); code != http.StatusOK {
			t.Fatalf("%s votes: %d", c.name, code)
		}
	}
	annWS.ping()
	m := annWS.mark()
	if code := org.api(blue, "DELETE", "/api/v1/sessions/"+org.sid+"/participants/"+ann.id, nil, nil); code != http.StatusNoContent {
		t.Fatalf("removing Ann: %d", code)
	}
	if code, reason := annWS.closed(); code != 4403 || !strings.Contains(reason, "removed you") {
		t.Errorf("Ann's socket on green closed with %d %q", code, reason)
	}
	if code := org.api(blue, "POST", "/api/v1/sessions/"+org.sid+"/stories/"+st+"/reveal", nil, nil); code != http.StatusOK {
		t.Fatalf("reveal: %d", code)
	}
	bobWS.find(0, "revealed", nil)
	after := annWS.since(m)
	for _, secret := range []string{"rationale of Bob", `"13"`, "revealed", "participant_removed"} {
		if bytes.Contains(after, []byte(secret)) {
			t.Errorf("removed, Ann received %q on green:\n%s", secret, after)
		}
	}
	if !bytes.Contains(after, []byte(`"removed":true`)) {
		t.Errorf("Ann was not told she was removed:\n%s", after)
	}

	// Demotion and promotion.
	if code := org.api(blue, "PATCH", "/api/v1/sessions/"+org.sid, map[string]any{"settings": map[string]any{"require_approval": true}}, nil); code != http.StatusOK {
		t.Fatalf("require approval: %d", code)
	}
	setRole := func(role string) map[string]any {
		t.Helper()
		m := oscarWS.mark()
		if code := org.api(blue, "PATCH", "/api/v1/sessions/"+org.sid+"/participants/"+oscar.id, map[string]any{"role": role}, nil); code != http.StatusOK {
			t.Fatalf("making Oscar %s: %d", role, code)
		}
		return oscarWS.find(m, "snapshot", func(d map[string]any) bool { return d["me"].(map[string]any)["role"] == role })
	}
	waiting := func(name string) {
		t.Helper()
		joinSession(t, blue, org.sid, name)
		for {
			if d := org.expect("participant")["data"].(map[string]any); d["name"] == name {
				return
			}
		}
	}
	setRole("organizer")
	waiting("Pat")
	oscarWS.find(0, "participant", func(d map[string]any) bool { return d["name"] == "Pat" })

	m = oscarWS.mark()
	if snap := setRole("voter"); snap["organizer_url"] != nil {
		t.Errorf("the demoted Oscar's snapshot has an organizer link")
	}
	waiting("Quinn")
	org.request("ping", nil)
	oscarWS.ping()
	if demoted := oscarWS.since(m); bytes.Contains(demoted, []byte("Quinn")) || bytes.Contains(demoted, []byte("Pat")) {
		t.Errorf("demoted, Oscar heard of waiting joiners on green:\n%s", demoted)
	}

	snap := setRole("organizer")
	var names []string
	for _, p := range snap["participants"].([]any) {
		names = append(names, p.(map[string]any)["name"].(string))
	}
	if !slices.Contains(names, "Pat") || !slices.Contains(names, "Quinn") {
		t.Errorf("promoted again, Oscar's snapshot lists %v", names)
	}
	m = oscarWS.mark()
	waiting("Rita")
	oscarWS.find(m, "participant", func(d map[string]any) bool { return d["name"] == "Rita" })
}

// TestOrganizerLinkAcrossInstances: an organizer link made on blue works on green, and once
// rotated on green it is refused on blue.
func TestOrganizerLinkAcrossInstances(t *testing.T) {
	blue, green := startCluster(t)
	org := &person{t: t, name: "Olga"}
	var out struct {
		joined
		OrganizerURL string `json:"organizer_url"`
	}
	if code := org.api(blue, "POST", "/api/v1/sessions", map[string]any{"name": "Olga"}, &out); code != http.StatusCreated || out.OrganizerURL == "" {
		t.Fatalf("create: %d %q", code, out.OrganizerURL)
	}
	org.sid, org.id = out.Session.ID, out.Participant.ID
	// POKOR_BASE_URL is http://pokor.test: the link is opened on an instance directly.
	_, query, _ := strings.Cut(out.OrganizerURL, "/enter?")
	enter := func(p *proc) (int, string) {
		req, _ := http.NewRequest("GET", p.url("/s/"+org.sid+"/enter?"+query), nil)
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		for _, ck := range res.Cookies() {
			return res.StatusCode, ck.Value
		}
		return res.StatusCode, ""
	}
	code, token := enter(green)
	if code != http.StatusSeeOther || token == "" {
		t.Fatalf("the organizer link on green: %d", code)
	}
	phone := &person{t: t, name: "Olga's phone", sid: org.sid, token: token}
	var snap struct {
		Me struct{ ID, Role string } `json:"me"`
	}
	if phone.api(green, "GET", "/api/v1/sessions/"+org.sid, nil, &snap); snap.Me.ID != org.id || snap.Me.Role != "organizer" {
		t.Fatalf("the phone is %+v", snap.Me)
	}
	if code := phone.api(green, "POST", "/api/v1/sessions/"+org.sid+"/organizer-link/rotate", nil, nil); code != http.StatusOK {
		t.Fatalf("rotate on green: %d", code)
	}
	if code, token := enter(blue); code != http.StatusForbidden || token != "" {
		t.Errorf("the old link on blue after rotation: %d", code)
	}
}

// TestRemovalDuringRedisOutage: Redis is away from blue when an organizer on green removes Ann,
// who is connected to blue. The change cannot cross the bus, so blue reconciles its members with
// the database while it is cut off: Ann's socket closes within seconds all the same.
func TestRemovalDuringRedisOutage(t *testing.T) {
	env := clusterEnv(t)
	relay, viaRelay := sessiontest.RedisRelay(t, env["POKOR_REDIS_URL"])
	blueEnv := map[string]string{}
	for k, v := range env {
		blueEnv[k] = v
	}
	blueEnv["POKOR_REDIS_URL"] = viaRelay
	blue, green := startPokor(t, "blue", blueEnv), startPokor(t, "green", env)
	blue.waitReady()
	green.waitReady()
	org := createSession(t, green, "Olga", nil)
	ann := joinSession(t, green, org.sid, "Ann")
	bob := joinSession(t, green, org.sid, "Bob")
	annWS, bobWS := watch(t, blue, ann), watch(t, blue, bob)

	relay.Cut()
	deadline := time.Now().Add(10 * time.Second)
	for code, _ := blue.get("/readyz"); code != http.StatusServiceUnavailable; code, _ = blue.get("/readyz") {
		if time.Now().After(deadline) {
			t.Fatal("blue never noticed that Redis is away")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code := org.api(green, "DELETE", "/api/v1/sessions/"+org.sid+"/participants/"+ann.id, nil, nil); code != http.StatusNoContent {
		t.Fatalf("removing Ann: %d", code)
	}
	if code, reason := annWS.closed(); code != 4403 || reason != session.ReasonGone {
		t.Errorf("Ann's socket on blue closed with %d %q, want 4403 %q", code, reason, session.ReasonGone)
	}
	bobWS.ping() // Bob, still a member, stays connected
}
