package sqlstore

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
)

// BenchmarkCastVote measures durable votes on SQLite (WAL, synchronous FULL) from many
// concurrent voters, as the room path sends them: each vote is answered only after the commit
// that holds it. Group commit is what makes this affordable; votes/commit shows how many votes
// share one fsync. The rate the product needs (1,900 votes a second beside everything else) is
// checked by `make bench` (docs/performance.md), not here.
func BenchmarkCastVote(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "pokor.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	now := time.Now().UTC()
	// 64 voters, each voting again and again: a replaced vote costs what a new one does.
	storyID, voters := benchRoom(b, s, 64, now)
	commits0 := s.rounds.commits.Load()
	var next atomic.Int64
	b.SetParallelism(16) // 32 voters in flight on 2 cores, as a busy server has
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			v := &session.Vote{StoryID: storyID, Round: 1, ParticipantID: voters[int(i)%len(voters)], Card: "5", CastAt: now}
			if err := s.CastVote(ctx, v); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	if n := s.rounds.commits.Load() - commits0; n > 0 {
		b.ReportMetric(float64(b.N)/float64(n), "votes/commit")
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "votes/s")
}

// benchRoom creates a session with one story and n voters for a benchmark, and returns the
// story's id and the voters' ids.
func benchRoom(b *testing.B, s *Store, n int, now time.Time) (string, []string) {
	b.Helper()
	ctx := context.Background()
	deck, _ := session.NewDeck(session.DeckFibonacci, nil)
	sess := &session.Session{ID: newID(), Title: "Bench", Deck: deck, Settings: session.DefaultSettings, CreatedAt: now, UpdatedAt: now}
	org := &session.Participant{ID: newID(), SessionID: sess.ID, Name: "Olga", Role: session.RoleOrganizer, Status: session.StatusActive, CreatedAt: now}
	if err := s.CreateSession(ctx, sess, org, "hash-"+org.ID); err != nil {
		b.Fatal(err)
	}
	st := &session.Story{Title: "Story", CreatedAt: now}
	if err := s.SaveStories(ctx, sess.ID, []*session.Story{st}); err != nil {
		b.Fatal(err)
	}
	voters := make([]string, n)
	for i := range voters {
		p := &session.Participant{ID: newID(), SessionID: sess.ID, Name: fmt.Sprintf("Voter %d", i), Role: session.RoleVoter, Status: session.StatusActive, CreatedAt: now}
		if err := s.AddParticipant(ctx, p, "hash-"+p.ID); err != nil {
			b.Fatal(err)
		}
		voters[i] = p.ID
	}
	return st.ID, voters
}
