package session_test

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
)

// gatedTrackers is a tracker whose writes wait for the test to let them through.
type gatedTrackers struct {
	mu      sync.Mutex
	writes  map[string]int // key → writes that completed
	started chan string
	gate    chan struct{}
}

func newGatedTrackers() *gatedTrackers {
	return &gatedTrackers{writes: map[string]int{}, started: make(chan string, 16), gate: make(chan struct{})}
}

// trackers describes g as the tracker "github".
func (g *gatedTrackers) trackers() []session.Tracker {
	return []session.Tracker{{Name: "github", WritesBack: true,
		Open: func(session.Credentials) (session.TrackerClient, error) { return g, nil }}}
}

func (g *gatedTrackers) List(context.Context, string, string) (session.ExternalPage, error) {
	return session.ExternalPage{}, nil
}

func (g *gatedTrackers) Check(context.Context, string) (session.CheckReport, error) {
	return session.CheckReport{}, nil
}

func (g *gatedTrackers) WriteEstimate(ctx context.Context, key string, wb session.WriteBack) (session.WriteResult, error) {
	g.started <- key
	select {
	case <-g.gate:
	case <-ctx.Done():
		return session.WriteResult{}, ctx.Err()
	}
	g.mu.Lock()
	g.writes[key]++
	g.mu.Unlock()
	return session.WriteResult{Detail: "story points of " + key + " set to " + wb.Value}, nil
}

// TestWriteBackShutdown stops the worker while it writes an estimate: the write finishes and is
// recorded once, and the entries it had claimed but not started are given back at once.
func TestWriteBackShutdown(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	tr := newGatedTrackers()
	svc := session.NewService(session.Config{Store: e.store, Bus: session.LocalBus{Hub: e.hub}, Keys: e.keys, Trackers: tr.trackers(),
		Logger: slog.New(slog.DiscardHandler)})
	sess, _ := e.create(t, session.CreateInput{})
	voter := e.join(t, sess.ID, "Ann", "")
	var stories []*session.Story
	for i := range 3 {
		stories = append(stories, &session.Story{Title: fmt.Sprint("Issue ", i+1), Source: "github", ExternalKey: fmt.Sprintf("acme/api#%d", i+1), CreatedAt: time.Now()})
	}
	if err := e.store.SaveStories(ctx, sess.ID, stories); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for _, st := range stories {
		if err := e.store.CastVote(ctx, &session.Vote{StoryID: st.ID, Round: 1, ParticipantID: voter.ID, Card: "5", CastAt: now}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.Reveal(ctx, st.ID, 1, now, false); err != nil {
			t.Fatal(err)
		}
		wb := &session.Outbox{ID: "wb-" + st.ExternalKey, SessionID: sess.ID, StoryID: st.ID, Source: "github", ExternalKey: st.ExternalKey,
			Value: "5", State: session.OutboxPending, NextAttempt: now, CreatedAt: now}
		if ok, err := e.store.Accept(ctx, st.ID, 1, "5", wb); err != nil || !ok {
			t.Fatalf("Accept: %v, %v", ok, err)
		}
	}

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); svc.RunWriteBack(runCtx, "w1") }()
	var first string
	select {
	case first = <-tr.started:
	case <-time.After(10 * time.Second):
		t.Fatal("no write-back started")
	}
	stop() // SIGTERM while the write is in flight
	time.Sleep(100 * time.Millisecond)
	close(tr.gate)
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("RunWriteBack did not return after its context ended")
	}
	tr.mu.Lock()
	writes := maps.Clone(tr.writes)
	tr.mu.Unlock()
	if len(writes) != 1 || writes[first] != 1 {
		t.Fatalf("writes during shutdown: %v; want only the one in flight (%s), once", writes, first)
	}
	for _, st := range stories {
		got, err := e.store.Story(ctx, sess.ID, st.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := session.SyncPending
		if st.ExternalKey == first {
			want = session.SyncSynced
		}
		if got.SyncState != want {
			t.Errorf("%s: sync state %q after shutdown, want %q", st.ExternalKey, got.SyncState, want)
		}
	}
	rest, err := e.store.ClaimOutbox(ctx, "w2", 10, time.Now().UTC(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(rest) != 2 {
		t.Errorf("another instance could claim %d entries right after the shutdown, want the 2 not delivered", len(rest))
	}
	for _, o := range rest {
		if o.ExternalKey == first {
			t.Errorf("the delivered entry %s is claimable again", first)
		}
	}
}
