package main

import (
	"strings"
	"testing"
)

// TestRoomsSplitAcrossInstances: with several instances, the members of every room alternate
// between them, so that each vote is delivered across instances; with one, all use it.
func TestRoomsSplitAcrossInstances(t *testing.T) {
	g := &gen{cfg: childConfig{URL: "http://a", URLs: []string{"http://a", "http://b"}}}
	per := map[string]int{}
	for idx := range 10 {
		i, base := g.instance(idx)
		if want := []string{"http://a", "http://b"}[idx%2]; base != want || i != idx%2 {
			t.Errorf("member %d: instance %d %s, want %s", idx, i, base, want)
		}
		per[base]++
	}
	if per["http://a"] != 5 || per["http://b"] != 5 {
		t.Errorf("a room of 10 is split %v, want 5 and 5", per)
	}
	one := &gen{cfg: childConfig{URL: "http://a"}}
	if i, base := one.instance(7); i != 0 || base != "http://a" {
		t.Errorf("one instance: member 7 on %d %s", i, base)
	}
}

// TestVoteTargetAcrossInstances: the votes target is 50 ms on one instance, 150 ms across
// several (the figures), and --vote-p99 overrides both.
func TestVoteTargetAcrossInstances(t *testing.T) {
	for _, c := range []struct {
		instances int
		goalMS    float64
		pass      bool
	}{{1, 0, false}, {2, 0, true}, {2, 100, false}, {1, 130, true}} {
		rep := &Report{Rooms: 100, VoteRate: 1, VotesPerSecond: 100, VoteGoalMS: c.goalMS,
			Latency: map[string]Summary{hVoteRoom: {Count: 1000, P99: 120}}, Counts: map[string]int64{}}
		rep.Instances = make([]InstanceReport, c.instances)
		if c.instances == 1 {
			rep.Instances = nil
		}
		rep.finish()
		var votes *Target
		for i := range rep.Targets {
			if rep.Targets[i].Name == "votes" {
				votes = &rep.Targets[i]
			}
		}
		if votes == nil || votes.Pass != c.pass {
			t.Errorf("%d instances, goal %v: p99 120 ms: %+v, want pass=%v", c.instances, c.goalMS, votes, c.pass)
		}
		if c.instances > 1 && !strings.Contains(votes.Goal, "across 2 instances") {
			t.Errorf("the goal does not say the votes cross instances: %q", votes.Goal)
		}
	}
}
