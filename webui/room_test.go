package webui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// roomWith creates a session with a custom deck of distinctive cards, an organizer and voters,
// every one connected, and one story; it returns the session and story ids.
func roomWith(t *testing.T, ts *testServer, settings map[string]any, voters ...*client) (org *client, sid, story string) {
	t.Helper()
	org = ts.newClient("Ann")
	body := map[string]any{"title": "Sprint <42>", "deck": "custom", "cards": []string{"c7x", "q9z", "m4k", "w2v", "?"}}
	if settings != nil {
		body["settings"] = settings
	}
	sid = org.create(body)
	org.connect(sid)
	for _, v := range voters {
		v.join(sid, "voter")
		v.connect(sid)
	}
	ack := org.request("add_stories", map[string]any{"data": map[string]any{"title": "Login page"}})
	if ack["type"] != "ack" {
		t.Fatalf("add story: %v", ack)
	}
	story = ack["data"].(map[string]any)["result"].([]any)[0].(map[string]any)["id"].(string)
	return org, sid, story
}

func TestVotesStaySecretUntilReveal(t *testing.T) {
	ts := newTestServer(t, "")
	bob, cat, dan := ts.newClient("Bob"), ts.newClient("Cat"), ts.newClient("Dan")
	org, sid, story := roomWith(t, ts, nil, bob, cat, dan)

	cards := map[*client]string{bob: "c7x", cat: "q9z", dan: "m4k", org: "w2v"}
	for _, c := range []*client{cat, dan, org, bob} {
		if ack := c.request("vote", map[string]any{"story_id": story, "data": map[string]any{"card": cards[c], "confidence": "high", "rationale": "because " + cards[c]}}); ack["type"] != "ack" {
			t.Fatalf("%s vote: %v", c.name, ack)
		}
	}
	// Bob changes his mind: still secret.
	bob.request("vote", map[string]any{"story_id": story, "data": map[string]any{"card": "c7x"}})
	// The HTTP snapshot and the HTML page are checked too.
	var snap map[string]any
	bob.do("GET", "/api/v1/sessions/"+sid, nil, &snap)
	res, err := bob.http.Get(ts.http.URL + "/s/" + sid)
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	_, _ = page.ReadFrom(res.Body)
	res.Body.Close()

	// Make sure every event before the reveal has reached Bob: a round trip on his socket.
	bob.request("ping", nil)
	// The deck lists every card; what must not appear is a card as someone's vote.
	deck := []byte(`["c7x","q9z","m4k","w2v","?"]`)
	before := bytes.ReplaceAll(append(bob.received(), page.Bytes()...), deck, nil)
	snapJSON := fmt.Sprint(snap["stories"], snap["my_votes"])
	for _, other := range []*client{cat, dan, org} {
		card := cards[other]
		if bytes.Contains(before, []byte(card)) || strings.Contains(snapJSON, card) {
			t.Errorf("before reveal Bob received %s's card %q", other.name, card)
		}
		if bytes.Contains(before, []byte("because "+card)) {
			t.Errorf("before reveal Bob received %s's rationale", other.name)
		}
	}
	if !strings.Contains(snapJSON, "c7x") {
		t.Errorf("Bob's snapshot lacks his own vote: %s", snapJSON)
	}

	if ack := org.request("reveal", map[string]any{"story_id": story}); ack["type"] != "ack" {
		t.Fatalf("reveal: %v", ack)
	}
	ev := bob.expect("revealed")
	votes := ev["data"].(map[string]any)["votes"].([]any)
	if len(votes) != 4 {
		t.Fatalf("revealed %d votes, want 4: %v", len(votes), ev)
	}
	after := bob.received()
	for c, card := range cards {
		if !bytes.Contains(after, []byte(card)) {
			t.Errorf("after reveal Bob did not receive %s's card", c.name)
		}
	}
	stats := ev["data"].(map[string]any)["stats"].(map[string]any)
	if stats["votes"].(float64) != 4 || stats["consensus"].(bool) {
		t.Errorf("stats = %v", stats)
	}
}

func TestConcurrentRevealsProduceOne(t *testing.T) {
	ts := newTestServer(t, "")
	bob, cat := ts.newClient("Bob"), ts.newClient("Cat")
	org, sid, story := roomWith(t, ts, nil, bob, cat)
	// Cat becomes a second organizer.
	if ack := org.request("update_participant", map[string]any{"participant_id": cat.id, "data": map[string]any{"role": "organizer"}}); ack["type"] != "ack" {
		t.Fatalf("promote: %v", ack)
	}
	bob.request("vote", map[string]any{"story_id": story, "data": map[string]any{"card": "q9z"}})

	for round := 0; round < 5; round++ {
		var wg sync.WaitGroup
		statuses := make([]int, 8)
		for i := range statuses {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				c := org
				if i%2 == 1 {
					c = cat
				}
				statuses[i] = c.do("POST", "/api/v1/sessions/"+sid+"/stories/"+story+"/reveal", nil, nil)
			}(i)
		}
		wg.Wait()
		for i, st := range statuses {
			if st != http.StatusOK {
				t.Fatalf("reveal %d: status %d", i, st)
			}
		}
		bob.request("ping", nil)
		n := bytes.Count(bob.received(), []byte(`"type":"revealed"`))
		if n != round+1 {
			t.Fatalf("after %d concurrent reveal bursts Bob saw %d revealed events", round+1, n)
		}
		if ack := org.request("revote", map[string]any{"story_id": story}); ack["type"] != "ack" {
			t.Fatalf("revote: %v", ack)
		}
		bob.request("vote", map[string]any{"story_id": story, "data": map[string]any{"card": "q9z"}})
	}
	var rounds []map[string]any
	org.do("GET", "/api/v1/sessions/"+sid+"/stories/"+story+"/rounds", nil, &rounds)
	if len(rounds) != 6 {
		t.Fatalf("history has %d rounds, want 6", len(rounds))
	}
}

func TestBadInputIsRefusedClearly(t *testing.T) {
	ts := newTestServer(t, "")
	bob := ts.newClient("Bob")
	org, sid, story := roomWith(t, ts, nil, bob)
	long := strings.Repeat("n", 200)
	cards100 := make([]string, 100)
	for i := range cards100 {
		cards100[i] = fmt.Sprint(i)
	}
	type errResp struct {
		Error errorBody `json:"error"`
	}
	api := []struct {
		name, method, path string
		who                *client
		body               any
		status             int
		want               string
	}{
		{"empty name", "POST", "/api/v1/sessions/" + sid + "/participants", ts.newClient(""), map[string]any{"name": "  "}, 400, "name must not be empty"},
		{"200-character name", "POST", "/api/v1/sessions/" + sid + "/participants", ts.newClient(""), map[string]any{"name": long}, 400, "the limit is 40"},
		{"unknown card", "PUT", "/api/v1/sessions/" + sid + "/stories/" + story + "/vote", bob, map[string]any{"card": "13"}, 400, `"13" is not a card of this deck`},
		{"custom deck of 100 cards", "POST", "/api/v1/sessions", ts.newClient(""), map[string]any{"name": "Z", "deck": "custom", "cards": cards100}, 400, "at most 30 cards"},
		{"malformed JSON", "PUT", "/api/v1/sessions/" + sid + "/stories/" + story + "/vote", bob, rawJSON(`{"card": `), 400, "not valid JSON"},
		{"unknown field", "PUT", "/api/v1/sessions/" + sid + "/stories/" + story + "/vote", bob, map[string]any{"cardd": "c7x"}, 400, "unknown field"},
		{"voter reveals", "POST", "/api/v1/sessions/" + sid + "/stories/" + story + "/reveal", bob, nil, 403, "only an organizer can reveal"},
		{"stranger reads", "GET", "/api/v1/sessions/" + sid, ts.newClient(""), nil, 403, "join the session first"},
		{"unknown session", "GET", "/api/v1/sessions/nope", bob, nil, 404, "session not found"},
	}
	for _, tt := range api {
		t.Run(tt.name, func(t *testing.T) {
			var out errResp
			st := tt.who.doRaw(tt.method, tt.path, tt.body, &out)
			if st != tt.status || !strings.Contains(out.Error.Message, tt.want) {
				t.Fatalf("status %d %q, want %d containing %q", st, out.Error.Message, tt.status, tt.want)
			}
		})
	}
	// A vote on a revealed round is refused and changes nothing.
	bob.request("vote", map[string]any{"story_id": story, "data": map[string]any{"card": "c7x"}})
	org.request("reveal", map[string]any{"story_id": story})
	ev := bob.request("vote", map[string]any{"story_id": story, "data": map[string]any{"card": "q9z"}})
	if ev["type"] != "error" || !strings.Contains(fmt.Sprint(ev["data"]), "round is closed") {
		t.Fatalf("vote on revealed round: %v", ev)
	}
	var snap map[string]any
	bob.do("GET", "/api/v1/sessions/"+sid, nil, &snap)
	if !strings.Contains(fmt.Sprint(snap["stories"]), "c7x") || strings.Contains(fmt.Sprint(snap["stories"]), "q9z") {
		t.Fatalf("the refused vote changed the round: %v", snap["stories"])
	}

	// Socket: malformed JSON, unknown type and oversize messages get an error and keep the socket.
	bob.send([]byte(`{"type": "vote", `))
	if ev := bob.expect("error"); !strings.Contains(fmt.Sprint(ev["data"]), "not valid JSON") {
		t.Fatalf("malformed JSON: %v", ev)
	}
	if ev := bob.request("dance", nil); !strings.Contains(fmt.Sprint(ev["data"]), `unknown message type "dance"`) {
		t.Fatalf("unknown type: %v", ev)
	}
	bob.send([]byte(`{"type":"vote","data":{"rationale":"` + strings.Repeat("x", 9000) + `"}}`))
	if ev := bob.expect("error"); !strings.Contains(fmt.Sprint(ev["data"]), "too large") {
		t.Fatalf("oversize: %v", ev)
	}
	if ev := bob.request("ping", nil); ev["type"] != "ack" {
		t.Fatalf("socket unusable after bad messages: %v", ev)
	}
}

type rawJSON string

// doRaw is do, but sends a rawJSON body as it is.
func (c *client) doRaw(method, path string, body any, out any) int {
	c.t.Helper()
	if r, ok := body.(rawJSON); ok {
		req, _ := http.NewRequest(method, c.ts.http.URL+path, strings.NewReader(string(r)))
		req.Header.Set("Content-Type", "application/json")
		res, err := c.http.Do(req)
		if err != nil {
			c.t.Fatal(err)
		}
		defer res.Body.Close()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(res.Body)
		_ = json.Unmarshal(buf.Bytes(), out)
		return res.StatusCode
	}
	return c.do(method, path, body, out)
}

func TestCrossSiteRequestsAreRefused(t *testing.T) {
	ts := newTestServer(t, "")
	org := ts.newClient("Ann")
	sid := org.create(map[string]any{"title": "x"})
	for _, h := range []map[string]string{
		{"Origin": "https://evil.example"},
		{"Sec-Fetch-Site": "cross-site"},
		{"Content-Type": "application/x-www-form-urlencoded"},
	} {
		req, _ := http.NewRequest("PATCH", ts.http.URL+"/api/v1/sessions/"+sid, strings.NewReader(`{"title":"pwned"}`))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range h {
			req.Header.Set(k, v)
		}
		res, err := org.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden && res.StatusCode != http.StatusBadRequest {
			t.Errorf("%v: status %d, want refusal", h, res.StatusCode)
		}
	}
	var snap map[string]any
	org.do("GET", "/api/v1/sessions/"+sid, nil, &snap)
	if snap["session"].(map[string]any)["title"] != "x" {
		t.Fatalf("cross-site request changed the title")
	}
}

func TestRestartKeepsParticipantRoleAndVote(t *testing.T) {
	dir := t.TempDir()
	ts := newTestServer(t, dir)
	bob := ts.newClient("Bob")
	org, sid, story := roomWith(t, ts, nil, bob)
	if ack := bob.request("vote", map[string]any{"story_id": story, "data": map[string]any{"card": "m4k", "confidence": "low"}}); ack["type"] != "ack" {
		t.Fatalf("vote: %v", ack)
	}
	// Graceful shutdown tells clients to reconnect.
	oldURL := ts.http.URL
	ts.close()
	if ev := bob.expect("reconnect"); ev["type"] != "reconnect" {
		t.Fatalf("no reconnect notice")
	}
	ts2 := newTestServer(t, dir)
	for _, c := range []*client{org, bob} {
		c.ts = ts2
	}
	// The cookie jar is keyed by host; the new server listens elsewhere, so copy the cookies.
	for _, c := range []*client{org, bob} {
		c.http.Jar.SetCookies(mustURL(ts2.http.URL), c.http.Jar.Cookies(mustURL(oldURL)))
	}
	snap := bob.connect(sid)["data"].(map[string]any)
	me := snap["me"].(map[string]any)
	if me["name"] != "Bob" || me["role"] != "voter" {
		t.Fatalf("after restart Bob is %v", me)
	}
	mine := snap["my_votes"].(map[string]any)[story].(map[string]any)
	if mine["card"] != "m4k" || mine["confidence"] != "low" {
		t.Fatalf("after restart Bob's vote is %v", mine)
	}
	org.connect(sid)
	if ack := org.request("reveal", map[string]any{"story_id": story}); ack["type"] != "ack" {
		t.Fatalf("reveal after restart: %v", ack)
	}
}

func TestHealthReadinessAndMetrics(t *testing.T) {
	ts := newTestServer(t, "")
	bob := ts.newClient("Bob")
	org, _, story := roomWith(t, ts, nil, bob)
	bob.request("vote", map[string]any{"story_id": story, "data": map[string]any{"card": "c7x"}})
	for path, want := range map[string]string{
		"/healthz": `"status":"ok"`,
		"/readyz":  `"status":"ready"`,
		"/metrics": "pokor_ws_connections 2",
	} {
		res, err := org.http.Get(ts.http.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(b.String(), want) {
			t.Errorf("GET %s: %d %q, want %q", path, res.StatusCode, b.String(), want)
		}
		if path == "/metrics" {
			for _, m := range []string{"pokor_votes_total 1", "pokor_rooms 1", "pokor_broadcast_queue_drops_total 0"} {
				if !strings.Contains(b.String(), m) {
					t.Errorf("metrics lack %q", m)
				}
			}
		}
	}
}
