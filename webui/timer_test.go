package webui

import (
	"net/http"
	"strings"
	"testing"
)

// TestTimerAndNudgeAPI drives the timer and the nudges through the JSON API: who may, what is
// refused and how, and what the sockets receive (never a vote).
func TestTimerAndNudgeAPI(t *testing.T) {
	ts := newTestServer(t, "")
	bob, cat := ts.newClient("Bob"), ts.newClient("Cat")
	org, sid, story := roomWith(t, ts, nil, bob, cat)
	if ack := cat.request("vote", map[string]any{"story_id": story, "data": map[string]any{"card": "q9z"}}); ack["type"] != "ack" {
		t.Fatalf("Cat's vote: %v", ack)
	}
	base := "/api/v1/sessions/" + sid

	var errBody struct {
		Error struct{ Code, Message, Field string }
	}
	if st := bob.do("POST", base+"/timer", map[string]any{"seconds": 60}, &errBody); st != http.StatusForbidden {
		t.Errorf("a voter starting a timer: %d", st)
	}
	if st := org.do("POST", base+"/timer", map[string]any{"seconds": 2}, &errBody); st != http.StatusBadRequest || errBody.Error.Field != "seconds" || !strings.Contains(errBody.Error.Message, "5 seconds to 60 minutes") {
		t.Errorf("a 2-second timer: %d %+v", st, errBody)
	}
	var timer map[string]any
	if st := org.do("POST", base+"/timer", map[string]any{"seconds": 90, "reveal": true}, &timer); st != http.StatusOK || timer["story_id"] != story || timer["state"] != "running" || timer["deadline"] == nil {
		t.Fatalf("starting a timer: %d %v", st, timer)
	}
	for _, c := range []*client{org, bob, cat} {
		if ev := c.expect("timer"); ev["data"].(map[string]any)["deadline"] != timer["deadline"] {
			t.Errorf("%s's timer event: %v", c.name, ev)
		}
	}
	var got map[string]any
	if st := bob.do("GET", base+"/timer", nil, &got); st != http.StatusOK || got["id"] != timer["id"] || got["now"] == nil {
		t.Errorf("a voter reading the timer: %d %v", st, got)
	}
	if st := bob.do("DELETE", base+"/timer", nil, nil); st != http.StatusForbidden {
		t.Errorf("a voter stopping the timer: %d", st)
	}
	if st := org.do("DELETE", base+"/timer", nil, &got); st != http.StatusOK || got["state"] != "stopped" {
		t.Errorf("stopping the timer: %d %v", st, got)
	}
	if st := org.do("DELETE", base+"/timer", nil, &errBody); st != http.StatusConflict {
		t.Errorf("stopping it again: %d", st)
	}

	// Nudges: Bob has not voted, Cat has.
	if st := bob.do("POST", base+"/nudge", nil, nil); st != http.StatusForbidden {
		t.Errorf("a voter nudging: %d", st)
	}
	if st := org.do("POST", base+"/participants/"+cat.id+"/nudge", nil, &errBody); st != http.StatusConflict || !strings.Contains(errBody.Error.Message, "has voted already") {
		t.Errorf("nudging Cat, who voted: %d %+v", st, errBody)
	}
	var res struct {
		Nudged []struct{ ID, Name, Chat string }
	}
	if st := org.do("POST", base+"/nudge", nil, &res); st != http.StatusOK || len(res.Nudged) != 1 || res.Nudged[0].ID != bob.id || res.Nudged[0].Chat != "" {
		t.Fatalf("nudging everyone: %d %+v", st, res)
	}
	if ev := bob.expect("nudge"); ev["data"].(map[string]any)["from_name"] != "Ann" {
		t.Errorf("Bob's nudge: %v", ev)
	}
	if st := org.do("POST", base+"/participants/"+bob.id+"/nudge", nil, &errBody); st != http.StatusConflict || !strings.Contains(errBody.Error.Message, "a moment ago") {
		t.Errorf("nudging Bob again at once: %d %+v", st, errBody)
	}
	// A round trip on each socket, then: only Bob was nudged, and nobody saw Cat's card.
	for _, c := range []*client{org, bob} {
		c.request("ping", nil)
		if strings.Contains(string(c.received()), `"card":"q9z"`) {
			t.Errorf("%s received Cat's card before the reveal", c.name)
		}
	}
	if strings.Contains(string(org.received()), `"type":"nudge"`) || strings.Contains(string(cat.received()), `"type":"nudge"`) {
		t.Error("a nudge reached someone it was not for")
	}
}
