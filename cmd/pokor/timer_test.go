package main

import (
	"testing"
	"time"
)

// TestTimerAcrossInstances: members of one room on two instances see the same timer (one stored
// deadline, sent through Redis); at zero the round is revealed once for everyone, however many
// instances and clients notice it; and a timer outlives the instance it was started on.
func TestTimerAcrossInstances(t *testing.T) {
	blue, green := startCluster(t)
	org := createSession(t, blue, "Olga", nil)
	ann := joinSession(t, blue, org.sid, "Ann")
	bob := joinSession(t, green, org.sid, "Bob")
	st := addStory(t, org, blue, "Login page")
	org.connect(blue)
	ann.connect(blue)
	bob.connect(green)
	everyone := []*person{org, ann, bob}
	vote(ann, st, "5")
	vote(bob, st, "8")

	started := org.request("start_timer", map[string]any{"story_id": st, "data": map[string]any{"seconds": 5, "reveal": true}})
	res, _ := started["result"].(map[string]any)
	deadline, _ := res["deadline"].(string)
	if deadline == "" || res["reveal"] != true || res["state"] != "running" {
		t.Fatalf("start_timer answered %v", started)
	}
	for _, c := range everyone {
		c.waitCount("timer", st, 1)
		if d := c.lastData("timer", st); d["deadline"] != deadline || d["now"] == nil {
			t.Errorf("%s got the timer %v, want the deadline %s and the server's clock", c.name, d, deadline)
		}
	}
	// A member arriving on the other instance gets it in the snapshot.
	cid := joinSession(t, green, org.sid, "Cid")
	snap := cid.connect(green)
	if tm, _ := snap["data"].(map[string]any)["timer"].(map[string]any); tm["deadline"] != deadline {
		t.Errorf("Cid's snapshot on green has the timer %v", tm)
	}
	everyone = append(everyone, cid)

	// At the deadline the clients also report zero, on both instances, as the room page does.
	due, _ := time.Parse(time.RFC3339Nano, deadline)
	time.Sleep(time.Until(due))
	for _, c := range everyone {
		c.send("check_timer", nil)
	}
	for _, c := range everyone {
		c.waitCount("revealed", st, 1)
		if c == cid {
			c.waitCount("timer", st, 1) // the start came in the snapshot
		} else {
			c.waitCount("timer", st, 2)
		}
	}
	time.Sleep(1500 * time.Millisecond) // another poll on each instance
	for _, c := range everyone {
		if n := c.count("revealed", st); n != 1 {
			t.Errorf("%s saw %d reveals", c.name, n)
		}
		if d := c.lastData("timer", st); d["state"] != "expired" || d["revealed"] != true {
			t.Errorf("%s's last timer event: %v", c.name, d)
		}
	}

	// A timer started on blue, which then stops: green reveals at the deadline, from the database.
	st2 := addStory(t, org, green, "Sign-up form")
	bob.request("vote", map[string]any{"story_id": st2, "data": map[string]any{"card": "3"}})
	org.request("start_timer", map[string]any{"story_id": st2, "data": map[string]any{"seconds": 5, "reveal": true}})
	blue.terminate()
	if err := blue.wait(30 * time.Second); err != nil {
		t.Fatalf("blue's exit: %v", err)
	}
	for _, c := range []*person{bob, cid} {
		c.waitCount("revealed", st2, 1)
	}
}
