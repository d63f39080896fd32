package session_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/pokor/pokor/session"
)

// corpus is a fixed backlog to rank against.
var corpus = []*session.Story{
	{Title: "Login page with email and password", Description: "Users sign in with their email address and a password."},
	{Title: "Password reset by email", Description: "Send a reset link to the user's email address."},
	{Title: "Export invoices as PDF", Description: "Accounting needs monthly invoices as PDF files."},
	{Title: "Dark mode for the dashboard", Description: "Respect the system colour scheme."},
	{Title: "Invoice numbering per country", Description: "Invoices need sequential numbers per country."},
	{Title: "Two-factor login", Description: "Sign in with a one-time code after the password."},
	{Title: "Rate limit the public API", Description: "Return 429 with Retry-After when a client sends too many requests."},
}

func titles(stories []*session.Story, rs []session.Ranked) []string {
	var out []string
	for _, r := range rs {
		out = append(out, stories[r.Index].Title)
	}
	return out
}

func TestRankSimilar(t *testing.T) {
	tests := []struct {
		query string
		want  []string
	}{
		{"Reset a forgotten password", []string{"Password reset by email", "Login page with email and password", "Two-factor login"}},
		{"Invoices for Germany need their own numbers", []string{"Invoice numbering per country", "Export invoices as PDF"}},
		{"Login with Google", []string{"Two-factor login", "Login page with email and password"}},
		{"API clients get 429 Too Many Requests", []string{"Rate limit the public API"}},
		{"Dark", []string{"Dark mode for the dashboard"}},
		{"the and of", nil},            // only stop words: nothing is similar
		{"Kubernetes Helm chart", nil}, // no word in common
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got := session.RankSimilar(tt.query, corpus, 3)
			if g := titles(corpus, got); !slices.Equal(g, tt.want) {
				t.Errorf("RankSimilar(%q) = %q, want %q", tt.query, g, tt.want)
			}
			for i := 1; i < len(got); i++ {
				if got[i].Score > got[i-1].Score {
					t.Errorf("not best first: %+v", got)
				}
			}
		})
	}
	if got := session.RankSimilar("password", corpus, 1); len(got) != 1 {
		t.Errorf("n=1 returned %d", len(got))
	}
	if got := session.RankSimilar("password", nil, 3); got != nil {
		t.Errorf("an empty corpus ranked %v", got)
	}
}

func TestTokenize(t *testing.T) {
	got := session.Tokenize("The Users' PAGES: log-in, 2FA & café")
	want := []string{"user", "page", "log", "2fa", "café"}
	if !slices.Equal(got, want) {
		t.Errorf("Tokenize = %q, want %q", got, want)
	}
}

// teamRoom is a team with an earlier session whose estimated stories are the corpus, and a new
// session of the team with a voter, both connected.
func teamRoom(t *testing.T, e *env) (org, voter member, orgRec, voterRec *recorder, st *session.Story) {
	t.Helper()
	_, past := e.create(t, session.CreateInput{Title: "Sprint 1"})
	tv, err := e.svc.SetTeam(t.Context(), past.Actor, session.TeamInput{Name: "Core"})
	if err != nil {
		t.Fatal(err)
	}
	ins := make([]session.StoryInput, len(corpus))
	for i, c := range corpus {
		ins[i] = session.StoryInput{Title: c.Title, Description: c.Description}
	}
	sts, err := e.svc.AddStories(t.Context(), past.Actor, ins)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range sts {
		e.vote(t, past, s.ID, card([]string{"3", "5", "8", "2", "5", "8", "3"}[i]))
		if _, err := e.svc.Reveal(t.Context(), past.Actor, s.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Accept(t.Context(), past.Actor, s.ID, []string{"3", "5", "8", "2", "5", "8", "3"}[i]); err != nil {
			t.Fatal(err)
		}
	}
	sess, org := e.create(t, session.CreateInput{Title: "Sprint 2"})
	if _, err := e.svc.SetTeam(t.Context(), org.Actor, session.TeamInput{Link: tv.LinkURL}); err != nil {
		t.Fatal(err)
	}
	voter = e.join(t, sess.ID, "Vic", session.RoleVoter)
	st = e.addStories(t, org, "Reset a forgotten password")[0]
	orgRec, _ = e.connect(t, org)
	voterRec, _ = e.connect(t, voter)
	return org, voter, orgRec, voterRec, st
}

// TestSimilarStoriesOnlyAfterReveal checks, byte by byte, that nothing of the similar stories
// reaches a room before the reveal — no event, no snapshot field, not even a title — and that
// they arrive with it.
func TestSimilarStoriesOnlyAfterReveal(t *testing.T) {
	e := newEnv(t)
	org, voter, orgRec, voterRec, st := teamRoom(t, e)
	ctx := t.Context()
	secret := []byte("Password reset by email") // the best match: it must not anchor the vote

	e.vote(t, voter, st.ID, card("5"))
	e.vote(t, org, st.ID, card("3"))
	for _, m := range []member{org, voter} {
		snap, err := e.svc.Snapshot(ctx, m.Actor)
		if err != nil {
			t.Fatal(err)
		}
		if snap.Similar != nil || bytes.Contains(mustJSON(t, snap), secret) || bytes.Contains(mustJSON(t, snap), []byte(`"similar"`)) {
			t.Fatalf("snapshot before reveal holds similar stories: %s", mustJSON(t, snap))
		}
	}
	if _, err := e.svc.SimilarStories(ctx, voter.Actor, st.ID); session.ErrorCode(err) != session.CodeConflict {
		t.Errorf("SimilarStories before reveal = %v; want conflict", err)
	}
	for _, rec := range []*recorder{orgRec, voterRec} {
		if b := rec.since(0); bytes.Contains(b, secret) || bytes.Contains(b, []byte(`"similar"`)) {
			t.Fatalf("bytes before reveal hold similar stories: %s", b)
		}
	}

	if _, err := e.svc.Reveal(ctx, org.Actor, st.ID); err != nil {
		t.Fatal(err)
	}
	for _, rec := range []*recorder{orgRec, voterRec} {
		evs := rec.events(t, session.EvSimilar)
		if len(evs) != 1 {
			t.Fatalf("%d similar events after reveal, want 1", len(evs))
		}
		var v session.SimilarView
		if err := json.Unmarshal(evs[0], &v); err != nil {
			t.Fatal(err)
		}
		if v.StoryID != st.ID || v.Round != 1 || len(v.Stories) != 3 || v.Stories[0].Title != string(secret) ||
			v.Stories[0].Estimate != "5" || v.Stories[0].SessionTitle != "Sprint 1" {
			t.Errorf("similar event = %+v", v)
		}
		// The revealed event comes first: a client never shows suggestions for hidden votes.
		all := rec.since(0)
		if bytes.Index(all, []byte(`"type":"revealed"`)) > bytes.Index(all, []byte(`"type":"similar"`)) {
			t.Error("similar arrived before revealed")
		}
	}
	snap, err := e.svc.Snapshot(ctx, voter.Actor)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Similar == nil || len(snap.Similar.Stories) != 3 || snap.Similar.Stories[0].Title != string(secret) {
		t.Errorf("snapshot after reveal: similar = %+v", snap.Similar)
	}
	if v, err := e.svc.SimilarStories(ctx, voter.Actor, st.ID); err != nil || len(v.Stories) != 3 {
		t.Errorf("SimilarStories after reveal = %+v, %v", v, err)
	}

	// A re-vote hides the votes again, and the suggestions with them.
	if _, err := e.svc.Revote(ctx, org.Actor, st.ID); err != nil {
		t.Fatal(err)
	}
	if snap, _ := e.svc.Snapshot(ctx, voter.Actor); snap.Similar != nil {
		t.Error("snapshot during a re-vote holds similar stories")
	}
	if _, err := e.svc.SimilarStories(ctx, voter.Actor, st.ID); session.ErrorCode(err) != session.CodeConflict {
		t.Errorf("SimilarStories during a re-vote = %v; want conflict", err)
	}
}

func TestNoSimilarStoriesWithoutTeam(t *testing.T) {
	e := newEnv(t)
	_, org := e.create(t, session.CreateInput{Title: "Alone"})
	st := e.addStories(t, org, "Password reset")[0]
	rec, _ := e.connect(t, org)
	e.vote(t, org, st.ID, card("3"))
	if _, err := e.svc.Reveal(t.Context(), org.Actor, st.ID); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.events(t, session.EvSimilar)); n != 0 {
		t.Errorf("%d similar events in a session without a team", n)
	}
	v, err := e.svc.SimilarStories(t.Context(), org.Actor, st.ID)
	if err != nil || len(v.Stories) != 0 {
		t.Errorf("SimilarStories without a team = %+v, %v", v, err)
	}
}
