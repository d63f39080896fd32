package session

import (
	"context"
	"time"
)

// Outcome is what happened to an imported story in its tracker once the work was done: when work
// on it started and ended, by the tracker's own history, and the time logged on it.
type Outcome struct {
	StoryID string `json:"-"`
	// StartedAt is when work began (the first move to an "in progress" status or label); nil when
	// the history does not say, and then the cycle time runs from the creation.
	StartedAt *time.Time `json:"started_at,omitempty"`
	DoneAt    time.Time  `json:"done_at"`
	// CycleHours is the time from start to done, in hours.
	CycleHours *float64 `json:"cycle_hours,omitempty"`
	// SpentHours is the time logged on the issue (Jira's time tracking), when any was.
	SpentHours *float64 `json:"spent_hours,omitempty"`
	// Detail says how the outcome was read ("closed 2025-03-04; in progress since 2025-03-02").
	Detail    string    `json:"detail,omitempty"`
	FetchedAt time.Time `json:"fetched_at"`
}

// OutcomeStore keeps the outcomes fetched for a team's stories. Part of Store.
type OutcomeStore interface {
	// SaveOutcome stores or replaces a story's outcome.
	SaveOutcome(ctx context.Context, o *Outcome) error
	// TeamOutcomes returns the outcomes of a team's stories.
	TeamOutcomes(ctx context.Context, teamID string) ([]*Outcome, error)
	// QueueOutcomeChecks queues, in the outbox (kind OutboxOutcome, due at now), an outcome check
	// for every estimated story imported from one of sources in a team's session that has neither
	// an outcome nor a check, and returns how many it queued.
	QueueOutcomeChecks(ctx context.Context, sources []string, now time.Time) (int, error)
}

// OutcomeSource is the optional port of a tracker client that reads what happened to an issue
// from the tracker's own history. A client that does not implement it gives no outcomes.
type OutcomeSource interface {
	// Outcome reads an issue's history. It reports Done false while the work is not finished.
	// Errors follow the seam's rules (CodeUnavailable is retried, RetryAfter for rate limits).
	Outcome(ctx context.Context, key string, target WriteTarget) (OutcomeReport, error)
}

// OutcomeReport is what a tracker's history says about an issue.
type OutcomeReport struct {
	Done bool
	// CreatedAt is when the issue was created; StartedAt when work on it began (the first move
	// to an "in progress" status or label), nil when the history does not say.
	CreatedAt time.Time
	StartedAt *time.Time
	// DoneAt is when it was done (closed, resolved).
	DoneAt time.Time
	// SpentHours is the time logged on it, when the tracker keeps any.
	SpentHours *float64
	// Counted is false for an issue done without the work being done (closed as not planned,
	// resolved as won't do): it has no cycle time.
	Counted bool
	// Detail says in words what was read.
	Detail string
}

// OutboxOutcome is the kind of an outbox entry that fetches a story's outcome instead of writing
// its estimate: it goes through the write-back worker, with its leases, rate-limit pauses and
// retries.
const OutboxOutcome = "outcome"

// Outcome checking policy.
const (
	// outcomeRecheck is how long to wait before asking again about an issue not done yet.
	outcomeRecheck = 6 * time.Hour
	// outcomeQueueEvery is how often the worker looks for estimated stories to follow.
	outcomeQueueEvery = 10 * time.Minute
)

// queueOutcomes queues an outcome check for every estimated story imported from a tracker, in a
// team's session, that has none yet.
func (s *Service) queueOutcomes(ctx context.Context) {
	sources := s.trackers.queryable()
	if len(sources) == 0 {
		return
	}
	n, err := s.cfg.Store.QueueOutcomeChecks(ctx, sources, s.now().UTC())
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("queueing outcome checks", "err", err)
		}
		return
	}
	if n > 0 {
		s.log.Info("outcome checks queued", "stories", n)
	}
}

// fetchOutcome makes one attempt at reading a story's outcome and records it. It returns the
// pause the tracker asked for, if any.
func (s *Service) fetchOutcome(ctx context.Context, o *Outbox) time.Duration {
	var (
		rep    OutcomeReport
		target WriteTarget
	)
	t, err := s.tracker(o.Source)
	var c TrackerClient
	if err == nil {
		c, _, err = s.open(ctx, o.SessionID, t)
	}
	if st, serr := s.cfg.Store.Story(ctx, o.SessionID, o.StoryID); serr == nil {
		target = st.Target
	}
	if err == nil {
		src, ok := c.(OutcomeSource)
		if !ok {
			o.State, o.LastError = OutboxFailed, t.Label+" keeps no history Pokor reads outcomes from"
			s.finishOutcome(ctx, o)
			return 0
		}
		fctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		rep, err = src.Outcome(fctx, o.ExternalKey, target)
		err = trackerErr(o.Source, err)
		cancel()
	}
	if ctx.Err() != nil {
		return 0
	}
	now := s.now().UTC()
	var pause time.Duration
	switch {
	case err == nil && !rep.Done:
		// Not done yet: ask again later, without counting it as a failure.
		o.State, o.NextAttempt, o.LastError, o.Result = OutboxPending, now.Add(outcomeRecheck), "", "not done yet"
	case err == nil:
		out := outcomeOf(rep, now)
		out.StoryID = o.StoryID
		if serr := s.cfg.Store.SaveOutcome(ctx, out); serr != nil {
			s.log.Error("saving an outcome", "err", serr)
			o.State, o.NextAttempt = OutboxPending, now.Add(time.Minute)
			break
		}
		o.Attempts++
		o.State, o.Result, o.LastError = OutboxDelivered, out.Detail, ""
		s.log.Info("outcome fetched", "session", o.SessionID, "source", o.Source, "key", o.ExternalKey)
	default:
		o.Attempts++
		retry, after := Retryable(err)
		o.LastError = ErrorMessage(err)
		if retry && o.Attempts < maxAttempts {
			next := backoff
			if s.cfg.Backoff != nil {
				next = s.cfg.Backoff
			}
			o.State, o.NextAttempt = OutboxPending, now.Add(max(after, next(o.Attempts)))
			pause = after
		} else {
			o.State = OutboxFailed
		}
		s.log.Warn("outcome check failed", "session", o.SessionID, "source", o.Source, "key", o.ExternalKey,
			"attempt", o.Attempts, "retry", o.State == OutboxPending, "err", err)
	}
	s.finishOutcome(ctx, o)
	return pause
}

func (s *Service) finishOutcome(ctx context.Context, o *Outbox) {
	if err := s.cfg.Store.FinishOutbox(ctx, o); err != nil {
		s.log.Error("recording an outcome check", "err", err)
	}
}

// outcomeOf turns a tracker's report into the outcome kept: the cycle time runs from the start of
// work, or from the creation when the history does not say when work began.
func outcomeOf(rep OutcomeReport, now time.Time) *Outcome {
	out := &Outcome{DoneAt: rep.DoneAt.UTC(), SpentHours: rep.SpentHours, Detail: rep.Detail, FetchedAt: now}
	if rep.StartedAt != nil {
		st := rep.StartedAt.UTC()
		out.StartedAt = &st
	}
	if !rep.Counted {
		return out
	}
	from := rep.CreatedAt
	if rep.StartedAt != nil {
		from = *rep.StartedAt
	} else if out.Detail != "" {
		out.Detail += "; no start of work in the history, so counted from the issue's creation"
	}
	if !from.IsZero() && !rep.DoneAt.Before(from) {
		h := rep.DoneAt.Sub(from).Hours()
		out.CycleHours = &h
	}
	return out
}
