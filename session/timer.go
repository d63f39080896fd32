package session

import (
	"context"
	"time"
)

// TimerState is where a round timer stands.
type TimerState string

// The timer states: a timer runs until its deadline passes (expired) or an organizer stops it.
const (
	TimerRunning TimerState = "running"
	TimerExpired TimerState = "expired"
	TimerStopped TimerState = "stopped"
)

// Limits of a round timer, in seconds.
const (
	MinTimerSeconds = 5
	MaxTimerSeconds = 60 * 60
)

// timerPoll is how often RunTimers looks for timers whose deadline passed, unless
// Config.TimerPoll says otherwise. The instance that started a timer fires it on time by itself;
// the poll covers timers started elsewhere, and those a restart interrupted.
const timerPoll = time.Second

// Timer is the countdown of one round of a story. A session has at most one timer; starting a
// new one replaces it. The deadline is stored, so that every member, every instance and a
// restarted server count down to the same moment: clients are sent the deadline, never ticks.
type Timer struct {
	ID        string `json:"id"`
	SessionID string `json:"-"`
	StoryID   string `json:"story_id"`
	Round     int    `json:"round"`
	Seconds   int    `json:"seconds"`
	// Reveal reveals the round at the deadline; without it the room is only signalled.
	Reveal    bool       `json:"reveal"`
	State     TimerState `json:"state"`
	StartedBy string     `json:"started_by"`
	StartedAt time.Time  `json:"started_at"`
	Deadline  time.Time  `json:"deadline"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
}

// TimerStore keeps round timers; it is part of Store.
type TimerStore interface {
	// SaveTimer stores a session's timer, replacing the one it had.
	SaveTimer(ctx context.Context, t *Timer) error
	// Timer returns a session's timer; ErrNotFound when none was ever started.
	Timer(ctx context.Context, sessionID string) (*Timer, error)
	// StopTimer ends the running timer id of a session before its deadline. It reports false
	// when that timer is not running any more (replaced, stopped or expired).
	StopTimer(ctx context.Context, sessionID, id string, at time.Time) (bool, error)
	// ExpireTimer ends the running timer id of a session whose deadline is at or before at.
	// Exactly one of any number of concurrent callers, on any instance, gets true.
	ExpireTimer(ctx context.Context, sessionID, id string, at time.Time) (bool, error)
	// DueTimers returns up to n running timers whose deadline is at or before now.
	DueTimers(ctx context.Context, now time.Time, n int) ([]*Timer, error)
}

// TimerView is a timer as sent to the room, with the server's clock at the time of sending so
// that a client whose clock is off still shows the same remaining time as everyone else.
type TimerView struct {
	*Timer
	Now time.Time `json:"now"`
	// Revealed is set on the event of an expired timer that revealed its round.
	Revealed bool `json:"revealed,omitempty"`
}

// TimerInput starts a timer: on a story (the current one when empty), for Seconds, revealing
// the round at the deadline when Reveal is set.
type TimerInput struct {
	StoryID string `json:"story_id,omitempty"`
	Seconds int    `json:"seconds"`
	Reveal  bool   `json:"reveal"`
}

// StartTimer starts the countdown of a story's current round, replacing any timer the session
// had. Only organizers may, while the round is voting.
func (s *Service) StartTimer(ctx context.Context, a Actor, in TimerInput) (*TimerView, error) {
	sess, p, err := s.organizer(ctx, a, "start a timer")
	if err != nil {
		return nil, err
	}
	if in.Seconds < MinTimerSeconds || in.Seconds > MaxTimerSeconds {
		return nil, invalid("seconds", "a timer runs from %d seconds to %d minutes; %d seconds is out of range", MinTimerSeconds, MaxTimerSeconds/60, in.Seconds)
	}
	storyID := in.StoryID
	if storyID == "" {
		storyID = sess.CurrentStoryID
	}
	if storyID == "" {
		return nil, Errorf(CodeConflict, "add a story before starting a timer")
	}
	st, err := s.cfg.Store.Story(ctx, sess.ID, storyID)
	if err != nil {
		return nil, lookupErr("story", err)
	}
	if st.Status != StoryOpen || st.RoundState != RoundVoting {
		return nil, Errorf(CodeConflict, "this round is not voting: start a re-vote before a timer")
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	t := &Timer{ID: newID(), SessionID: sess.ID, StoryID: st.ID, Round: st.Round, Seconds: in.Seconds, Reveal: in.Reveal,
		State: TimerRunning, StartedBy: p.ID, StartedAt: now, Deadline: now.Add(time.Duration(in.Seconds) * time.Second)}
	if err := s.cfg.Store.SaveTimer(ctx, t); err != nil {
		return nil, internal("starting the timer", err)
	}
	s.scheduleTimer(t)
	view := s.timerView(t, false)
	s.publish(ctx, Event{Type: EvTimer, SessionID: sess.ID, Data: view})
	return view, nil
}

// StopTimer stops the session's running timer. Only organizers may.
func (s *Service) StopTimer(ctx context.Context, a Actor) (*TimerView, error) {
	sess, _, err := s.organizer(ctx, a, "stop the timer")
	if err != nil {
		return nil, err
	}
	t, err := s.cfg.Store.Timer(ctx, sess.ID)
	if err != nil {
		if ErrorCode(err) == CodeNotFound {
			return nil, Errorf(CodeConflict, "no timer is running")
		}
		return nil, internal("loading the timer", err)
	}
	now := s.now().UTC()
	ok, err := s.cfg.Store.StopTimer(ctx, sess.ID, t.ID, now)
	if err != nil {
		return nil, internal("stopping the timer", err)
	}
	if !ok {
		return nil, Errorf(CodeConflict, "the timer is not running any more")
	}
	t.State, t.EndedAt = TimerStopped, &now
	view := s.timerView(t, false)
	s.publish(ctx, Event{Type: EvTimer, SessionID: sess.ID, Data: view})
	return view, nil
}

// CheckTimer lets any member report that the session's timer reached zero on its screen: if its
// deadline has passed it ends now, on whichever instance hears first, and the room learns it
// without waiting for the next poll. It returns the timer as it stands (nil when there is none).
func (s *Service) CheckTimer(ctx context.Context, a Actor) (*TimerView, error) {
	sess, _, err := s.actor(ctx, a)
	if err != nil {
		return nil, err
	}
	t, err := s.cfg.Store.Timer(ctx, sess.ID)
	if err != nil {
		if ErrorCode(err) == CodeNotFound {
			return nil, nil
		}
		return nil, internal("loading the timer", err)
	}
	if t.State == TimerRunning && !s.now().Before(t.Deadline) {
		s.fireTimer(ctx, t)
		if fresh, err := s.cfg.Store.Timer(ctx, sess.ID); err == nil {
			t = fresh
		}
	}
	return s.timerView(t, false), nil
}

// RunTimers ends the timers whose deadline passed, on every instance, until ctx ends. Ending a
// timer is decided by the store, so each one reveals or signals once however many instances poll.
func (s *Service) RunTimers(ctx context.Context) {
	poll := s.cfg.TimerPoll
	if poll <= 0 {
		poll = timerPoll
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		s.ExpireTimers(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ExpireTimers ends every timer whose deadline has passed.
func (s *Service) ExpireTimers(ctx context.Context) {
	due, err := s.cfg.Store.DueTimers(ctx, s.now().UTC(), 100)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("looking for expired timers", "err", err)
		}
		return
	}
	for _, t := range due {
		s.fireTimer(ctx, t)
	}
}

// scheduleTimer fires a timer started on this instance at its deadline, so that the room does
// not wait for the next poll.
func (s *Service) scheduleTimer(t *Timer) {
	d := t.Deadline.Sub(s.now())
	if d < 0 {
		d = 0
	}
	sessionID, id := t.SessionID, t.ID
	time.AfterFunc(d, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		cur, err := s.cfg.Store.Timer(ctx, sessionID)
		if err != nil || cur.ID != id || cur.State != TimerRunning {
			return
		}
		s.fireTimer(ctx, cur)
	})
}

// fireTimer ends a running timer whose deadline passed. The reveal comes first and is itself
// decided by the store (Store.Reveal), so a crash between the two steps is repaired by the next
// caller without a second reveal; then exactly one caller ends the timer and tells the room.
func (s *Service) fireTimer(ctx context.Context, t *Timer) {
	now := s.now().UTC()
	if now.Before(t.Deadline) {
		return
	}
	revealed := false
	if t.Reveal {
		revealed = s.revealAtDeadline(ctx, t)
	}
	ok, err := s.cfg.Store.ExpireTimer(ctx, t.SessionID, t.ID, now)
	if err != nil {
		s.log.Warn("ending a timer", "session", t.SessionID, "err", err)
		return
	}
	if !ok {
		return
	}
	t.State, t.EndedAt = TimerExpired, &now
	s.publish(ctx, Event{Type: EvTimer, SessionID: t.SessionID, Data: s.timerView(t, revealed)})
}

// revealAtDeadline reveals the timer's round if it is still the story's voting round of an open
// session, and (outside async mode) still the story the room is on; it reports whether the round
// is revealed now.
func (s *Service) revealAtDeadline(ctx context.Context, t *Timer) bool {
	sess, err := s.cfg.Store.Session(ctx, t.SessionID)
	if err != nil || sess.Closed() {
		return false
	}
	if !sess.Settings.Async && sess.CurrentStoryID != t.StoryID {
		// The room moved on to another story: revealing this one now would surprise everyone.
		return false
	}
	st, err := s.cfg.Store.Story(ctx, t.SessionID, t.StoryID)
	if err != nil || st.Round != t.Round || st.Status != StoryOpen {
		return false
	}
	if st.RoundState == RoundRevealed {
		return true
	}
	if _, err := s.reveal(ctx, sess, st.ID); err != nil {
		s.log.Warn("revealing at the timer's deadline", "session", t.SessionID, "err", err)
		return false
	}
	return true
}

func (s *Service) timerView(t *Timer, revealed bool) *TimerView {
	return &TimerView{Timer: t, Now: s.now().UTC(), Revealed: revealed}
}

// currentTimer returns the session's timer for a snapshot: nil when there is none, and for
// ended timers too, which the room has nothing to show for.
func (s *Service) currentTimer(ctx context.Context, sessionID string) *TimerView {
	t, err := s.cfg.Store.Timer(ctx, sessionID)
	if err != nil || t.State != TimerRunning {
		return nil
	}
	return s.timerView(t, false)
}
