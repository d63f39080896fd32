package session

import (
	"context"
	"math/rand/v2"
	"time"
)

// Write-back delivery policy.
const (
	// maxAttempts bounds retries: after this many failures an entry is failed for good and an
	// organizer can retry it from the room.
	maxAttempts = 12
	// leaseTime is how long a claimed entry belongs to one instance; a crash frees it after this.
	leaseTime = 2 * time.Minute
	// pollEvery catches entries whose retry time has come (and those of other instances).
	pollEvery = 2 * time.Second
	// drainTime is how long a delivery in flight when shutdown begins may take to finish.
	drainTime = 10 * time.Second
)

// backoff is the wait before attempt n+1: 2 s, 4 s, 8 s... capped at 15 minutes, with jitter so
// that a tracker outage does not end in a thundering herd.
func backoff(attempts int) time.Duration {
	d := 2 * time.Second << min(attempts-1, 9)
	d = min(d, 15*time.Minute)
	return d/2 + rand.N(d/2+1)
}

func (s *Service) wake() {
	select {
	case s.cfg.Wake <- struct{}{}:
	default:
	}
}

// RunWriteBack delivers queued estimates to the trackers until ctx ends. Then it starts no new
// delivery, lets the one in flight finish and record its outcome (for up to drainTime: abandoned
// half-way, it may have reached the tracker and would be made twice), and gives back the entries
// it still holds so another instance (or the next start) delivers them. owner names this
// instance in the outbox leases; it must differ between instances running at the same time on
// one database, and should stay the same across restarts of one instance: the worker starts by
// taking back the leases its owner still holds (a process killed in the middle of a delivery),
// instead of waiting for them to run out.
func (s *Service) RunWriteBack(ctx context.Context, owner string) {
	if len(s.trackers.queryable()) == 0 {
		return
	}
	// notBefore holds, per tracker, the end of a rate-limit pause: one 429 pauses every entry
	// for that tracker, not only the one that got it. Only this worker's goroutine touches it.
	notBefore := map[string]time.Time{}
	// queued is when the outcome checks were last queued: every outcomeQueueEvery, and at once
	// when an estimate was accepted (its story may be one to follow).
	var queued time.Time
	runWorker(s, ctx, outboxWorker[*Outbox]{
		name: "write-back", poll: s.cfg.WriteBackPoll, wake: s.cfg.Wake,
		before: func(ctx context.Context, woken bool) {
			if now := s.now(); woken || now.Sub(queued) >= outcomeQueueEvery {
				s.queueOutcomes(ctx)
				queued = now
			}
		},
		release: func(ctx context.Context) error { return s.cfg.Store.ReleaseOutbox(ctx, owner) },
		claim: func(ctx context.Context) ([]*Outbox, error) {
			return s.cfg.Store.ClaimOutbox(ctx, owner, 16, s.now().UTC(), leaseTime)
		},
		handle: func(ctx, work context.Context, o *Outbox) {
			if wait := notBefore[o.Source].Sub(s.now()); wait > 0 {
				o.NextAttempt = notBefore[o.Source]
				if err := s.cfg.Store.FinishOutbox(work, o); err != nil && ctx.Err() == nil {
					s.log.Warn("rescheduling write-back", "err", err)
				}
				return
			}
			if after := s.deliverTraced(work, o); after > 0 {
				notBefore[o.Source] = s.now().Add(after)
			}
		},
	})
}

// outboxWorker is what differs between the outboxes' workers (write-back, webhooks): how to
// claim due entries, deliver one, and give back the leases.
type outboxWorker[T any] struct {
	name    string
	poll    time.Duration // zero: pollEvery
	wake    <-chan struct{}
	release func(ctx context.Context) error
	claim   func(ctx context.Context) ([]T, error)
	// handle delivers one entry: ctx ends at shutdown, work drainTime later, so that a delivery
	// in flight can finish and record its outcome.
	handle func(ctx, work context.Context, entry T)
	// before, when set, runs before each round of claims; woken says the worker was woken (an
	// entry was just queued) rather than by the poll.
	before func(ctx context.Context, woken bool)
	// idle, when set, runs after each round of claims.
	idle func(ctx context.Context)
}

// runWorker runs an outbox worker until ctx ends: it takes back the leases its owner still holds
// (a process killed in the middle of a delivery), then claims and delivers due entries whenever
// woken and every poll. At shutdown it starts no new delivery, lets the one in flight finish
// (for up to drainTime: abandoned half-way, it may have been delivered and would be sent twice),
// and gives back the entries it still holds so that another instance, or the next start,
// delivers them.
func runWorker[T any](s *Service, ctx context.Context, w outboxWorker[T]) {
	if err := w.release(ctx); err != nil && ctx.Err() == nil {
		s.log.Warn("taking back this instance's "+w.name+" claims", "err", err)
	}
	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	defer context.AfterFunc(ctx, func() { time.AfterFunc(drainTime, stopWork) })()
	defer func() {
		rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := w.release(rctx); err != nil {
			s.log.Warn("releasing "+w.name+" claims", "err", err)
		}
	}()
	poll := w.poll
	if poll <= 0 {
		poll = pollEvery
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	woken := false
	for {
		if w.before != nil {
			w.before(ctx, woken)
		}
		for {
			batch, err := w.claim(ctx)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("claiming "+w.name+" entries", "err", err)
				}
				break
			}
			if len(batch) == 0 {
				break
			}
			for _, e := range batch {
				if ctx.Err() != nil {
					return // the rest of the batch is given back
				}
				w.handle(ctx, work, e)
			}
		}
		if w.idle != nil && ctx.Err() == nil {
			w.idle(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
			woken = true
			continue
		case <-t.C:
		}
		woken = false
	}
}

// deliver makes one attempt at an entry and records the outcome. It returns the pause the
// tracker asked for, if any.
func (s *Service) deliver(ctx context.Context, o *Outbox) time.Duration {
	if o.Kind == OutboxOutcome {
		return s.fetchOutcome(ctx, o)
	}
	sess, err := s.cfg.Store.Session(ctx, o.SessionID)
	if err != nil {
		return 0 // the session was deleted; its outbox rows went with it
	}
	var (
		result  WriteResult
		c       TrackerClient
		options map[string]string
		target  WriteTarget
	)
	t, err := s.tracker(o.Source)
	if err == nil {
		c, options, err = s.open(ctx, o.SessionID, t)
	}
	if st, serr := s.cfg.Store.Story(ctx, o.SessionID, o.StoryID); serr == nil {
		target = st.Target
	}
	if err == nil {
		wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		result, err = c.WriteEstimate(wctx, o.ExternalKey, WriteBack{
			Value: o.Value, Deck: sess.Deck.Cards, SessionTitle: sess.Title, SessionURL: s.RoomURL(sess.ID), Options: options,
			Target: target,
		})
		err = trackerErr(o.Source, err)
		cancel()
	}
	if ctx.Err() != nil {
		return 0 // shutdown outlasted the drain: the lease is released and the entry retried later
	}
	o.Attempts++
	var pause time.Duration
	switch {
	case err == nil:
		o.State, o.Result, o.LastError, o.Target = OutboxDelivered, result.Detail, "", result.Target
		s.log.InfoContext(ctx, "estimate written back", "session", o.SessionID, "source", o.Source, "key", o.ExternalKey, "value", o.Value)
	default:
		retry, after := Retryable(err)
		o.LastError = ErrorMessage(err)
		if retry && o.Attempts < maxAttempts {
			o.State = OutboxPending
			next := backoff
			if s.cfg.Backoff != nil {
				next = s.cfg.Backoff
			}
			wait := max(after, next(o.Attempts))
			o.NextAttempt = s.now().UTC().Add(wait)
			o.LastError = "retrying in " + wait.Round(time.Second).String() + ": " + o.LastError
			pause = after
		} else {
			o.State = OutboxFailed
		}
		s.log.WarnContext(ctx, "write-back failed", "session", o.SessionID, "source", o.Source, "key", o.ExternalKey,
			"attempt", o.Attempts, "retry", o.State == OutboxPending, "err", err)
	}
	if err := s.cfg.Store.FinishOutbox(ctx, o); err != nil {
		s.log.ErrorContext(ctx, "recording write-back outcome", "err", err)
		return pause
	}
	if st, err := s.cfg.Store.Story(ctx, o.SessionID, o.StoryID); err == nil {
		s.publishStory(ctx, sess, st)
	}
	return pause
}

// RetryWriteBack queues a failed write-back again. Only organizers may.
func (s *Service) RetryWriteBack(ctx context.Context, a Actor, storyID string) (*Story, error) {
	sess, _, err := s.organizer(ctx, a, "retry a write-back")
	if err != nil {
		return nil, err
	}
	ok, err := s.cfg.Store.RequeueOutbox(ctx, sess.ID, storyID, s.now().UTC())
	if err != nil {
		return nil, internal("retrying the write-back", err)
	}
	if !ok {
		return nil, Errorf(CodeConflict, "this story has no failed write-back to retry")
	}
	s.wake()
	st, err := s.cfg.Store.Story(ctx, sess.ID, storyID)
	if err != nil {
		return nil, lookupErr("story", err)
	}
	s.publishStory(ctx, sess, st)
	return st, nil
}
