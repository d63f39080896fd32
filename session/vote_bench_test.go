package session_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/session/sessiontest"
	"github.com/pokor/pokor/session/sqlstore"
)

// readCounter counts the store's reads of the vote path and the writes, so that a benchmark
// reports how many round trips to the database a vote costs beside its time.
type readCounter struct {
	session.Store
	reads, writes atomic.Int64
}

func (c *readCounter) Session(ctx context.Context, id string) (*session.Session, error) {
	c.reads.Add(1)
	return c.Store.Session(ctx, id)
}

func (c *readCounter) Participant(ctx context.Context, sid, id string) (*session.Participant, error) {
	c.reads.Add(1)
	return c.Store.Participant(ctx, sid, id)
}

func (c *readCounter) Story(ctx context.Context, sid, id string) (*session.Story, error) {
	c.reads.Add(1)
	return c.Store.Story(ctx, sid, id)
}

func (c *readCounter) Votes(ctx context.Context, id string, round int) ([]session.Vote, error) {
	c.reads.Add(1)
	return c.Store.Votes(ctx, id, round)
}

func (c *readCounter) Participants(ctx context.Context, sid string) ([]*session.Participant, error) {
	c.reads.Add(1)
	return c.Store.Participants(ctx, sid)
}

func (c *readCounter) CastVote(ctx context.Context, v *session.Vote) error {
	c.writes.Add(1)
	return c.Store.CastVote(ctx, v)
}

// BenchmarkServiceVote measures Service.Vote, the hot path of a room, on SQLite and (when it
// runs) PostgreSQL: 100 rooms of 8 voters, voters in parallel, each vote durable. Besides the time
// it reports the reads per vote through session.Store (store-calls), the queries among them that
// reached the database (db-reads, each a round trip on PostgreSQL; the store's cache answers the
// others) and the transactions committed per vote,
// which group commit brings below one.
func BenchmarkServiceVote(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run("store="+db, func(b *testing.B) {
			url := "sqlite:" + filepath.Join(b.TempDir(), "pokor.db")
			if db == "postgres" {
				url = sessiontest.Postgres(b)
			}
			benchVote(b, url)
		})
	}
}

func benchVote(b *testing.B, url string) {
	ctx := context.Background()
	keys, err := session.NewKeys("bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz")
	if err != nil {
		b.Fatal(err)
	}
	st, err := sqlstore.Open(ctx, url, keys)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	store := &readCounter{Store: st}
	hub := session.NewHub()
	svc := session.NewService(session.Config{Store: store, Bus: session.LocalBus{Hub: hub}, Presence: hub, Keys: keys,
		BaseURL: "http://pokor.test", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	type voter struct {
		a     session.Actor
		story string
	}
	var voters []voter
	for r := range 100 {
		sess, _, _, err := svc.CreateSession(ctx, session.CreateInput{Title: fmt.Sprint("Room ", r), Deck: session.DeckFibonacci, Organizer: "Olga"})
		if err != nil {
			b.Fatal(err)
		}
		org, err := store.Participants(ctx, sess.ID)
		if err != nil {
			b.Fatal(err)
		}
		sts, err := svc.AddStories(ctx, session.Actor{SessionID: sess.ID, ParticipantID: org[0].ID}, []session.StoryInput{{Title: "Checkout"}})
		if err != nil {
			b.Fatal(err)
		}
		for i := range 8 {
			p, _, err := svc.Join(ctx, sess.ID, session.JoinInput{Name: fmt.Sprint("Voter ", i), Role: session.RoleVoter})
			if err != nil {
				b.Fatal(err)
			}
			voters = append(voters, voter{session.Actor{SessionID: sess.ID, ParticipantID: p.ID}, sts[0].ID})
		}
	}
	var next atomic.Int64
	cards := []string{"1", "2", "3", "5", "8"}
	b.SetParallelism(4) // 4 × GOMAXPROCS voters at once, as a busy server sees
	store.reads.Store(0)
	c0, r0 := st.Commits(), st.Reads()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := next.Add(1)
			v := voters[int(n)%len(voters)]
			if _, err := svc.Vote(ctx, v.a, v.story, session.VoteInput{Card: cards[int(n)%len(cards)]}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(store.reads.Load())/float64(b.N), "store-calls/vote")
	b.ReportMetric(float64(st.Reads()-r0)/float64(b.N), "db-reads/vote")
	b.ReportMetric(float64(st.Commits()-c0)/float64(b.N), "commits/vote")
}
