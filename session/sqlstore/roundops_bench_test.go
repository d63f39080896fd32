package sqlstore

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/session/sessiontest"
)

// BenchmarkRoundOps measures the round state machine as rooms drive it, on SQLite and
// PostgreSQL: 64 rooms at once, each casting 4 votes, revealing and starting a re-vote, over and
// over (one op is one of these six calls, each answered after its commit). commits/op shows
// group commit: below one when votes, reveals and new rounds share transactions.
func BenchmarkRoundOps(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run("store="+db, func(b *testing.B) {
			url := "sqlite:" + filepath.Join(b.TempDir(), "pokor.db")
			if db == "postgres" {
				url = sessiontest.Postgres(b)
			}
			benchRoundOps(b, url)
		})
	}
}

func benchRoundOps(b *testing.B, url string) {
	ctx := context.Background()
	s, err := Open(ctx, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	now := time.Now().UTC()
	type room struct {
		story  string
		voters []string
		round  int
		step   int
	}
	rooms := make([]*room, 64)
	for r := range rooms {
		story, voters := benchRoom(b, s, 4, now)
		rooms[r] = &room{story: story, voters: voters, round: 1}
	}
	var next atomic.Int64
	c0 := s.Commits()
	b.SetParallelism(32) // 64 rooms in flight on 2 cores
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		rm := rooms[int(next.Add(1)-1)%len(rooms)]
		for pb.Next() {
			var err error
			switch rm.step {
			case 4:
				_, err = s.Reveal(ctx, rm.story, rm.round, now, false)
			case 5:
				_, err = s.StartRound(ctx, rm.story, rm.round, now)
				rm.round++
			default:
				err = s.CastVote(ctx, &session.Vote{StoryID: rm.story, Round: rm.round, ParticipantID: rm.voters[rm.step], Card: "5", CastAt: now})
			}
			if err != nil {
				b.Error(err)
				return
			}
			rm.step = (rm.step + 1) % 6
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(s.Commits()-c0)/float64(b.N), "commits/op")
}
