package sqlstore

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/session/sessiontest"
)

// testCurrentVote: CastCurrentVote finds the round itself and refuses, without a read before it,
// every vote the service would have refused after reading the story and the voter.
func testCurrentVote(t *testing.T, s *Store) {
	ctx := t.Context()
	sess, org := createSession(t, s, nil)
	other, _ := createSession(t, s, nil)
	st := addStories(t, s, sess.ID, "A")[0]
	foreign := addStories(t, s, other.ID, "B")[0]
	ann := addParticipant(t, s, &session.Participant{SessionID: sess.ID, Name: "Ann"})
	spec := addParticipant(t, s, &session.Participant{SessionID: sess.ID, Name: "Sam", Role: session.RoleSpectator})
	wait := addParticipant(t, s, &session.Participant{SessionID: sess.ID, Name: "Pat", Status: session.StatusPending})
	gone := addParticipant(t, s, &session.Participant{SessionID: sess.ID, Name: "Gus"})
	if err := s.RemoveParticipant(ctx, sess.ID, gone.ID); err != nil {
		t.Fatal(err)
	}
	cast := func(storyID string, p *session.Participant, card string) (*session.Vote, error) {
		v := &session.Vote{StoryID: storyID, ParticipantID: p.ID, Card: card, CastAt: t0.Add(time.Minute)}
		return v, s.CastCurrentVote(ctx, sess.ID, v)
	}
	for _, p := range []*session.Participant{ann, org} {
		v, err := cast(st.ID, p, "5")
		if err != nil || v.Round != 1 {
			t.Fatalf("%s votes: round %d, %v", p.Name, v.Round, err)
		}
	}
	if _, err := cast(st.ID, ann, "8"); err != nil {
		t.Fatalf("Ann changes her vote: %v", err)
	}
	if got := getVotes(t, s, st.ID, 1); got[ann.ID] != "8" || got[org.ID] != "5" || len(got) != 2 {
		t.Errorf("votes of round 1: %v", got)
	}
	for _, c := range []struct {
		what    string
		storyID string
		p       *session.Participant
	}{
		{"a spectator", st.ID, spec},
		{"a waiting joiner", st.ID, wait},
		{"a removed participant", st.ID, gone},
		{"a story of another session", foreign.ID, ann},
		{"a story that does not exist", "nope", ann},
	} {
		if _, err := cast(c.storyID, c.p, "3"); !errors.Is(err, session.ErrRoundClosed) {
			t.Errorf("%s: %v, want ErrRoundClosed", c.what, err)
		}
	}
	reveal(t, s, st.ID, 1)
	if _, err := cast(st.ID, ann, "3"); !errors.Is(err, session.ErrRoundClosed) {
		t.Errorf("after the reveal: %v, want ErrRoundClosed", err)
	}
	if ok, err := s.StartRound(ctx, st.ID, 1, t0.Add(20*time.Minute)); !ok || err != nil {
		t.Fatalf("StartRound: %v %v", ok, err)
	}
	if v, err := cast(st.ID, ann, "13"); err != nil || v.Round != 2 {
		t.Fatalf("a vote after the re-vote: round %d, %v", v.Round, err)
	}
	if got := getVotes(t, s, st.ID, 1); got[ann.ID] != "8" {
		t.Errorf("the re-vote changed round 1: %v", got)
	}
}

// TestPostgresSharedCache runs two stores on one PostgreSQL database, as two instances do, with
// their announcements carried synchronously (the bus, in cmd/pokor, carries them over Redis).
func TestPostgresSharedCache(t *testing.T) {
	url := sessiontest.Postgres(t)
	open := func() *Store {
		s, err := Open(t.Context(), url, testKeys(t))
		if err != nil {
			t.Fatalf("opening PostgreSQL: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	blue, green := open(), open()
	live := true
	for _, pair := range [][2]*Store{{blue, green}, {green, blue}} {
		self, peer := pair[0], pair[1]
		self.ShareCache(func(sid string, f session.Forget) { peer.Forget(sid, f) }, func() bool { return live })
	}
	ctx := t.Context()
	sess, _ := createSession(t, blue, nil)
	st := addStories(t, blue, sess.ID, "A")[0]
	ann := addParticipant(t, blue, &session.Participant{SessionID: sess.ID, Name: "Ann"})

	// Green caches Ann and the session; blue changes both: green serves the change at once.
	if p, err := green.Participant(ctx, sess.ID, ann.ID); err != nil || p.Role != session.RoleVoter {
		t.Fatalf("green reads Ann: %v %v", p, err)
	}
	if _, err := green.Session(ctx, sess.ID); err != nil {
		t.Fatal(err)
	}
	ann.Role = session.RoleSpectator
	if err := blue.UpdateParticipant(ctx, ann); err != nil {
		t.Fatal(err)
	}
	changed := *sess
	changed.Settings.Reveal = session.RevealEveryone
	if err := blue.UpdateSession(ctx, &changed); err != nil {
		t.Fatal(err)
	}
	if p, _ := green.Participant(ctx, sess.ID, ann.ID); p.Role != session.RoleSpectator {
		t.Errorf("green serves Ann as %s after blue made her a spectator", p.Role)
	}
	if got, _ := green.Session(ctx, sess.ID); got.Settings.Reveal != session.RevealEveryone {
		t.Errorf("green serves reveal=%s after blue set everyone", got.Settings.Reveal)
	}

	// A write green never hears of (made behind both stores' backs): green's cache is stale, and
	// still the vote is refused, because the write checks the voter itself.
	if _, err := blue.exec(ctx, `UPDATE participants SET role = 'voter' WHERE id = ?`, ann.ID); err != nil {
		t.Fatal(err)
	}
	green.Forget(sess.ID, session.Forget{Participants: []string{ann.ID}})
	if p, _ := green.Participant(ctx, sess.ID, ann.ID); p.Role != session.RoleVoter {
		t.Fatalf("setup: green should read Ann as a voter, got %s", p.Role)
	}
	if _, err := blue.exec(ctx, `UPDATE participants SET role = 'spectator' WHERE id = ?`, ann.ID); err != nil {
		t.Fatal(err)
	}
	if p, _ := green.Participant(ctx, sess.ID, ann.ID); p.Role != session.RoleVoter {
		t.Fatalf("setup: green's cache should still hold Ann as a voter, got %s", p.Role)
	}
	v := &session.Vote{StoryID: st.ID, ParticipantID: ann.ID, Card: "3", CastAt: t0}
	if err := green.CastCurrentVote(ctx, sess.ID, v); !errors.Is(err, session.ErrRoundClosed) {
		t.Errorf("green stored the vote of a participant the database says is a spectator: %v", err)
	}

	// While the bus is away the cache is not used, and it is emptied when the bus returns.
	live = false
	if p, _ := green.Participant(ctx, sess.ID, ann.ID); p.Role != session.RoleSpectator {
		t.Errorf("with the bus away, green served Ann from its cache as %s", p.Role)
	}
	if _, err := blue.exec(ctx, `UPDATE participants SET role = 'organizer' WHERE id = ?`, ann.ID); err != nil {
		t.Fatal(err)
	}
	live = true
	if p, _ := green.Participant(ctx, sess.ID, ann.ID); p.Role != session.RoleOrganizer {
		t.Errorf("after the bus returned, green served Ann as %s, want organizer", p.Role)
	}
}

// TestPostgresSynchronousCommit: every connection commits durably, even when the database URL
// asks otherwise: a vote is acknowledged only after its commit is on disk.
func TestPostgresSynchronousCommit(t *testing.T) {
	url := sessiontest.Postgres(t)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	s, err := Open(t.Context(), url+sep+"synchronous_commit=off", testKeys(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got string
	if err := s.w.QueryRowContext(t.Context(), `SHOW synchronous_commit`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != "on" {
		t.Errorf("synchronous_commit = %s, want on", got)
	}
}
