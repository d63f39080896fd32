package sqlstore

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
)

// TestSQLiteRestart stops the store in the middle of a round and starts it again on the same
// file: the session, the round and every acknowledged vote are there, and the round goes on.
func TestSQLiteRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "pokor.db") // the directory is created by Open
	s := openSQLiteFile(t, path)
	origin := session.Origin{Platform: "discord", Team: "G1", Channel: "C9", ReplyURL: "https://discord.com/api/webhooks/1/tok", ReplyExpires: t0.Add(15 * time.Minute)}
	sess, org := createSession(t, s, func(x *session.Session) { x.Origin = origin })
	vs := voters(t, s, sess.ID, 2)
	ann, bob := vs[0], vs[1]
	sts := addStories(t, s, sess.ID, "Voting", "Revealed")
	sess.CurrentStoryID = sts[0].ID
	if _, err := s.SetCurrentStory(t.Context(), sess.ID, sts[0].ID, nil, sess.UpdatedAt); err != nil {
		t.Fatal(err)
	}
	castVote(t, s, sts[0].ID, 1, ann, "3")
	castVote(t, s, sts[0].ID, 1, bob, "5")
	castVote(t, s, sts[1].ID, 1, ann, "8")
	reveal(t, s, sts[1].ID, 1)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = openSQLiteFile(t, path)
	ctx := t.Context()
	got, err := s.Session(ctx, sess.ID)
	if err != nil {
		t.Fatalf("session after restart: %v", err)
	}
	checkSession(t, got, sess)
	if p, err := s.ParticipantByToken(ctx, sess.ID, tokenOf(org)); err != nil || p.ID != org.ID {
		t.Errorf("organizer's token after restart: %v, %v", p, err)
	}
	if ps, _ := s.Participants(ctx, sess.ID); len(ps) != 3 {
		t.Errorf("%d participants after restart, want 3", len(ps))
	}
	st := getStory(t, s, sess.ID, sts[0].ID)
	if st.Title != "Voting" || st.Round != 1 || st.RoundState != session.RoundVoting || st.Status != session.StoryOpen {
		t.Errorf("story after restart: %+v", st)
	}
	if votes := getVotes(t, s, sts[0].ID, 1); len(votes) != 2 || votes[ann.ID] != "3" || votes[bob.ID] != "5" {
		t.Errorf("votes after restart: %v", votes)
	}
	if st := getStory(t, s, sess.ID, sts[1].ID); st.RoundState != session.RoundRevealed {
		t.Errorf("revealed story after restart: %+v", st)
	}
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, `SELECT COUNT(*) FROM schema_migrations`); n != len(files) {
		t.Errorf("%d migrations recorded after a restart, want each of the %d once", n, len(files))
	}

	castVote(t, s, sts[0].ID, 1, bob, "8")
	reveal(t, s, sts[0].ID, 1)
	if err := s.CastVote(ctx, &session.Vote{StoryID: sts[0].ID, Round: 1, ParticipantID: ann.ID, Card: "1", CastAt: t0}); !errors.Is(err, session.ErrRoundClosed) {
		t.Errorf("a vote after the reveal that followed a restart: %v", err)
	}
	if votes := getVotes(t, s, sts[0].ID, 1); votes[ann.ID] != "3" || votes[bob.ID] != "8" {
		t.Errorf("revealed votes: %v", votes)
	}
}

// TestSQLiteCloseWhileVoting closes the store while votes arrive: every caller gets an answer,
// every acknowledged vote is on disk, and votes after Close are refused as unavailable.
func TestSQLiteCloseWhileVoting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pokor.db")
	s := openSQLiteFile(t, path)
	sess, _ := createSession(t, s, nil)
	st := addStories(t, s, sess.ID, "Shutdown")[0]
	const n = 50
	ps := voters(t, s, sess.ID, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Go(func() {
			<-start
			errs[i] = s.CastVote(t.Context(), &session.Vote{StoryID: st.ID, Round: 1, ParticipantID: p.ID, Card: "5", CastAt: t0})
		})
	}
	close(start)
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	wg.Wait() // hangs if a vote was queued but never written nor refused

	for i := range 10 {
		err := s.CastVote(t.Context(), &session.Vote{StoryID: st.ID, Round: 1, ParticipantID: ps[i].ID, Card: "8", CastAt: t0})
		if session.ErrorCode(err) != session.CodeUnavailable {
			t.Fatalf("a vote after Close: got %v, want unavailable", err)
		}
	}

	s = openSQLiteFile(t, path)
	got := getVotes(t, s, st.ID, 1)
	acked := 0
	for i, p := range ps {
		if errs[i] == nil {
			acked++
			if got[p.ID] != "5" {
				t.Errorf("vote %d was acknowledged before Close but is not on disk", i)
			}
		}
	}
	t.Logf("%d of %d votes acknowledged before Close", acked, n)
}

func TestOpenURLs(t *testing.T) {
	tests := []struct {
		url  string
		want string
	}{
		{"sqlite:", "needs a file path"},
		{"mysql://u:hunter2@db/pokor", "must start with sqlite: or postgres://"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, err := Open(t.Context(), tt.url, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open(%q) = %v, want an error containing %q", tt.url, err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error shows the database password: %v", err)
			}
		})
	}
}
