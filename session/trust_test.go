package session_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
)

// notices records the notices a service sends to the chat its session came from.
type notices struct {
	mu  sync.Mutex
	got []session.Notice
	ch  chan session.Notice
}

func (n *notices) Notify(_ context.Context, x session.Notice) error {
	n.mu.Lock()
	n.got = append(n.got, x)
	n.mu.Unlock()
	n.ch <- x
	return nil
}

func (n *notices) next(t *testing.T) session.Notice {
	t.Helper()
	select {
	case x := <-n.ch:
		return x
	case <-time.After(10 * time.Second):
		t.Fatal("no notice")
		return session.Notice{}
	}
}

// TestRoundAnonymityIsFixedAtReveal toggles "anonymous votes" both ways after reveals: each round
// keeps the anonymity it was revealed with in the snapshot, the history, the export and the chat
// summary.
func TestRoundAnonymityIsFixedAtReveal(t *testing.T) {
	chat := &notices{ch: make(chan session.Notice, 8)}
	e := newEnv(t, func(c *session.Config) { c.Notifier = chat })
	ctx := t.Context()
	sess, org := e.create(t, session.CreateInput{Settings: &session.Settings{Anonymous: true, AllowSpectators: true},
		Origin: session.Origin{Platform: "slack", Team: "T1", Channel: "C1"}})
	ann := e.join(t, sess.ID, "Ann", "")
	bob := e.join(t, sess.ID, "Bob", "")
	sts := e.addStories(t, org, "Anonymous round", "Named round")
	a, b := sts[0], sts[1]
	setAnonymous := func(on bool) {
		t.Helper()
		in := session.SettingsInput{Settings: &session.Settings{Anonymous: on, AllowSpectators: true}}
		if _, err := e.svc.UpdateSession(ctx, org.Actor, in); err != nil {
			t.Fatal(err)
		}
	}

	// Story a is revealed anonymously; then the setting goes off and story b is revealed by name.
	e.vote(t, ann, a.ID, session.VoteInput{Card: "3"})
	e.vote(t, bob, a.ID, session.VoteInput{Card: "5"})
	if v, err := e.svc.Reveal(ctx, org.Actor, a.ID); err != nil || !v.Anonymous {
		t.Fatalf("anonymous reveal: %+v, %v", v, err)
	}
	setAnonymous(false)
	if _, err := e.svc.SelectStory(ctx, org.Actor, b.ID); err != nil {
		t.Fatal(err)
	}
	e.vote(t, ann, b.ID, session.VoteInput{Card: "8"})
	e.vote(t, bob, b.ID, session.VoteInput{Card: "13"})
	if v, err := e.svc.Reveal(ctx, org.Actor, b.ID); err != nil || v.Anonymous {
		t.Fatalf("named reveal: %+v, %v", v, err)
	}

	named := func(votes []session.Vote) bool {
		for _, v := range votes {
			if v.ParticipantID == "" {
				return false
			}
		}
		return len(votes) > 0
	}
	anonymous := func(votes []session.Vote) bool {
		for _, v := range votes {
			if v.ParticipantID != "" || !v.CastAt.IsZero() {
				return false
			}
		}
		return len(votes) > 0
	}
	check := func(when string) {
		t.Helper()
		snap, err := e.svc.Snapshot(ctx, ann.Actor)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range snap.Stories {
			switch st.ID {
			case a.ID:
				if !st.Anonymous || !anonymous(st.Votes) {
					t.Errorf("%s: the snapshot shows the anonymous round as %+v", when, st.Votes)
				}
			case b.ID:
				if st.Anonymous || !named(st.Votes) {
					t.Errorf("%s: the snapshot shows the named round as %+v", when, st.Votes)
				}
			}
		}
		for id, wantAnon := range map[string]bool{a.ID: true, b.ID: false} {
			h, err := e.svc.History(ctx, bob.Actor, id)
			if err != nil || len(h) == 0 {
				t.Fatalf("history: %v %v", h, err)
			}
			if h[0].Anonymous != wantAnon || (wantAnon && !anonymous(h[0].Votes)) || (!wantAnon && !named(h[0].Votes)) {
				t.Errorf("%s: history of round 1 of %s: %+v", when, id, h[0])
			}
		}
		ex, err := e.svc.ExportSession(ctx, org.Actor)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range ex.Stories {
			r := st.Rounds[0]
			if st.ID == a.ID && (!r.Anonymous || !anonymous(r.Votes)) || st.ID == b.ID && (r.Anonymous || !named(r.Votes)) {
				t.Errorf("%s: export of %s: %+v", when, st.Title, r)
			}
		}
	}
	check("after turning anonymity off")
	setAnonymous(true)
	check("after turning it on again")

	// The chat summaries follow the round too, whatever the setting is now (on).
	for _, c := range []struct {
		st   *session.Story
		anon bool
	}{{a, true}, {b, false}} {
		if _, err := e.svc.Accept(ctx, org.Actor, c.st.ID, "5"); err != nil {
			t.Fatal(err)
		}
		n := chat.next(t)
		if n.Round == nil || n.Round.Anonymous != c.anon {
			t.Fatalf("summary of %s: round %+v", c.st.Title, n.Round)
		}
		if c.anon && (!anonymous(n.Round.Votes) || len(n.Names) != 0) {
			t.Errorf("the summary of an anonymous round names voters: %+v %v", n.Round.Votes, n.Names)
		}
		if !c.anon && (!named(n.Round.Votes) || n.Names[ann.ID] != "Ann" || n.Names[bob.ID] != "Bob") {
			t.Errorf("the summary of a named round: %+v %v", n.Round.Votes, n.Names)
		}
	}

	// A re-vote of the anonymous story, revealed now that the setting is on, is anonymous; turned
	// off before its reveal, it would not be: the reveal decides.
	if _, err := e.svc.Revote(ctx, org.Actor, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SelectStory(ctx, org.Actor, a.ID); err != nil {
		t.Fatal(err)
	}
	e.vote(t, ann, a.ID, session.VoteInput{Card: "5"})
	setAnonymous(false)
	if v, err := e.svc.Reveal(ctx, org.Actor, a.ID); err != nil || v.Anonymous || !named(v.Votes) {
		t.Fatalf("round 2, revealed with the setting off: %+v, %v", v, err)
	}
	h, _ := e.svc.History(ctx, ann.Actor, a.ID)
	if len(h) != 2 || !h[0].Anonymous || h[1].Anonymous {
		t.Errorf("history after a re-vote: %+v", h)
	}
}
