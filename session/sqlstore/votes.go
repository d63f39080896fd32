package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/pokor/pokor/session"
)

const voteCols = `story_id, round, participant_id, card, confidence, rationale, cast_at`

// forShare locks the round row a vote depends on, so that on PostgreSQL a vote and a concurrent
// reveal are ordered; SQLite serialises all writers already.
func (s *Store) forShare() string {
	if s.dialect == postgres {
		return " FOR SHARE"
	}
	return ""
}

// insertVote stores a vote only while its round is voting; it reports whether it did.
func (s *Store) insertVote(ctx context.Context, tx *sql.Tx, v *session.Vote) (bool, error) {
	res, err := s.txExec(ctx, tx, `INSERT INTO votes (`+voteCols+`)
		SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (
			SELECT 1 FROM rounds WHERE story_id = ? AND number = ? AND state = 'voting'`+s.forShare()+`)
		ON CONFLICT (story_id, round, participant_id) DO UPDATE SET
			card = excluded.card, confidence = excluded.confidence, rationale = excluded.rationale, cast_at = excluded.cast_at`,
		v.StoryID, v.Round, v.ParticipantID, v.Card, string(v.Confidence), v.Rationale, ms(v.CastAt), v.StoryID, v.Round)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// CastVote stores a vote durably, batched with concurrent votes into one commit.
func (s *Store) CastVote(ctx context.Context, v *session.Vote) error {
	return s.votes.cast(ctx, v)
}

// RetractVote deletes a vote of a round still voting.
func (s *Store) RetractVote(ctx context.Context, storyID string, round int, participantID string) error {
	_, err := s.exec(ctx, `DELETE FROM votes WHERE story_id = ? AND round = ? AND participant_id = ? AND EXISTS (
		SELECT 1 FROM rounds WHERE story_id = ? AND number = ? AND state = 'voting')`, storyID, round, participantID, storyID, round)
	return err
}

func (s *Store) scanVotes(rows *sql.Rows, err error) ([]session.Vote, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []session.Vote
	for rows.Next() {
		var (
			v    session.Vote
			conf string
			at   int64
		)
		if err := rows.Scan(&v.StoryID, &v.Round, &v.ParticipantID, &v.Card, &conf, &v.Rationale, &at); err != nil {
			return nil, err
		}
		v.Confidence, v.CastAt = session.Confidence(conf), fromMS(at)
		out = append(out, v)
	}
	return out, rows.Err()
}

// Votes returns the votes of one round.
func (s *Store) Votes(ctx context.Context, storyID string, round int) ([]session.Vote, error) {
	return s.scanVotes(s.query(ctx, `SELECT `+voteCols+` FROM votes WHERE story_id = ? AND round = ? ORDER BY cast_at`, storyID, round))
}

// CurrentVotes returns the votes of every story's current round in a session.
func (s *Store) CurrentVotes(ctx context.Context, sessionID string) ([]session.Vote, error) {
	return s.scanVotes(s.query(ctx, `SELECT v.story_id, v.round, v.participant_id, v.card, v.confidence, v.rationale, v.cast_at
		FROM votes v JOIN stories s ON s.id = v.story_id AND s.round = v.round
		WHERE s.session_id = ? ORDER BY v.cast_at`, sessionID))
}

// StoryVotes returns the votes of every round of a story.
func (s *Store) StoryVotes(ctx context.Context, storyID string) ([]session.Vote, error) {
	return s.scanVotes(s.query(ctx, `SELECT `+voteCols+` FROM votes WHERE story_id = ? ORDER BY round, cast_at`, storyID))
}

// SessionVotes returns every vote of a session.
func (s *Store) SessionVotes(ctx context.Context, sessionID string) ([]session.Vote, error) {
	return s.scanVotes(s.query(ctx, `SELECT v.story_id, v.round, v.participant_id, v.card, v.confidence, v.rationale, v.cast_at
		FROM votes v JOIN stories s ON s.id = v.story_id WHERE s.session_id = ? ORDER BY v.story_id, v.round, v.cast_at`, sessionID))
}

// Rounds returns the rounds of a story, oldest first.
func (s *Store) Rounds(ctx context.Context, storyID string) ([]session.Round, error) {
	rows, err := s.query(ctx, `SELECT story_id, number, state, started_at, revealed_at FROM rounds WHERE story_id = ? ORDER BY number`, storyID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []session.Round
	for rows.Next() {
		var (
			r        session.Round
			state    string
			started  int64
			revealed sql.NullInt64
		)
		if err := rows.Scan(&r.StoryID, &r.Number, &state, &started, &revealed); err != nil {
			return nil, err
		}
		r.State, r.StartedAt, r.RevealedAt = session.RoundState(state), fromMS(started), fromNullMS(revealed)
		out = append(out, r)
	}
	return out, rows.Err()
}

// Reveal flips a voting round to revealed; the conditional UPDATE lets exactly one caller win.
func (s *Store) Reveal(ctx context.Context, storyID string, round int, at time.Time) (bool, error) {
	won := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := s.txExec(ctx, tx, `UPDATE rounds SET state = 'revealed', revealed_at = ? WHERE story_id = ? AND number = ? AND state = 'voting'`,
			ms(at), storyID, round)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		won = true
		_, err = s.txExec(ctx, tx, `UPDATE stories SET round_state = 'revealed' WHERE id = ? AND round = ?`, storyID, round)
		return err
	})
	return won, err
}

// StartRound opens the round after `after` when the story's current round is `after`.
func (s *Store) StartRound(ctx context.Context, storyID string, after int, at time.Time) (bool, error) {
	won := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := s.txExec(ctx, tx, `UPDATE stories SET round = round + 1, round_state = 'voting', status = 'open' WHERE id = ? AND round = ?`,
			storyID, after)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		won = true
		if _, err := s.txExec(ctx, tx, `UPDATE rounds SET state = 'revealed', revealed_at = COALESCE(revealed_at, ?) WHERE story_id = ? AND number = ?`,
			ms(at), storyID, after); err != nil {
			return err
		}
		_, err = s.txExec(ctx, tx, `INSERT INTO rounds (story_id, number, state, started_at) VALUES (?, ?, 'voting', ?)`, storyID, after+1, ms(at))
		return err
	})
	return won, err
}

// Accept records an estimate and its write-back entry in one transaction. A newer estimate
// supersedes a write-back of the same story that has not been delivered yet.
func (s *Store) Accept(ctx context.Context, storyID string, round int, value string, wb *session.Outbox) (bool, error) {
	won := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		sync := ""
		if wb != nil {
			sync = string(session.SyncPending)
		}
		res, err := s.txExec(ctx, tx, `UPDATE stories SET status = 'estimated', estimate = ?,
			sync_state = CASE WHEN ? = '' THEN sync_state ELSE ? END, sync_error = CASE WHEN ? = '' THEN sync_error ELSE '' END
			WHERE id = ? AND round = ? AND round_state = 'revealed'`, value, sync, sync, sync, storyID, round)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		won = true
		if wb == nil {
			return nil
		}
		if _, err := s.txExec(ctx, tx, `DELETE FROM outbox WHERE story_id = ? AND state <> 'delivered' AND claimed_until < ?`,
			storyID, ms(wb.CreatedAt)); err != nil {
			return err
		}
		return s.insertOutbox(ctx, tx, wb)
	})
	return won, err
}

// voteBatcher is the group commit of votes: one goroutine writes every vote waiting at that
// moment in one transaction, so a burst of N votes costs one fsync instead of N. A vote's caller
// is answered only after the commit that holds it.
type voteBatcher struct {
	s    *Store
	reqs chan voteReq
	done chan struct{}
	// stopped is closed when run has returned: no request is answered after that.
	stopped chan struct{}
}

type voteReq struct {
	v   *session.Vote
	res chan error
}

// maxBatch bounds one commit, so that the first vote of a long burst is not held back.
const maxBatch = 256

func newVoteBatcher(s *Store) *voteBatcher {
	b := &voteBatcher{s: s, reqs: make(chan voteReq, 4096), done: make(chan struct{}), stopped: make(chan struct{})}
	go b.run()
	return b
}

func (b *voteBatcher) cast(ctx context.Context, v *session.Vote) error {
	req := voteReq{v: v, res: make(chan error, 1)}
	select {
	case b.reqs <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-b.done:
		return errShuttingDown
	}
	// Wait for the commit even if ctx ends: the vote may be durable and the answer must be true.
	// A request queued as the writer stops is never taken; run answers every batch it takes
	// before it returns, so an empty res after stopped means the vote was not written.
	select {
	case err := <-req.res:
		return err
	case <-b.stopped:
		select {
		case err := <-req.res:
			return err
		default:
			return errShuttingDown
		}
	}
}

var errShuttingDown = &session.Error{Code: session.CodeUnavailable, Message: "the server is shutting down; vote again in a moment"}

func (b *voteBatcher) run() {
	defer close(b.stopped)
	batch := make([]voteReq, 0, maxBatch)
	for {
		select {
		case req := <-b.reqs:
			batch = append(batch[:0], req)
		drain:
			for len(batch) < maxBatch {
				select {
				case r := <-b.reqs:
					batch = append(batch, r)
				default:
					break drain
				}
			}
			b.write(batch)
		case <-b.done:
			return
		}
	}
}

func (b *voteBatcher) write(batch []voteReq) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	results := make([]error, len(batch))
	err := b.s.tx(ctx, func(tx *sql.Tx) error {
		for i, r := range batch {
			ok, err := b.s.insertVote(ctx, tx, r.v)
			if err != nil {
				return err
			}
			if !ok {
				results[i] = session.ErrRoundClosed
			}
		}
		return nil
	})
	for i, r := range batch {
		if err != nil {
			r.res <- err
		} else {
			r.res <- results[i]
		}
	}
}

// close stops the writer and waits for the batch it is writing, so the database is not closed
// under it.
func (b *voteBatcher) close() {
	select {
	case <-b.done:
	default:
		close(b.done)
	}
	<-b.stopped
}
