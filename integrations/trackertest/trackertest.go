// Package trackertest runs Pokor the way cmd/pokor does for the end-to-end tests of a tracker
// package: the write-back alone (a SQLite store in a file, the service with the given trackers,
// the outbox worker) to import, accept, watch a story sync, stop the process and start it again
// on the same database; or the whole web server, for driving the room's Import dialog in a
// browser.
package trackertest

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/session/sqlstore"
	"github.com/pokor/pokor/webui/browsertest"
	"github.com/pokor/pokor/webui/webuitest"
)

// Secret is the POKOR_SECRET_KEY of every process, so that a restart reads what the last one
// sealed.
const Secret = "trackertest-secret-key-that-is-long-enough-0123456789"

// Pokor is one running process.
type Pokor struct {
	t       testing.TB
	Store   *sqlstore.Store
	Hub     *session.Hub
	Service *session.Service
	cancel  context.CancelFunc
	done    chan struct{}
	stopped bool
}

// Start opens the database at path and starts the write-back worker under owner with the
// trackers. Polling and backoff are shortened so that retries take milliseconds.
func Start(t testing.TB, path, owner string, trackers ...session.Tracker) *Pokor {
	t.Helper()
	keys, err := session.NewKeys(Secret)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlstore.Open(context.Background(), "sqlite:"+path, keys)
	if err != nil {
		t.Fatal(err)
	}
	hub := session.NewHub()
	svc := session.NewService(session.Config{
		Store: st, Bus: session.LocalBus{Hub: hub}, Presence: hub, Keys: keys, BaseURL: "https://pokor.example.com",
		Trackers:      trackers,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		WriteBackPoll: 10 * time.Millisecond,
		Backoff:       func(int) time.Duration { return 20 * time.Millisecond },
	})
	ctx, cancel := context.WithCancel(context.Background())
	p := &Pokor{t: t, Store: st, Hub: hub, Service: svc, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		svc.RunWriteBack(ctx, owner)
	}()
	t.Cleanup(p.Stop)
	return p
}

// Stop ends the worker, which gives back its claims, and closes the store, as a shutdown does.
func (p *Pokor) Stop() {
	if p.stopped {
		return
	}
	p.stopped = true
	p.cancel()
	<-p.done
	if err := p.Store.Close(); err != nil {
		p.t.Errorf("closing the store: %v", err)
	}
}

// Import creates a session "Sprint 42" and imports every story query selects in source, all
// pages, as the room's Import all does. It returns the organizer, what the import said, and the
// session's stories in order.
func (p *Pokor) Import(source, query string) (session.Actor, session.ImportResult, []*session.Story) {
	p.t.Helper()
	ctx := context.Background()
	sess, org, _, err := p.Service.CreateSession(ctx, session.CreateInput{Title: "Sprint 42", Organizer: "Ann"})
	if err != nil {
		p.t.Fatal(err)
	}
	a := session.Actor{SessionID: sess.ID, ParticipantID: org.ID}
	res, err := p.Service.Import(ctx, a, source, query)
	if err != nil {
		p.t.Fatalf("import %s %q: %v", source, query, err)
	}
	stories, err := p.Store.Stories(ctx, sess.ID)
	if err != nil {
		p.t.Fatal(err)
	}
	return a, res, stories
}

// Accept makes the story the current one, votes value, reveals and accepts it, which queues
// its write-back.
func (p *Pokor) Accept(a session.Actor, storyID, value string) {
	p.t.Helper()
	ctx := context.Background()
	if _, err := p.Service.SelectStory(ctx, a, storyID); err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.Service.Vote(ctx, a, storyID, session.VoteInput{Card: value}); err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.Service.Reveal(ctx, a, storyID); err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.Service.Accept(ctx, a, storyID, value); err != nil {
		p.t.Fatal(err)
	}
}

// Story reads a story from the store.
func (p *Pokor) Story(a session.Actor, id string) *session.Story {
	p.t.Helper()
	st, err := p.Store.Story(context.Background(), a.SessionID, id)
	if err != nil {
		p.t.Fatal(err)
	}
	return st
}

// WaitSync waits until the story's sync state is want and returns the story.
func (p *Pokor) WaitSync(a session.Actor, id string, want session.SyncState) *session.Story {
	p.t.Helper()
	var st *session.Story
	WaitFor(p.t, "sync state "+string(want), 10*time.Second, func() bool {
		st = p.Story(a, id)
		return st.SyncState == want
	})
	return st
}

// WaitFor polls cond until it holds or the timeout passes.
func WaitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Serve starts the web server built from the real parts (webuitest) with the trackers and the
// write-back worker, polling and backing off in milliseconds, as `pokor serve` runs them.
func Serve(t testing.TB, trackers ...session.Tracker) *webuitest.Server {
	t.Helper()
	srv := webuitest.Start(t, webuitest.Options{Service: func(c *session.Config) {
		c.Trackers = trackers
		c.WriteBackPoll, c.Backoff = 10*time.Millisecond, func(int) time.Duration { return 20 * time.Millisecond }
	}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); srv.Service.RunWriteBack(ctx, "trackertest") }()
	t.Cleanup(func() { cancel(); <-done })
	return srv
}

// OpenImport creates the session "Sprint 42" as Ann in the browser ctx and opens its Import
// dialog.
func OpenImport(t *testing.T, ctx context.Context, baseURL string) {
	t.Helper()
	css := func(s string) browsertest.CSS { return browsertest.CSS(s) }
	browsertest.Do(t, ctx,
		chromedp.Navigate(baseURL+"/"),
		chromedp.SendKeys(css(`#create input[name=title]`), "Sprint 42"),
		chromedp.SendKeys(css(`#create input[name=name]`), "Ann"),
		chromedp.Click(css(`#create button[type=submit]`)),
		chromedp.WaitVisible(css(`#open-import`)),
		chromedp.Click(css(`#open-import`)),
		chromedp.WaitVisible(css(`#import-query`)),
	)
}

// StopWorker ends the write-back worker and leaves the store open, so that a test can play a
// process whose worker is gone.
func (p *Pokor) StopWorker() {
	p.cancel()
	<-p.done
}

// Crash closes the store as a killed process leaves it: nothing is given back.
func (p *Pokor) Crash() {
	p.stopped = true
	_ = p.Store.Close()
}
