package session_test

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
)

type timerEvent struct {
	ID       string             `json:"id"`
	StoryID  string             `json:"story_id"`
	Round    int                `json:"round"`
	Seconds  int                `json:"seconds"`
	Reveal   bool               `json:"reveal"`
	State    session.TimerState `json:"state"`
	Deadline time.Time          `json:"deadline"`
	Now      time.Time          `json:"now"`
	Revealed bool               `json:"revealed"`
}

func timerEvents(t *testing.T, rec *recorder) []timerEvent {
	t.Helper()
	var out []timerEvent
	for _, raw := range rec.events(t, session.EvTimer) {
		var ev timerEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

// TestTimerRevealsAtDeadline: an organizer starts a timer that reveals; the room gets the
// deadline (not ticks), the snapshot carries it, and once it passes the round is revealed once,
// however many pollers and members notice it.
func TestTimerRevealsAtDeadline(t *testing.T) {
	e := newEnv(t)
	sess, org := e.create(t, session.CreateInput{})
	bob := e.join(t, sess.ID, "Bob", "")
	st := e.addStories(t, org, "Timed")[0]
	rec, _ := e.connect(t, bob)
	e.vote(t, bob, st.ID, card("5"))

	if _, err := e.svc.StartTimer(t.Context(), bob.Actor, session.TimerInput{Seconds: 60}); session.ErrorCode(err) != session.CodeForbidden {
		t.Fatalf("a voter started a timer: %v", err)
	}
	for _, secs := range []int{0, 4, 3601} {
		if _, err := e.svc.StartTimer(t.Context(), org.Actor, session.TimerInput{Seconds: secs}); session.ErrorCode(err) != session.CodeInvalid {
			t.Errorf("a timer of %d s: %v, want invalid", secs, err)
		}
	}
	start := e.clock.Now()
	view, err := e.svc.StartTimer(t.Context(), org.Actor, session.TimerInput{Seconds: 90, Reveal: true})
	if err != nil {
		t.Fatal(err)
	}
	if view.StoryID != st.ID || view.Round != 1 || !view.Deadline.Equal(start.Add(90*time.Second)) || view.State != session.TimerRunning {
		t.Fatalf("timer %+v", view.Timer)
	}
	evs := timerEvents(t, rec)
	if len(evs) != 1 || !evs[0].Deadline.Equal(start.Add(90*time.Second)) || !evs[0].Now.Equal(start) || !evs[0].Reveal {
		t.Fatalf("timer events %+v", evs)
	}
	snap, err := e.svc.Snapshot(t.Context(), bob.Actor)
	if err != nil || snap.Timer == nil || snap.Timer.ID != view.ID || !snap.Now.Equal(start) {
		t.Fatalf("snapshot timer %+v, %v", snap.Timer, err)
	}

	// Before the deadline nothing happens.
	e.clock.Add(89 * time.Second)
	e.svc.ExpireTimers(t.Context())
	if _, err := e.svc.CheckTimer(t.Context(), bob.Actor); err != nil {
		t.Fatal(err)
	}
	if got := e.story(t, sess.ID, st.ID); got.RoundState != session.RoundVoting {
		t.Fatalf("revealed before the deadline")
	}

	// At the deadline, pollers (every instance) and members' clients race; one reveal, one end.
	e.clock.Add(time.Second)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { e.svc.ExpireTimers(t.Context()) })
		wg.Go(func() {
			if _, err := e.svc.CheckTimer(t.Context(), bob.Actor); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := e.story(t, sess.ID, st.ID); got.RoundState != session.RoundRevealed {
		t.Fatalf("round state %s after the deadline", got.RoundState)
	}
	if n := len(rec.events(t, session.EvRevealed)); n != 1 {
		t.Errorf("%d reveal events, want 1", n)
	}
	evs = timerEvents(t, rec)
	if len(evs) != 2 || evs[1].State != session.TimerExpired || !evs[1].Revealed {
		t.Errorf("timer events %+v, want a start and one expiry that revealed", evs)
	}
	if snap, _ := e.svc.Snapshot(t.Context(), bob.Actor); snap.Timer != nil {
		t.Errorf("an ended timer is still in the snapshot: %+v", snap.Timer)
	}
}

// TestTimerSignalsWithoutReveal: a timer without reveal only tells the room; stopping one ends
// it early; a timer of a round revealed meanwhile reveals nothing more.
func TestTimerSignalsWithoutReveal(t *testing.T) {
	e := newEnv(t)
	sess, org := e.create(t, session.CreateInput{})
	bob := e.join(t, sess.ID, "Bob", "")
	st := e.addStories(t, org, "Timed")[0]
	rec, _ := e.connect(t, bob)
	e.vote(t, bob, st.ID, card("5"))

	if _, err := e.svc.StartTimer(t.Context(), org.Actor, session.TimerInput{Seconds: 30}); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(31 * time.Second)
	e.svc.ExpireTimers(t.Context())
	if got := e.story(t, sess.ID, st.ID); got.RoundState != session.RoundVoting {
		t.Fatal("a timer without reveal revealed the round")
	}
	evs := timerEvents(t, rec)
	if len(evs) != 2 || evs[1].State != session.TimerExpired || evs[1].Revealed {
		t.Fatalf("timer events %+v", evs)
	}

	// Stopped before the deadline: it never fires.
	if _, err := e.svc.StartTimer(t.Context(), org.Actor, session.TimerInput{Seconds: 30, Reveal: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.StopTimer(t.Context(), bob.Actor); session.ErrorCode(err) != session.CodeForbidden {
		t.Errorf("a voter stopped the timer: %v", err)
	}
	if v, err := e.svc.StopTimer(t.Context(), org.Actor); err != nil || v.State != session.TimerStopped {
		t.Fatalf("StopTimer: %+v, %v", v, err)
	}
	if _, err := e.svc.StopTimer(t.Context(), org.Actor); session.ErrorCode(err) != session.CodeConflict {
		t.Errorf("stopping twice: %v", err)
	}
	e.clock.Add(time.Minute)
	e.svc.ExpireTimers(t.Context())
	if got := e.story(t, sess.ID, st.ID); got.RoundState != session.RoundVoting {
		t.Fatal("a stopped timer revealed the round")
	}

	// The room moves on to another story before the deadline: the first one is not revealed
	// behind everyone's back.
	other := e.addStories(t, org, "Other")[0]
	if _, err := e.svc.StartTimer(t.Context(), org.Actor, session.TimerInput{Seconds: 30, Reveal: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SelectStory(t.Context(), org.Actor, other.ID); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(time.Minute)
	e.svc.ExpireTimers(t.Context())
	if got := e.story(t, sess.ID, st.ID); got.RoundState != session.RoundVoting {
		t.Fatal("a timer revealed a story the room had left")
	}
	if _, err := e.svc.SelectStory(t.Context(), org.Actor, st.ID); err != nil {
		t.Fatal(err)
	}

	// Revealed by hand before the deadline: the timer ends quietly, with no second reveal.
	if _, err := e.svc.StartTimer(t.Context(), org.Actor, session.TimerInput{Seconds: 30, Reveal: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Reveal(t.Context(), org.Actor, st.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.StartTimer(t.Context(), org.Actor, session.TimerInput{Seconds: 30}); session.ErrorCode(err) != session.CodeConflict {
		t.Errorf("a timer on a revealed round: %v, want conflict", err)
	}
	e.clock.Add(time.Minute)
	e.svc.ExpireTimers(t.Context())
	if n := len(rec.events(t, session.EvRevealed)); n != 1 {
		t.Errorf("%d reveal events, want 1", n)
	}
}
