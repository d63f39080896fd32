package sqlstore

import (
	"testing"
	"time"
)

// testRoundAnonymity: a reveal fixes its round's anonymity; later rounds keep their own, and
// CurrentRounds reports the current round of each story with it.
func testRoundAnonymity(t *testing.T, s *Store) {
	ctx := t.Context()
	sess, _ := createSession(t, s, nil)
	ann := voters(t, s, sess.ID, 1)[0]
	sts := addStories(t, s, sess.ID, "Anonymous", "Named")
	a, b := sts[0], sts[1]
	castVote(t, s, a.ID, 1, ann, "5")
	castVote(t, s, b.ID, 1, ann, "8")
	if won, err := s.Reveal(ctx, a.ID, 1, t0.Add(time.Minute), true); err != nil || !won {
		t.Fatalf("Reveal anonymous: %v %v", won, err)
	}
	// A losing reveal changes nothing, its anonymity included.
	if won, err := s.Reveal(ctx, a.ID, 1, t0.Add(2*time.Minute), false); err != nil || won {
		t.Fatalf("second Reveal: %v %v", won, err)
	}
	if won, err := s.Reveal(ctx, b.ID, 1, t0.Add(time.Minute), false); err != nil || !won {
		t.Fatalf("Reveal named: %v %v", won, err)
	}
	if ok, err := s.StartRound(ctx, a.ID, 1, t0.Add(3*time.Minute)); err != nil || !ok {
		t.Fatalf("StartRound: %v %v", ok, err)
	}
	rounds, err := s.Rounds(ctx, a.ID)
	if err != nil || len(rounds) != 2 || !rounds[0].Anonymous || rounds[1].Anonymous {
		t.Fatalf("rounds of the anonymous story: %+v, %v", rounds, err)
	}
	cur, err := s.CurrentRounds(ctx, sess.ID)
	if err != nil || len(cur) != 2 {
		t.Fatalf("CurrentRounds: %+v, %v", cur, err)
	}
	for _, r := range cur {
		switch r.StoryID {
		case a.ID:
			if r.Number != 2 || r.Anonymous || r.State != "voting" {
				t.Errorf("current round of a: %+v", r)
			}
		case b.ID:
			if r.Number != 1 || r.Anonymous || r.State != "revealed" {
				t.Errorf("current round of b: %+v", r)
			}
		}
	}
}

// testOrganizerLinkEpoch: a session starts at link generation 0; each rotation moves it on.
func testOrganizerLinkEpoch(t *testing.T, s *Store) {
	ctx := t.Context()
	sess, _ := createSession(t, s, nil)
	for want := 1; want <= 2; want++ {
		got, err := s.RotateOrganizerLinks(ctx, sess.ID)
		if err != nil || got != want {
			t.Fatalf("rotation %d: %d, %v", want, got, err)
		}
		if loaded, err := s.Session(ctx, sess.ID); err != nil || loaded.LinkEpoch != want {
			t.Fatalf("session after rotation %d: %+v, %v", want, loaded, err)
		}
	}
	if _, err := s.RotateOrganizerLinks(ctx, "nope"); err == nil {
		t.Error("rotating the links of a session that does not exist succeeded")
	}
}
