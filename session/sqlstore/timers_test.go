package sqlstore

import (
	"sync"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
)

// testTimers: a session keeps one timer, which a new one replaces; it is due once its deadline
// passes, and of many concurrent callers exactly one ends it.
func testTimers(t *testing.T, s *Store) {
	ctx := t.Context()
	sess, org := createSession(t, s, nil)
	st := addStories(t, s, sess.ID, "Timed")[0]
	if _, err := s.Timer(ctx, sess.ID); session.ErrorCode(err) != session.CodeNotFound {
		t.Fatalf("Timer of a session without one: %v, want not found", err)
	}
	first := &session.Timer{ID: "t1", SessionID: sess.ID, StoryID: st.ID, Round: 1, Seconds: 60, Reveal: true,
		State: session.TimerRunning, StartedBy: org.ID, StartedAt: t0, Deadline: t0.Add(time.Minute)}
	if err := s.SaveTimer(ctx, first); err != nil {
		t.Fatal(err)
	}
	got, err := s.Timer(ctx, sess.ID)
	if err != nil || got.ID != "t1" || !got.Reveal || got.Seconds != 60 || !got.Deadline.Equal(t0.Add(time.Minute)) || got.State != session.TimerRunning || got.EndedAt != nil {
		t.Fatalf("Timer: %+v, %v", got, err)
	}
	if due, err := s.DueTimers(ctx, t0.Add(59*time.Second), 10); err != nil || len(due) != 0 {
		t.Fatalf("DueTimers before the deadline: %v, %v", due, err)
	}
	if ok, err := s.ExpireTimer(ctx, sess.ID, "t1", t0.Add(30*time.Second)); err != nil || ok {
		t.Fatalf("ExpireTimer before the deadline: %v, %v", ok, err)
	}

	// A new timer replaces the first: the old one can no longer be stopped or expired.
	second := *first
	second.ID, second.Reveal, second.Deadline = "t2", false, t0.Add(2*time.Minute)
	if err := s.SaveTimer(ctx, &second); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.StopTimer(ctx, sess.ID, "t1", t0); err != nil || ok {
		t.Fatalf("StopTimer of a replaced timer: %v, %v", ok, err)
	}
	if due, err := s.DueTimers(ctx, t0.Add(3*time.Minute), 10); err != nil || len(due) != 1 || due[0].ID != "t2" || due[0].Reveal {
		t.Fatalf("DueTimers after the deadline: %+v, %v", due, err)
	}

	const n = 16
	won := make([]bool, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			var err error
			if won[i], err = s.ExpireTimer(ctx, sess.ID, "t2", t0.Add(3*time.Minute)); err != nil {
				t.Errorf("ExpireTimer %d: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	winners := 0
	for _, w := range won {
		if w {
			winners++
		}
	}
	if winners != 1 {
		t.Errorf("%d of %d concurrent expiries won, want exactly 1", winners, n)
	}
	got, err = s.Timer(ctx, sess.ID)
	if err != nil || got.State != session.TimerExpired || got.EndedAt == nil || !got.EndedAt.Equal(t0.Add(3*time.Minute)) {
		t.Fatalf("expired timer: %+v, %v", got, err)
	}
	if due, _ := s.DueTimers(ctx, t0.Add(time.Hour), 10); len(due) != 0 {
		t.Errorf("an expired timer is still due: %+v", due)
	}

	// Stopping a running timer.
	third := second
	third.ID, third.State, third.EndedAt = "t3", session.TimerRunning, nil
	if err := s.SaveTimer(ctx, &third); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.StopTimer(ctx, sess.ID, "t3", t0.Add(time.Second)); err != nil || !ok {
		t.Fatalf("StopTimer: %v, %v", ok, err)
	}
	if got, _ := s.Timer(ctx, sess.ID); got.State != session.TimerStopped {
		t.Errorf("stopped timer in state %s", got.State)
	}
}
