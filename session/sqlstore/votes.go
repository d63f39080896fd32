package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"
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

// The statements of the round writer. On SQLite they are prepared once (roundStatements).
func insertVoteSQL(lock string) string {
	return `INSERT INTO votes (` + voteCols + `)
		SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (
			SELECT 1 FROM rounds WHERE story_id = ? AND number = ? AND state = 'voting'` + lock + `)
		ON CONFLICT (story_id, round, participant_id) DO UPDATE SET
			card = excluded.card, confidence = excluded.confidence, rationale = excluded.rationale, cast_at = excluded.cast_at`
}

// insertCurrentVoteSQL stores a vote on the current round of its story, read in the same
// statement, and returns that round: the writer answers what the service would otherwise have
// read before every vote (the story's round and its state). It also checks, in the same
// transaction, that the story is in the voter's session and that the voter may still vote, so
// that a role read from a cache that another instance has not yet invalidated can never let a
// vote in. No row comes back when the round is not voting or the voter may not vote.
func insertCurrentVoteSQL(lock string) string {
	return `INSERT INTO votes (` + voteCols + `)
		SELECT s.id, s.round, ?, ?, ?, ?, ? FROM stories s
		WHERE s.id = ? AND s.session_id = ? AND s.round_state = 'voting' AND s.status <> 'estimated'
			AND EXISTS (SELECT 1 FROM participants p WHERE p.id = ? AND p.session_id = s.session_id
				AND p.status = 'active' AND p.role <> 'spectator')` + lock + `
		ON CONFLICT (story_id, round, participant_id) DO UPDATE SET
			card = excluded.card, confidence = excluded.confidence, rationale = excluded.rationale, cast_at = excluded.cast_at
		RETURNING round`
}

const (
	revealRoundSQL = `UPDATE rounds SET state = 'revealed', revealed_at = ?, anonymous = ? WHERE story_id = ? AND number = ? AND state = 'voting'`
	revealStorySQL = `UPDATE stories SET round_state = 'revealed' WHERE id = ? AND round = ? AND round_state = 'voting'`
	nextRoundSQL   = `UPDATE stories SET round = round + 1, round_state = 'voting', status = 'open' WHERE id = ? AND round = ?`
	closeRoundSQL  = `UPDATE rounds SET state = 'revealed', revealed_at = COALESCE(revealed_at, ?) WHERE story_id = ? AND number = ?`
	openRoundSQL   = `INSERT INTO rounds (story_id, number, state, started_at) VALUES (?, ?, 'voting', ?)`
)

var roundStatements = []string{insertVoteSQL(""), insertCurrentVoteSQL(""), revealRoundSQL, revealStorySQL, nextRoundSQL, closeRoundSQL, openRoundSQL}

// insertVote stores a vote only while its round is voting; it reports whether it did.
func (s *Store) insertVote(ctx context.Context, tx *sql.Tx, v *session.Vote) (bool, error) {
	res, err := s.txExec(ctx, tx, insertVoteSQL(s.forShare()),
		v.StoryID, v.Round, v.ParticipantID, v.Card, string(v.Confidence), v.Rationale, ms(v.CastAt), v.StoryID, v.Round)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// insertCurrentVote stores v on its story's current round and sets v.Round; see
// insertCurrentVoteSQL.
func (s *Store) insertCurrentVote(ctx context.Context, tx *sql.Tx, v *session.Vote, sessionID string) (bool, error) {
	var round int
	err := s.txQueryRow(ctx, tx, insertCurrentVoteSQL(s.forShare()),
		v.ParticipantID, v.Card, string(v.Confidence), v.Rationale, ms(v.CastAt), v.StoryID, sessionID, v.ParticipantID).Scan(&round)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	v.Round = round
	return true, nil
}

// CastVote stores a vote durably, batched with concurrent round operations into one commit.
func (s *Store) CastVote(ctx context.Context, v *session.Vote) error {
	ok, err := s.rounds.do(ctx, roundOp{kind: opVote, vote: v})
	if err == nil && !ok {
		err = session.ErrRoundClosed
	}
	return err
}

// CastCurrentVote stores a vote durably on the current round of its story, batched like
// CastVote, and sets v.Round to that round.
func (s *Store) CastCurrentVote(ctx context.Context, sessionID string, v *session.Vote) error {
	ok, err := s.rounds.do(ctx, roundOp{kind: opCurrentVote, vote: v, sessionID: sessionID})
	if err == nil && !ok {
		err = session.ErrRoundClosed
	}
	return err
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
	return s.scanRounds(s.query(ctx, `SELECT story_id, number, state, started_at, revealed_at, anonymous FROM rounds WHERE story_id = ? ORDER BY number`, storyID))
}

// CurrentRounds returns the current round of every story of a session.
func (s *Store) CurrentRounds(ctx context.Context, sessionID string) ([]session.Round, error) {
	return s.scanRounds(s.query(ctx, `SELECT r.story_id, r.number, r.state, r.started_at, r.revealed_at, r.anonymous
		FROM rounds r JOIN stories s ON s.id = r.story_id AND s.round = r.number WHERE s.session_id = ?`, sessionID))
}

func (s *Store) scanRounds(rows *sql.Rows, err error) ([]session.Round, error) {
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
			anon     int
		)
		if err := rows.Scan(&r.StoryID, &r.Number, &state, &started, &revealed, &anon); err != nil {
			return nil, err
		}
		r.State, r.StartedAt, r.RevealedAt, r.Anonymous = session.RoundState(state), fromMS(started), fromNullMS(revealed), anon != 0
		out = append(out, r)
	}
	return out, rows.Err()
}

// Reveal flips a voting round to revealed, fixing its anonymity; the conditional UPDATE lets
// exactly one caller win.
// The story row is updated first, as StartRound does, so that the two never wait for each other's
// locks in opposite orders on PostgreSQL; a vote in flight holds the round row FOR SHARE, so the
// reveal waits for it, or the vote sees the round revealed.
func (s *Store) Reveal(ctx context.Context, storyID string, round int, at time.Time, anonymous bool) (bool, error) {
	return s.rounds.do(ctx, roundOp{kind: opReveal, storyID: storyID, round: round, at: at, anonymous: anonymous})
}

// reveal is Reveal within tx.
func (s *Store) reveal(ctx context.Context, tx *sql.Tx, storyID string, round int, at time.Time, anonymous bool) (bool, error) {
	res, err := s.txExec(ctx, tx, revealStorySQL, storyID, round)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	anon := 0
	if anonymous {
		anon = 1
	}
	_, err = s.txExec(ctx, tx, revealRoundSQL, ms(at), anon, storyID, round)
	return err == nil, err
}

// StartRound opens the round after `after` when the story's current round is `after`.
func (s *Store) StartRound(ctx context.Context, storyID string, after int, at time.Time) (bool, error) {
	return s.rounds.do(ctx, roundOp{kind: opStartRound, storyID: storyID, round: after, at: at})
}

func (s *Store) startRound(ctx context.Context, tx *sql.Tx, storyID string, after int, at time.Time) (bool, error) {
	res, err := s.txExec(ctx, tx, nextRoundSQL, storyID, after)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	if _, err := s.txExec(ctx, tx, closeRoundSQL, ms(at), storyID, after); err != nil {
		return false, err
	}
	_, err = s.txExec(ctx, tx, openRoundSQL, storyID, after+1, ms(at))
	return err == nil, err
}

// Accept records an estimate and its write-back entry in one transaction. A newer estimate
// supersedes a write-back of the same story that has not been delivered yet.
func (s *Store) Accept(ctx context.Context, storyID string, round int, value string, wb *session.Outbox) (bool, error) {
	won := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		won = false
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
		var sessionID string
		if err := tx.QueryRowContext(ctx, s.q(`SELECT session_id FROM stories WHERE id = ?`), storyID).Scan(&sessionID); err != nil {
			return err
		}
		if err := s.enqueueHooks(ctx, tx, hookEvent{event: session.HookEstimateAccepted, sessionID: sessionID, storyID: storyID,
			value: value, round: round}); err != nil {
			return err
		}
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

// roundWriter is the group commit of the round state machine: votes, reveals and new rounds.
// One goroutine writes every operation waiting at that moment in one transaction, in the order
// they arrived, so a burst of N costs one fsync instead of N; a caller is answered only after the
// commit that holds its operation. The order keeps the rules: a vote queued after a reveal of its
// round finds the round closed, exactly as with one transaction each.
//
// On PostgreSQL the batch is the same, votes, reveals and new rounds together: one BEGIN, one
// COMMIT and one WAL flush for a burst instead of one each. Instances write the same rows, so a
// batch that held one story's lock (a vote) while waiting for another's (a reveal) could deadlock
// with another instance's batch doing the opposite; each batch therefore first locks every story
// it touches, in the order of their ids, and no two batches can wait for each other.
// The batch goes to PostgreSQL in one round trip (writePipelined).
type roundWriter struct {
	s    *Store
	reqs chan roundOp
	// mu orders sends on reqs before close closes it: an operation is either queued, and then
	// written before close returns, or refused; never queued and forgotten.
	mu      sync.RWMutex
	closed  bool
	stopped chan struct{}
	// commits counts the transactions written, for benchmarks.
	commits atomic.Int64
}

type opKind uint8

const (
	opVote opKind = iota
	opReveal
	opStartRound
	opCurrentVote
)

// roundOp is one operation for the round writer. It reports ok: the vote stored, the reveal or
// the new round won.
type roundOp struct {
	kind    opKind
	vote    *session.Vote
	storyID string
	// sessionID scopes an opCurrentVote: the story must be in it, and the voter a member.
	sessionID string
	round     int
	at        time.Time
	// anonymous is the anonymity a reveal fixes for its round.
	anonymous bool
	res       chan opResult
}

type opResult struct {
	ok  bool
	err error
}

const (
	// maxBatch bounds one commit, so that the first operation of a long burst is not held back.
	maxBatch = 256
	// linger is how long a busy writer waits for more operations before it commits, unless it
	// already holds lingerEnough. Every commit costs an fsync and makes every SQLite reader drop
	// its page cache; at 2,400 operations a second, waiting a millisecond turns some 1,400
	// commits a second into a few hundred (docs/performance.md). The writer counts as busy when
	// operations arrived while it was committing; an idle writer does not wait, and neither
	// does one that has a batch worth writing.
	linger       = time.Millisecond
	lingerEnough = 16
)

func newRoundWriter(s *Store) *roundWriter {
	w := &roundWriter{s: s, reqs: make(chan roundOp, 4096), stopped: make(chan struct{})}
	go w.run()
	return w
}

// do queues op and waits for the commit that holds it.
func (w *roundWriter) do(ctx context.Context, op roundOp) (_ bool, err error) {
	if w.s.tracer != nil {
		var end func(error)
		ctx, end = w.s.trace(ctx, "round write", "")
		defer func() { end(err) }()
	}
	op.res = make(chan opResult, 1)
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return false, &session.Error{Code: session.CodeUnavailable, Message: "the server is shutting down; try again in a moment"}
	}
	select {
	case w.reqs <- op:
	case <-ctx.Done():
		w.mu.RUnlock()
		return false, ctx.Err()
	}
	w.mu.RUnlock()
	// Wait for the commit even if ctx ends: the operation may be durable and the answer must be true.
	r := <-op.res
	return r.ok, r.err
}

func (w *roundWriter) apply(ctx context.Context, tx *sql.Tx, op roundOp) (bool, error) {
	switch op.kind {
	case opReveal:
		return w.s.reveal(ctx, tx, op.storyID, op.round, op.at, op.anonymous)
	case opStartRound:
		return w.s.startRound(ctx, tx, op.storyID, op.round, op.at)
	case opCurrentVote:
		return w.s.insertCurrentVote(ctx, tx, op.vote, op.sessionID)
	default:
		return w.s.insertVote(ctx, tx, op.vote)
	}
}

func (w *roundWriter) run() {
	defer close(w.stopped)
	batch := make([]roundOp, 0, maxBatch)
	wait := time.NewTimer(time.Hour)
	wait.Stop()
	busy := false
	for op := range w.reqs {
		batch = append(batch[:0], op)
		var deadline <-chan time.Time // nil: commit as soon as nothing more is queued
		if busy {
			wait.Reset(linger)
			deadline = wait.C
		}
	collect:
		for len(batch) < maxBatch {
			select {
			case op, ok := <-w.reqs:
				if !ok {
					break collect
				}
				batch = append(batch, op)
			default:
				if deadline == nil || len(batch) >= lingerEnough {
					break collect
				}
				select {
				case op, ok := <-w.reqs:
					if !ok {
						break collect
					}
					batch = append(batch, op)
				case <-deadline:
					deadline = nil
				}
			}
		}
		wait.Stop()
		w.write(batch)
		busy = len(w.reqs) > 0
	}
}

// write commits a batch. An error fails every operation of the batch: none of them is stored.
func (w *roundWriter) write(batch []roundOp) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var results []bool
	var err error
	if w.s.dialect == postgres {
		for attempt := 1; ; attempt++ {
			results, err = w.writePipelined(ctx, batch)
			if err == nil || attempt == 3 || !transient(err) {
				break
			}
		}
	} else {
		results = make([]bool, len(batch))
		err = w.s.tx(ctx, func(tx *sql.Tx) error {
			for i, op := range batch {
				ok, err := w.apply(ctx, tx, op)
				if err != nil {
					return err
				}
				results[i] = ok
			}
			return nil
		})
	}
	w.commits.Add(1)
	for i, op := range batch {
		op.res <- opResult{ok: err == nil && results[i], err: err}
	}
}

// close refuses new operations, writes those already queued and waits until they are
// committed, so that the database is closed only after every accepted operation is answered.
func (w *roundWriter) close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.reqs)
	}
	w.mu.Unlock()
	<-w.stopped
}
