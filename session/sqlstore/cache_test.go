package sqlstore

import (
	"testing"

	"github.com/pokor/pokor/session"
)

// TestCachedRowsStayExact checks the SQLite row cache: what a caller does to a returned row
// does not leak into the next read, and every write through the store shows at once.
func TestCachedRowsStayExact(t *testing.T) {
	s := openSQLite(t)
	ctx := t.Context()
	sess, org := createSession(t, s, nil)
	bob := voters(t, s, sess.ID, 1)[0]

	got, err := s.Session(ctx, sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	got.Title, got.Deck.Cards[0] = "changed by a caller", "X"
	again, _ := s.Session(ctx, sess.ID)
	if again.Title != "Sprint 42" || again.Deck.Cards[0] != "0" {
		t.Fatalf("a caller's change reached the cache: %q %v", again.Title, again.Deck.Cards)
	}

	again.Title, again.Settings.AutoReveal = "Sprint 43", true
	if err := s.UpdateSession(ctx, again); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Session(ctx, sess.ID); got.Title != "Sprint 43" || !got.Settings.AutoReveal {
		t.Fatalf("after UpdateSession: %q %+v", got.Title, got.Settings)
	}

	if p, _ := s.Participant(ctx, sess.ID, bob.ID); p.Role != session.RoleVoter {
		t.Fatalf("Bob is %s", p.Role)
	}
	bob.Role = session.RoleSpectator
	if err := s.UpdateParticipant(ctx, bob); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Participant(ctx, sess.ID, bob.ID); p.Role != session.RoleSpectator {
		t.Fatalf("after UpdateParticipant Bob is %s", p.Role)
	}
	if err := s.RemoveParticipant(ctx, sess.ID, bob.ID); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Participant(ctx, sess.ID, bob.ID); p.Status != session.StatusRemoved {
		t.Fatalf("after RemoveParticipant Bob is %s", p.Status)
	}
	if p, _ := s.Participant(ctx, sess.ID, org.ID); p.Name != "Olga" {
		t.Fatalf("organizer: %+v", p)
	}

	if n, err := s.DeleteIdleSessions(ctx, t0.Add(24*60*60*1e9)); err != nil || n != 1 {
		t.Fatalf("DeleteIdleSessions: %d, %v", n, err)
	}
	if _, err := s.Session(ctx, sess.ID); err == nil {
		t.Fatal("a deleted session is still served from the cache")
	}
	if _, err := s.Participant(ctx, sess.ID, org.ID); err == nil {
		t.Fatal("a deleted session's participant is still served from the cache")
	}
}
