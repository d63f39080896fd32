package sqlstore

import (
	"sort"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
)

// testWebhooks: the changes that make events queue a delivery per endpoint in their own
// transaction; claims deliver each endpoint's events of a session in order, one lease at a time.
func testWebhooks(t *testing.T, s *Store) {
	ctx := t.Context()
	s.SetServerWebhooks([]string{"https://a.example/h", "https://b.example/h"})
	team := &session.Team{ID: newID(), Name: "Payments", CreatedAt: t0}
	if err := s.CreateTeam(ctx, team); err != nil {
		t.Fatal(err)
	}
	if err := s.SetTeamWebhook(ctx, team.ID, &session.Webhook{URL: "https://old.example/h", Sealed: "sealed-old", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetTeamWebhook(ctx, team.ID, &session.Webhook{URL: "https://team.example/h", Sealed: "sealed-team", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if w, err := s.TeamWebhook(ctx, team.ID); err != nil || w.URL != "https://team.example/h" || w.Sealed != "sealed-team" {
		t.Fatalf("TeamWebhook after a replace = %+v, %v", w, err)
	}
	if hooks, err := s.TeamWebhooks(ctx); err != nil || len(hooks) != 1 || hooks[0].TeamID != team.ID || hooks[0].TeamName != "Payments" {
		t.Fatalf("TeamWebhooks = %+v, %v", hooks, err)
	}
	_, err := s.TeamWebhook(ctx, "nope")
	wantNotFound(t, "TeamWebhook of a team without one", err)
	// The session is in the team (as a chat channel's session is from its start); the other is
	// in none, and a session of the same Slack workspace but another team gets nothing either.
	sess, _ := createSession(t, s, func(x *session.Session) {
		x.Origin, x.TeamID = session.Origin{Platform: "slack", Team: "T1", Channel: "C1"}, team.ID
	})
	other, _ := createSession(t, s, func(x *session.Session) { x.Origin = session.Origin{Platform: "slack", Team: "T1", Channel: "C2"} })
	if err := s.SetSessionWebhook(ctx, sess.ID, &session.Webhook{URL: "https://mine.example/h", Sealed: "sealed-mine", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if w, err := s.SessionWebhook(ctx, sess.ID); err != nil || w.URL != "https://mine.example/h" || w.Sealed != "sealed-mine" {
		t.Fatalf("SessionWebhook = %+v, %v", w, err)
	}
	ann := voters(t, s, sess.ID, 1)[0]
	st := addStories(t, s, sess.ID, "One")[0]
	castVote(t, s, st.ID, 1, ann, "5")
	reveal(t, s, st.ID, 1)
	accept(t, s, st, 1, "5", nil)
	if ok, err := s.Accept(ctx, st.ID, 3, "8", nil); err != nil || ok { // a lost race queues nothing
		t.Fatalf("Accept of a round that moved on: %v, %v", ok, err)
	}
	if err := s.CloseSession(ctx, sess.ID, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// created: a, b, team (the session's webhook came later); accepted and ended: a, b, team, mine.
	// The other session: created to a and b.
	if n := count(t, s, `SELECT COUNT(*) FROM webhook_outbox WHERE session_id = ?`, sess.ID); n != 11 {
		t.Errorf("%d deliveries queued for the session, want 11", n)
	}
	if n := count(t, s, `SELECT COUNT(*) FROM webhook_outbox WHERE session_id = ?`, other.ID); n != 2 {
		t.Errorf("%d deliveries queued for the other session, want 2", n)
	}
	if n := count(t, s, `SELECT COUNT(DISTINCT event_id) FROM webhook_outbox WHERE session_id = ?`, sess.ID); n != 3 {
		t.Errorf("%d distinct events, want 3", n)
	}

	now := time.Now()
	claim := func(owner string) []*session.Delivery {
		t.Helper()
		ds, err := s.ClaimWebhooks(ctx, owner, 100, now, time.Minute)
		if err != nil {
			t.Fatalf("ClaimWebhooks: %v", err)
		}
		return ds
	}
	kinds := func(ds []*session.Delivery) []string {
		var out []string
		for _, d := range ds {
			if d.SessionID == sess.ID {
				out = append(out, d.Event+"→"+d.URL)
			}
		}
		sort.Strings(out)
		return out
	}
	first := claim("x")
	want := []string{"estimate.accepted→https://mine.example/h", "session.created→https://a.example/h", "session.created→https://b.example/h", "session.created→https://team.example/h"}
	if got := kinds(first); len(got) != len(want) || got[0] != want[0] || got[3] != want[3] {
		t.Fatalf("first claim = %v, want %v", got, want)
	}
	for _, d := range first {
		if d.Scope == session.HookScopeTeam && d.Sealed != "sealed-team" || d.Scope == session.HookScopeSession && d.Sealed != "sealed-mine" {
			t.Errorf("delivery %+v carries the wrong secret", d)
		}
		if d.Event == session.HookEstimateAccepted && (d.StoryID != st.ID || d.Value != "5" || d.Round != 1) {
			t.Errorf("estimate.accepted = %+v", d)
		}
	}
	if again := claim("y"); len(again) != 0 {
		t.Errorf("claimed twice: %d", len(again))
	}
	if err := s.ReleaseWebhooks(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	first = claim("y")
	for _, d := range first {
		d.State, d.Attempts, d.Body = session.OutboxDelivered, 1, []byte(`{"id":"x"}`)
		if d.URL == "https://b.example/h" {
			d.State, d.NextAttempt = session.OutboxPending, now.Add(time.Hour) // b is down
		}
		if err := s.FinishWebhook(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	// a, team and mine move on to the next event; b waits for its retry and holds back its later events.
	if got := kinds(claim("y")); len(got) != 3 {
		t.Errorf("second claim = %v, want the next event for a, team and mine", got)
	}
	later, err := s.ClaimWebhooks(ctx, "z", 100, now.Add(2*time.Hour), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range later {
		if d.URL == "https://b.example/h" && d.SessionID == sess.ID && (d.Event != session.HookSessionCreated || string(d.Body) != `{"id":"x"}`) {
			t.Errorf("b got %s before its earlier event, or without the body kept: %s", d.Event, d.Body)
		}
	}
	if err := s.DeleteSessionWebhook(ctx, sess.ID); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, "deleted webhook", func() error { _, err := s.SessionWebhook(ctx, sess.ID); return err }())

	// The team is the session's at the time of the event: the other session joins the team and
	// its end goes to the team's webhook.
	if err := s.SetSessionTeam(ctx, other.ID, team.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.CloseSession(ctx, other.ID, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, `SELECT COUNT(*) FROM webhook_outbox WHERE session_id = ? AND scope = 'team' AND event = 'session.ended' AND url = 'https://team.example/h'`, other.ID); n != 1 {
		t.Errorf("%d team deliveries of the end of a session that joined the team, want 1", n)
	}
	if n := count(t, s, `SELECT COUNT(*) FROM webhook_outbox WHERE session_id = ? AND scope = 'team' AND event <> 'session.ended'`, other.ID); n != 0 {
		t.Errorf("%d team deliveries of events from before the session joined the team, want 0", n)
	}
	if err := s.DeleteTeamWebhook(ctx, team.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.TeamWebhook(ctx, team.ID)
	wantNotFound(t, "deleted team webhook", err)
	wantNotFound(t, "deleting it again", s.DeleteTeamWebhook(ctx, team.ID))
}
