package session_test

import (
	"testing"
	"time"

	"github.com/pokor/pokor/session"
)

func TestSprintOf(t *testing.T) {
	at := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC) // ISO week 2025-W09
	for title, want := range map[string]string{
		"Sprint 42": "Sprint 42", "sprint-042 refinement": "Sprint 42", "Planning: Sprint #7": "Sprint 7",
		"Backlog grooming": "Week 2025-W09", "Sprinter 3": "Week 2025-W09",
	} {
		if got := session.SprintOf(&session.Session{Title: title, CreatedAt: at}); got != want {
			t.Errorf("SprintOf(%q) = %q, want %q", title, got, want)
		}
	}
}

// estimate runs one story through rounds of votes (cards per round, each round lasting d), then
// accepts value.
func (e *env) estimate(t *testing.T, org member, voters []member, st *session.Story, d time.Duration, value string, rounds ...[]string) {
	t.Helper()
	for i, cards := range rounds {
		if i > 0 {
			if _, err := e.svc.Revote(t.Context(), org.Actor, st.ID); err != nil {
				t.Fatal(err)
			}
		}
		for j, c := range cards {
			e.vote(t, voters[j], st.ID, card(c))
		}
		e.clock.Add(d)
		if _, err := e.svc.Reveal(t.Context(), org.Actor, st.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.Accept(t.Context(), org.Actor, st.ID, value); err != nil {
		t.Fatal(err)
	}
}

func TestTeamInsight(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	s1, org1 := e.create(t, session.CreateInput{Title: "Sprint 41"})
	tv, err := e.svc.SetTeam(ctx, org1.Actor, session.TeamInput{Name: "Core"})
	if err != nil {
		t.Fatal(err)
	}
	ann := e.join(t, s1.ID, "Ann", session.RoleVoter)
	a := e.addStories(t, org1, "Login", "Logout", "Signup", "Never estimated")
	v1 := []member{org1, ann}
	e.estimate(t, org1, v1, a[0], 2*time.Minute, "3", []string{"3", "3"})                   // consensus, 1 round
	e.estimate(t, org1, v1, a[1], time.Minute, "5", []string{"2", "8"}, []string{"5", "5"}) // 2 rounds
	e.estimate(t, org1, v1, a[2], 4*time.Minute, "5", []string{"3", "8"})                   // spread 2 steps (3,5,8)

	e.clock.Add(24 * time.Hour)
	s2, org2 := e.create(t, session.CreateInput{Title: "Sprint 41 — second half"})
	if _, err := e.svc.SetTeam(ctx, org2.Actor, session.TeamInput{Link: tv.LinkURL}); err != nil {
		t.Fatal(err)
	}
	bob := e.join(t, s2.ID, "Bob", session.RoleVoter)
	b := e.addStories(t, org2, "Billing")
	e.estimate(t, org2, []member{org2, bob}, b[0], 3*time.Minute, "8", []string{"8", "13"}, []string{"8", "8"}, []string{"8", "8"})

	e.clock.Add(24 * 14 * time.Hour)
	s3, org3 := e.create(t, session.CreateInput{Title: "Refinement"})
	if _, err := e.svc.SetTeam(ctx, org3.Actor, session.TeamInput{Link: tv.LinkURL}); err != nil {
		t.Fatal(err)
	}
	c := e.addStories(t, org3, "Tiny")
	e.estimate(t, org3, []member{org3}, c[0], time.Minute, "1", []string{"1"})
	_, orgX := e.create(t, session.CreateInput{Title: "Not in the team"})
	e.estimate(t, orgX, []member{orgX}, e.addStories(t, orgX, "Elsewhere")[0], time.Minute, "13", []string{"13"})

	team, err := e.store.Team(ctx, tv.ID)
	if err != nil {
		t.Fatal(err)
	}
	in, err := e.svc.TeamInsight(ctx, team)
	if err != nil {
		t.Fatal(err)
	}
	tot := in.Totals
	if tot.Sessions != 3 || tot.Stories != 6 || tot.Estimated != 5 || tot.Points != 3+5+5+8+1 {
		t.Errorf("totals = %+v", tot)
	}
	// Stories with two estimates: Login (3,3 consensus), Logout (5,5), Signup (3,8), Billing (8,8).
	if tot.ConsensusRate == nil || *tot.ConsensusRate != 0.75 {
		t.Errorf("consensus rate = %v, want 0.75", tot.ConsensusRate)
	}
	if tot.RoundsPerStory == nil || *tot.RoundsPerStory != float64(1+2+1+3+1)/5 {
		t.Errorf("rounds per story = %v", deref(tot.RoundsPerStory))
	}
	// Seconds in the room: 120, 120 (2×60), 240, 540 (3×180), 60 → median 120.
	if tot.MedianSeconds == nil || *tot.MedianSeconds != 120 {
		t.Errorf("median seconds = %v, want 120", deref(tot.MedianSeconds))
	}
	if len(in.Sessions) != 3 || in.Sessions[0].ID != s3.ID || in.Sessions[2].Points != 13 || in.Sessions[2].Estimated != 3 || in.Sessions[2].Stories != 4 {
		t.Errorf("sessions = %+v", in.Sessions)
	}
	if len(in.Sprints) != 2 || in.Sprints[1].Name != "Sprint 41" || in.Sprints[1].Sessions != 2 || in.Sprints[1].Points != 21 ||
		in.Sprints[0].Points != 1 || in.Sprints[0].Name != "Week 2025-W11" {
		t.Errorf("sprints = %+v", in.Sprints)
	}
	wantEst := []session.EstimateSummary{{Value: "1", Stories: 1}, {Value: "3", Stories: 1}, {Value: "5", Stories: 2}, {Value: "8", Stories: 1}}
	if len(in.Estimates) != len(wantEst) {
		t.Fatalf("estimates = %+v", in.Estimates)
	}
	for i, w := range wantEst {
		if g := in.Estimates[i]; g.Value != w.Value || g.Stories != w.Stories {
			t.Errorf("estimates[%d] = %+v, want %+v", i, g, w)
		}
	}
	wantCounts := func(name string, got []session.Count, want map[string]int) {
		for _, c := range got {
			if c.Count != want[c.Label] {
				t.Errorf("%s[%s] = %d, want %d", name, c.Label, c.Count, want[c.Label])
			}
		}
	}
	wantCounts("rounds", in.Rounds, map[string]int{"1": 3, "2": 1, "3+": 1})
	wantCounts("spread", in.Spread, map[string]int{"0": 4, "2": 1})
	if len(in.Stories) != 5 || in.Stories[0].Title != "Tiny" {
		t.Errorf("stories, newest first: %+v", in.Stories)
	}
	for _, si := range in.Stories {
		if si.Title == "Signup" && (si.Spread != 2 || si.Consensus || si.Rounds != 1 || si.Seconds != 240) {
			t.Errorf("Signup = %+v", si)
		}
	}
	if in.Voters != nil {
		t.Errorf("voter accuracy shown while the team has not turned it on: %+v", in.Voters)
	}
}

func deref(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}
