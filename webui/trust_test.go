package webui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pokor/pokor/session"
)

// The tests of this file check issue #12 (room trust) over real HTTP and WebSocket connections:
// what each connection receives is decided by who its participant is at the moment of each event.

// mark returns the number of messages c has received, for since.
func (c *client) mark() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.raw)
}

// since returns every message c received after mark m.
func (c *client) since(m int) [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.raw[m:])
}

// closedWith waits until the server closes c's socket and returns the close code and reason.
func (c *client) closedWith() (int, string) {
	c.t.Helper()
	c.mu.Lock()
	events := c.events
	c.mu.Unlock()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-events:
			if ok {
				continue
			}
			c.mu.Lock()
			err := c.closeErr
			c.mu.Unlock()
			var ce *websocket.CloseError
			if !errors.As(err, &ce) {
				c.t.Fatalf("%s: the socket ended without a close frame: %v", c.name, err)
			}
			return ce.Code, ce.Text
		case <-deadline:
			c.t.Fatalf("%s: the socket is still open", c.name)
		}
	}
}

// device is a second browser of c's participant: the same cookie, its own socket.
func (c *client) device(name string) *client {
	d := c.ts.newClient(name)
	d.http.Jar, d.id = c.http.Jar, c.id
	return d
}

// types returns the event types of messages.
func types(t *testing.T, msgs [][]byte) []string {
	t.Helper()
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		var ev struct{ Type string }
		if err := json.Unmarshal(m, &ev); err != nil {
			t.Fatalf("undecodable message %q: %v", m, err)
		}
		out = append(out, ev.Type)
	}
	return out
}

// roomView is what a snapshot says, in a form two snapshots can be compared in.
func roomView(t *testing.T, snap map[string]any) string {
	t.Helper()
	d := snap["data"].(map[string]any)
	var people []string
	for _, p := range d["participants"].([]any) {
		p := p.(map[string]any)
		people = append(people, fmt.Sprint(p["name"], "/", p["role"], "/", p["status"]))
	}
	me := d["me"].(map[string]any)
	_, hasLink := d["organizer_url"]
	return fmt.Sprintf("me=%v/%v/%v people=%v stories=%d my_votes=%v organizer_link=%v",
		me["name"], me["role"], me["status"], people, len(d["stories"].([]any)), d["my_votes"], hasLink)
}

// lastSince returns the last event of type typ c received after mark m; it fails if there is none.
func (c *client) lastSince(m int, typ string) map[string]any {
	c.t.Helper()
	msgs := c.since(m)
	for i := len(msgs) - 1; i >= 0; i-- {
		var ev map[string]any
		if json.Unmarshal(msgs[i], &ev) == nil && ev["type"] == typ {
			return ev
		}
	}
	c.t.Fatalf("%s received no %s", c.name, typ)
	return nil
}

// heard waits until c hears of the participant named name.
func heard(c *client, name string) {
	c.t.Helper()
	for {
		if d, _ := c.expect("participant")["data"].(map[string]any); d["name"] == name {
			return
		}
	}
}

// TestRemovalClosesEverySocket: an organizer removes Bob while he has two sockets open. Both close
// at once with 4403 and the reason; after the removal they receive only his own admission event,
// never the round that is revealed next; his cookie opens nothing any more.
func TestRemovalClosesEverySocket(t *testing.T) {
	ts := newTestServer(t, "")
	bob, cat := ts.newClient("Bob"), ts.newClient("Cat")
	org, sid, story := roomWith(t, ts, nil, bob, cat)
	phone := bob.device("Bob's phone")
	phone.connect(sid)
	bob.request("vote", map[string]any{"story_id": story, "data": map[string]any{"card": "c7x", "rationale": "because c7x"}})
	cat.request("vote", map[string]any{"story_id": story, "data": map[string]any{"card": "q9z", "rationale": "because q9z"}})
	for _, c := range []*client{bob, phone} {
		c.request("ping", nil) // everything before the removal has arrived
	}
	marks := map[*client]int{bob: bob.mark(), phone: phone.mark()}

	if ack := org.request("remove_participant", map[string]any{"participant_id": bob.id}); ack["type"] != "ack" {
		t.Fatalf("remove: %v", ack)
	}
	for _, c := range []*client{bob, phone} {
		code, reason := c.closedWith()
		if code != 4403 || reason != session.ReasonRemoved {
			t.Errorf("%s's socket closed with %d %q, want 4403 %q", c.name, code, reason, session.ReasonRemoved)
		}
	}
	if ack := org.request("reveal", map[string]any{"story_id": story}); ack["type"] != "ack" {
		t.Fatalf("reveal: %v", ack)
	}
	cat.expect("revealed")
	for _, c := range []*client{bob, phone} {
		after := c.since(marks[c])
		if got := types(t, after); !slices.Equal(got, []string{"admission"}) {
			t.Errorf("%s received %v after the removal, want only his admission event", c.name, got)
		}
		all := bytes.Join(after, nil)
		for _, secret := range []string{"q9z", "because q9z", "revealed", "participant_removed"} {
			if bytes.Contains(all, []byte(secret)) {
				t.Errorf("%s received %q after the removal: %s", c.name, secret, all)
			}
		}
	}
	if st := bob.do("GET", "/api/v1/sessions/"+sid, nil, nil); st != http.StatusForbidden {
		t.Errorf("Bob's snapshot after removal: %d", st)
	}
	u := "ws" + strings.TrimPrefix(ts.http.URL, "http") + "/s/" + sid + "/ws"
	hdr := http.Header{}
	for _, ck := range bob.http.Jar.Cookies(mustURL(ts.http.URL)) {
		hdr.Add("Cookie", ck.Name+"="+ck.Value)
	}
	if _, res, err := websocket.DefaultDialer.Dial(u, hdr); err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("Bob reconnects after removal: %v %v", err, res)
	}
}

// TestRoleChangesReroute: Oscar, on one socket all along, is admitted, promoted, demoted and
// promoted again. Each change reloads his snapshot, identical to what a fresh connection of his
// gets; while he is a voter no byte names a waiting joiner, and as an organizer he hears of them.
func TestRoleChangesReroute(t *testing.T) {
	ts := newTestServer(t, "")
	org := ts.newClient("Olga")
	sid := org.create(map[string]any{"title": "Approval", "settings": map[string]any{"require_approval": true}})
	org.connect(sid)
	oscar := ts.newClient("Oscar")
	oscar.join(sid, "voter")
	if me := oscar.connect(sid)["data"].(map[string]any)["me"].(map[string]any); me["status"] != "pending" {
		t.Fatalf("Oscar before admission: %v", me)
	}
	waiting := func(name string) {
		t.Helper()
		c := ts.newClient(name)
		c.join(sid, "voter")
		heard(org, name)
	}
	// fresh checks that the snapshot a change sent equals the one a new connection gets.
	fresh := func(snap map[string]any) {
		t.Helper()
		d := oscar.device("Oscar, fresh")
		got, want := roomView(t, snap), roomView(t, d.connect(sid))
		d.ws.Close()
		if got != want {
			t.Errorf("after the change: %s\n a fresh connection: %s", got, want)
		}
	}
	setRole := func(role string) map[string]any {
		t.Helper()
		if ack := org.request("update_participant", map[string]any{"participant_id": oscar.id, "data": map[string]any{"role": role}}); ack["type"] != "ack" {
			t.Fatalf("making Oscar %s: %v", role, ack)
		}
		snap := oscar.expect("snapshot")
		if me := snap["data"].(map[string]any)["me"].(map[string]any); me["role"] != role {
			t.Fatalf("Oscar's snapshot after becoming %s: %v", role, me)
		}
		fresh(snap)
		return snap
	}

	org.request("admit", map[string]any{"participant_id": oscar.id, "data": map[string]any{"admit": true}})
	if snap := oscar.expect("snapshot"); snap["data"].(map[string]any)["me"].(map[string]any)["status"] != "active" {
		t.Fatalf("Oscar's snapshot after admission: %v", snap)
	} else {
		fresh(snap)
	}
	snap := setRole("organizer")
	if u, _ := snap["data"].(map[string]any)["organizer_url"].(string); !strings.Contains(u, "/enter?t=") {
		t.Errorf("the promoted organizer's snapshot has no organizer link: %q", u)
	}
	waiting("Pat")
	heard(oscar, "Pat")

	m := oscar.mark()
	snap = setRole("voter")
	waiting("Quinn")
	org.request("ping", nil)
	oscar.request("ping", nil) // what was published before this has reached Oscar
	demoted := bytes.Join(oscar.since(m), nil)
	for _, secret := range []string{"Pat", "Quinn", "organizer_url", "/enter?t="} {
		if bytes.Contains(demoted, []byte(secret)) {
			t.Errorf("demoted, Oscar received %q: %s", secret, demoted)
		}
	}

	snap = setRole("organizer")
	people := fmt.Sprint(snap["data"].(map[string]any)["participants"])
	if !strings.Contains(people, "Pat") || !strings.Contains(people, "Quinn") {
		t.Errorf("promoted again, Oscar's snapshot does not show the waiting joiners: %s", people)
	}
	waiting("Rita")
	heard(oscar, "Rita")
}

// TestSpectatorSwitch: Ann turns herself into a spectator after voting: her vote is withdrawn,
// her snapshot is a spectator's, and back as a voter it is a voter's again.
func TestSpectatorSwitch(t *testing.T) {
	ts := newTestServer(t, "")
	ann, bob := ts.newClient("Amy"), ts.newClient("Bob")
	org, sid, story := roomWith(t, ts, nil, ann, bob)
	ann.request("vote", map[string]any{"story_id": story, "data": map[string]any{"card": "m4k"}})
	for _, role := range []string{"spectator", "voter"} {
		m := ann.mark()
		if ack := ann.request("update_participant", map[string]any{"participant_id": ann.id, "data": map[string]any{"role": role}}); ack["type"] != "ack" {
			t.Fatalf("Ann becomes %s: %v", role, ack)
		}
		snap := ann.lastSince(m, "snapshot")
		d := ann.device("Ann, fresh")
		if got, want := roomView(t, snap), roomView(t, d.connect(sid)); got != want || !strings.Contains(got, "/"+role+"/") {
			t.Errorf("as a %s: %s\n a fresh connection: %s", role, got, want)
		}
		d.ws.Close()
		if role == "spectator" {
			if mine := snap["data"].(map[string]any)["my_votes"].(map[string]any); len(mine) != 0 {
				t.Errorf("a spectator still has votes: %v", mine)
			}
			for {
				if d := org.expect("voted")["data"].(map[string]any); d["participant_id"] == ann.id && d["voted"] == false {
					break
				}
			}
			if ev := ann.request("vote", map[string]any{"story_id": story, "data": map[string]any{"card": "q9z"}}); ev["type"] != "error" {
				t.Errorf("a spectator voted: %v", ev)
			}
		}
	}
	bob.request("vote", map[string]any{"story_id": story, "data": map[string]any{"card": "w2v"}})
	if ack := ann.request("vote", map[string]any{"story_id": story, "data": map[string]any{"card": "c7x"}}); ack["type"] != "ack" {
		t.Errorf("Ann, a voter again, cannot vote: %v", ack)
	}
}

// TestOrganizerLink: the organizer's link from the create answer, opened in a second cookie jar,
// makes that browser the same organizer; rotating refuses the old link with a page that says why.
func TestOrganizerLink(t *testing.T) {
	ts := newTestServer(t, "")
	olga := ts.newClient("Olga")
	var created joinedResponse
	if st := olga.do("POST", "/api/v1/sessions", map[string]any{"name": "Olga", "title": "Links"}, &created); st != http.StatusCreated {
		t.Fatalf("create: %d", st)
	}
	sid, link := created.Session.ID, created.OrganizerURL
	if !strings.HasPrefix(link, ts.http.URL+"/s/"+sid+"/enter?t=") {
		t.Fatalf("organizer_url = %q", link)
	}
	olga.id = created.Participant.ID
	olga.connect(sid)

	open := func(c *client, link string) (int, string) {
		t.Helper()
		res, err := c.http.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	phone := ts.newClient("Olga's phone")
	if st, _ := open(phone, link); st != http.StatusOK {
		t.Fatalf("opening the organizer link: %d", st)
	}
	var snap struct {
		Me           session.Participant `json:"me"`
		OrganizerURL string              `json:"organizer_url"`
	}
	if st := phone.do("GET", "/api/v1/sessions/"+sid, nil, &snap); st != http.StatusOK || snap.Me.ID != olga.id || snap.Me.Role != session.RoleOrganizer {
		t.Fatalf("the phone is %+v (%d), want Olga the organizer", snap.Me, st)
	}
	phone.connect(sid)
	if ack := phone.request("add_stories", map[string]any{"data": map[string]any{"title": "From the phone"}}); ack["type"] != "ack" {
		t.Fatalf("the phone cannot organize: %v", ack)
	}

	// A voter has no organizer link and cannot rotate.
	ann := ts.newClient("Ann")
	ann.join(sid, "voter")
	if snap := ann.connect(sid); strings.Contains(fmt.Sprint(snap), "enter?t=") {
		t.Errorf("a voter's snapshot holds an organizer link: %v", snap)
	}
	if st := ann.do("GET", "/api/v1/sessions/"+sid+"/organizer-link", nil, nil); st != http.StatusForbidden {
		t.Errorf("a voter's organizer link: %d", st)
	}
	if ev := ann.request("rotate_organizer_link", nil); ev["type"] != "error" {
		t.Errorf("a voter rotated the links: %v", ev)
	}

	var rotated struct {
		URL string `json:"organizer_url"`
	}
	if st := olga.do("POST", "/api/v1/sessions/"+sid+"/organizer-link/rotate", nil, &rotated); st != http.StatusOK || rotated.URL == "" || rotated.URL == link {
		t.Fatalf("rotate: %d %q", st, rotated.URL)
	}
	if ev := phone.expect("organizer_link"); ev["data"].(map[string]any)["rotated_by"] != olga.id {
		t.Errorf("organizer_link event: %v", ev)
	}
	late := ts.newClient("Late")
	st, body := open(late, link)
	if st != http.StatusForbidden || !strings.Contains(body, "This organizer link was replaced") || !strings.Contains(body, "Ask an organizer") {
		t.Errorf("the old link after rotation: %d %s", st, body)
	}
	if st := late.do("GET", "/api/v1/sessions/"+sid, nil, nil); st != http.StatusForbidden {
		t.Errorf("the old link gave a cookie: %d", st)
	}
	if st, _ := open(late, rotated.URL); st != http.StatusOK {
		t.Errorf("the new link: %d", st)
	}
	if st := late.do("GET", "/api/v1/sessions/"+sid, nil, &snap); st != http.StatusOK || snap.Me.ID != olga.id {
		t.Errorf("the new link made %+v", snap.Me)
	}

	// Ann, promoted, gets her own link; demoted, it stops working.
	if ack := olga.request("update_participant", map[string]any{"participant_id": ann.id, "data": map[string]any{"role": "organizer"}}); ack["type"] != "ack" {
		t.Fatal(ack)
	}
	var annLink struct {
		URL string `json:"organizer_url"`
	}
	ann.do("GET", "/api/v1/sessions/"+sid+"/organizer-link", nil, &annLink)
	olga.request("update_participant", map[string]any{"participant_id": ann.id, "data": map[string]any{"role": "voter"}})
	if st, body := open(ts.newClient("Ann's phone"), annLink.URL); st != http.StatusForbidden || !strings.Contains(body, "no longer works") {
		t.Errorf("a demoted organizer's link: %d %s", st, body)
	}
}

// TestInvalidUTF8: a text frame that is not UTF-8 closes the socket with 1007; a JSON body that is
// not UTF-8 is a 400 and stores nothing.
func TestInvalidUTF8(t *testing.T) {
	ts := newTestServer(t, "")
	org := ts.newClient("Olga")
	sid := org.create(map[string]any{"title": "UTF-8"})
	org.connect(sid)
	org.send([]byte("{\"type\":\"ping\",\"id\":\"\xff\"}"))
	if code, _ := org.closedWith(); code != websocket.CloseInvalidFramePayloadData {
		t.Errorf("close code %d, want 1007", code)
	}

	org.connect(sid)
	org.mu.Lock()
	err := org.ws.WriteMessage(websocket.BinaryMessage, []byte("{\"type\":\"ping\",\"id\":\"\xff\"}"))
	org.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if ev := org.expect("error"); !strings.Contains(fmt.Sprint(ev["data"]), "UTF-8") {
		t.Errorf("binary message with invalid UTF-8: %v", ev)
	}

	for _, tc := range []struct{ method, path, body string }{
		{"POST", "/api/v1/sessions", "{\"name\":\"B\xffb\"}"},
		{"POST", "/api/v1/sessions/" + sid + "/participants", "{\"name\":\"B\xffb\"}"},
		{"POST", "/api/v1/sessions/" + sid + "/stories", "{\"title\":\"Log\xc3\x28in\"}"},
	} {
		var out struct{ Error errorBody }
		if st := org.doRaw(tc.method, tc.path, rawJSON(tc.body), &out); st != http.StatusBadRequest || !strings.Contains(out.Error.Message, "UTF-8") {
			t.Errorf("%s %s: %d %+v", tc.method, tc.path, st, out.Error)
		}
	}
	var snap session.Snapshot
	org.do("GET", "/api/v1/sessions/"+sid, nil, &snap)
	if len(snap.Participants) != 1 || len(snap.Stories) != 0 {
		t.Errorf("a refused body was stored: %+v %+v", snap.Participants, snap.Stories)
	}
}

// TestPartialSettings: settings left out take their defaults on create and keep their values on
// update; an unknown "reveal" value is refused by name.
func TestPartialSettings(t *testing.T) {
	ts := newTestServer(t, "")
	org := ts.newClient("Olga")
	var created joinedResponse
	if st := org.do("POST", "/api/v1/sessions", map[string]any{"name": "Olga", "settings": map[string]any{"anonymous": true}}, &created); st != http.StatusCreated {
		t.Fatalf("create: %d", st)
	}
	want := session.Settings{AllowSpectators: true, Anonymous: true, Reveal: session.RevealOrganizers}
	if created.Session.Settings != want {
		t.Errorf("settings after a partial create: %+v, want %+v", created.Session.Settings, want)
	}
	sid := created.Session.ID
	var sess session.Session
	if st := org.do("PATCH", "/api/v1/sessions/"+sid, map[string]any{"settings": map[string]any{"auto_reveal": true}}, &sess); st != http.StatusOK {
		t.Fatalf("patch: %d", st)
	}
	want.AutoReveal = true
	if sess.Settings != want {
		t.Errorf("settings after a partial update: %+v, want %+v", sess.Settings, want)
	}
	var out struct{ Error errorBody }
	if st := org.do("PATCH", "/api/v1/sessions/"+sid, map[string]any{"settings": map[string]any{"reveal": "sometimes"}}, &out); st != http.StatusBadRequest || out.Error.Field != "reveal" {
		t.Errorf("an unknown reveal value: %d %+v", st, out.Error)
	}
}

// TestWhoMayReveal: voters may reveal only when the organizers let everyone.
func TestWhoMayReveal(t *testing.T) {
	ts := newTestServer(t, "")
	bob := ts.newClient("Bob")
	org, sid, story := roomWith(t, ts, nil, bob)
	bob.request("vote", map[string]any{"story_id": story, "data": map[string]any{"card": "c7x"}})
	path := "/api/v1/sessions/" + sid + "/stories/" + story + "/reveal"
	var out struct{ Error errorBody }
	if st := bob.do("POST", path, nil, &out); st != http.StatusForbidden || !strings.Contains(out.Error.Message, "settings") {
		t.Errorf("a voter reveals by default: %d %+v", st, out.Error)
	}
	if ack := org.request("update_session", map[string]any{"data": map[string]any{"settings": map[string]any{"reveal": "everyone"}}}); ack["type"] != "ack" {
		t.Fatal(ack)
	}
	if st := bob.do("POST", path, nil, nil); st != http.StatusOK {
		t.Errorf("a voter reveals with reveal=everyone: %d", st)
	}
	org.expect("revealed")
}

// TestLimitsAreNamed: every limit's refusal names the limit.
func TestLimitsAreNamed(t *testing.T) {
	ts := newTestServer(t, "")
	org := ts.newClient("Olga")
	sid := org.create(map[string]any{"title": "Limits"})
	org.connect(sid)
	many := make([]map[string]string, session.MaxStories+1)
	for i := range many {
		many[i] = map[string]string{"title": fmt.Sprint("Story ", i)}
	}
	cards := make([]string, session.MaxCards+1)
	for i := range cards {
		cards[i] = fmt.Sprint(i)
	}
	for _, tc := range []struct {
		name, method, path string
		body               any
		limit              string
	}{
		{"name", "POST", "/api/v1/sessions/" + sid + "/participants", map[string]any{"name": strings.Repeat("n", 41)}, "40"},
		{"title", "PATCH", "/api/v1/sessions/" + sid, map[string]any{"title": strings.Repeat("t", 201)}, "200"},
		{"cards", "POST", "/api/v1/sessions", map[string]any{"name": "x", "deck": "custom", "cards": cards}, "30"},
		{"card length", "POST", "/api/v1/sessions", map[string]any{"name": "x", "deck": "custom", "cards": []string{"123456789"}}, "8"},
		{"stories", "POST", "/api/v1/sessions/" + sid + "/stories", map[string]any{"stories": many}, "1000"},
		{"story title", "POST", "/api/v1/sessions/" + sid + "/stories", map[string]any{"title": strings.Repeat("s", 201)}, "200"},
		{"description", "POST", "/api/v1/sessions/" + sid + "/stories", map[string]any{"title": "x", "description": strings.Repeat("d", 10001)}, "10000"},
		{"key", "POST", "/api/v1/sessions/" + sid + "/stories", map[string]any{"title": "x", "source": "csv", "key": strings.Repeat("k", 201)}, "200"},
		{"body", "POST", "/api/v1/sessions/" + sid + "/stories", map[string]any{"title": strings.Repeat("b", 1<<20)}, "1 MiB"},
	} {
		var out struct{ Error errorBody }
		if st := org.do(tc.method, tc.path, tc.body, &out); st != http.StatusBadRequest || !strings.Contains(out.Error.Message, tc.limit) {
			t.Errorf("%s: %d %q does not name the limit %s", tc.name, st, out.Error.Message, tc.limit)
		}
	}
	org.send([]byte(`{"type":"ping","id":"` + strings.Repeat("x", 9000) + `"}`))
	if ev := org.expect("error"); !strings.Contains(fmt.Sprint(ev["data"]), "8 KiB") {
		t.Errorf("an oversize message: %v", ev)
	}
}

// TestExportFollowsTheRound: the CSV and JSON exports show each round as it was revealed, after
// the anonymity setting is turned off and on again.
func TestExportFollowsTheRound(t *testing.T) {
	ts := newTestServer(t, "")
	bob := ts.newClient("Bob")
	org, sid, first := roomWith(t, ts, map[string]any{"anonymous": true}, bob)
	ack := org.request("add_stories", map[string]any{"data": map[string]any{"title": "Second"}})
	second := ack["data"].(map[string]any)["result"].([]any)[0].(map[string]any)["id"].(string)
	round := func(story, card string, anonymous bool) {
		t.Helper()
		org.request("update_session", map[string]any{"data": map[string]any{"settings": map[string]any{"anonymous": anonymous}}})
		org.request("select_story", map[string]any{"story_id": story})
		bob.request("vote", map[string]any{"story_id": story, "data": map[string]any{"card": card}})
		if ack := org.request("reveal", map[string]any{"story_id": story}); ack["type"] != "ack" {
			t.Fatal(ack)
		}
	}
	round(first, "c7x", true)
	round(second, "q9z", false)
	org.request("update_session", map[string]any{"data": map[string]any{"settings": map[string]any{"anonymous": true}}})

	res, err := org.http.Get(ts.http.URL + "/api/v1/sessions/" + sid + "/export?format=csv")
	if err != nil {
		t.Fatal(err)
	}
	csv, _ := io.ReadAll(res.Body)
	res.Body.Close()
	lines := strings.Split(string(csv), "\n")
	if len(lines) < 3 || !strings.Contains(lines[1], ",c7x,") || strings.Contains(lines[1], "Bob") || !strings.Contains(lines[2], "Bob=q9z") {
		t.Errorf("CSV export:\n%s", csv)
	}
	var ex session.Export
	org.do("GET", "/api/v1/sessions/"+sid+"/export?format=json", nil, &ex)
	for _, st := range ex.Stories {
		r := st.Rounds[0]
		named := len(r.Votes) == 1 && r.Votes[0].ParticipantID == bob.id
		if st.ID == first && (!r.Anonymous || named) || st.ID == second && (r.Anonymous || !named) {
			t.Errorf("JSON export of %q: %+v", st.Title, r)
		}
	}
}
