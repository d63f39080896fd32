package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// On PostgreSQL the round writer sends a whole batch in one round trip: pgx pipelines the
// statements and ends them with one Sync, and PostgreSQL runs everything before a Sync as one
// implicit transaction, committed (and, with synchronous_commit=on, flushed) before it answers
// the Sync. Sent statement by statement, a batch of 100 votes cost 100 round trips with the
// stories' row locks held across all of them; on a busy machine each round trip waits for the
// scheduler twice, and another instance's batch waited for those locks (docs/performance.md).
//
// A pipeline cannot branch on a result, so each operation is one statement: the reveal and the
// new round do their dependent writes in data-modifying CTEs, conditioned on the story row that
// they update first, as reveal and startRound do with two or three statements on SQLite. The
// parameters are cast because PostgreSQL infers one type per parameter for the whole statement.
const (
	pgLockStoriesSQL = `SELECT id FROM stories WHERE id = ANY($1) ORDER BY id FOR UPDATE`
	pgRevealSQL      = `WITH s AS (
			UPDATE stories SET round_state = 'revealed' WHERE id = $1 AND round = $2::integer AND round_state = 'voting' RETURNING id),
		r AS (
			UPDATE rounds SET state = 'revealed', revealed_at = $3::bigint, anonymous = $4::integer
			WHERE story_id IN (SELECT id FROM s) AND number = $2::integer AND state = 'voting')
		SELECT count(*) FROM s`
	pgStartRoundSQL = `WITH s AS (
			UPDATE stories SET round = round + 1, round_state = 'voting', status = 'open' WHERE id = $1 AND round = $2::integer RETURNING id),
		c AS (
			UPDATE rounds SET state = 'revealed', revealed_at = COALESCE(revealed_at, $3::bigint)
			WHERE story_id IN (SELECT id FROM s) AND number = $2::integer),
		o AS (
			INSERT INTO rounds (story_id, number, state, started_at) SELECT id, $2::integer + 1, 'voting', $3::bigint FROM s)
		SELECT count(*) FROM s`
)

// writePipelined commits batch on PostgreSQL in one round trip and reports which operations
// took effect. An error means nothing of the batch was stored.
func (w *roundWriter) writePipelined(ctx context.Context, batch []roundOp) (results []bool, err error) {
	s := w.s
	if s.tracer != nil {
		var end func(error)
		ctx, end = s.trace(ctx, "transaction", "")
		defer func() { end(err) }()
	}
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	results = make([]bool, len(batch))
	err = conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("sqlstore: the PostgreSQL driver connection is a %T, not pgx's", dc)
		}
		b := &pgx.Batch{}
		b.Queue(pgLockStoriesSQL, batchStories(batch))
		for _, op := range batch {
			switch op.kind {
			case opReveal:
				anon := 0
				if op.anonymous {
					anon = 1
				}
				b.Queue(pgRevealSQL, op.storyID, op.round, ms(op.at), anon)
			case opStartRound:
				b.Queue(pgStartRoundSQL, op.storyID, op.round, ms(op.at))
			case opCurrentVote:
				v := op.vote
				b.Queue(s.q(insertCurrentVoteSQL(s.forShare())),
					v.ParticipantID, v.Card, string(v.Confidence), v.Rationale, ms(v.CastAt), v.StoryID, op.sessionID, v.ParticipantID)
			default:
				v := op.vote
				b.Queue(s.q(insertVoteSQL(s.forShare())),
					v.StoryID, v.Round, v.ParticipantID, v.Card, string(v.Confidence), v.Rationale, ms(v.CastAt), v.StoryID, v.Round)
			}
		}
		br := c.Conn().SendBatch(ctx, b)
		if _, err := br.Exec(); err != nil {
			return errors.Join(err, br.Close())
		}
		for i, op := range batch {
			switch op.kind {
			case opReveal, opStartRound:
				var n int64
				if err := br.QueryRow().Scan(&n); err != nil {
					return errors.Join(err, br.Close())
				}
				results[i] = n > 0
			case opCurrentVote:
				err := br.QueryRow().Scan(&op.vote.Round)
				if err != nil && !errors.Is(err, pgx.ErrNoRows) {
					return errors.Join(err, br.Close())
				}
				results[i] = err == nil
			default:
				tag, err := br.Exec()
				if err != nil {
					return errors.Join(err, br.Close())
				}
				results[i] = tag.RowsAffected() > 0
			}
		}
		// Close reads the answer to the Sync: the implicit transaction has committed.
		return br.Close()
	})
	if err != nil {
		return nil, err
	}
	s.commits.Add(1)
	return results, nil
}

// batchStories is the stories a batch touches, sorted and distinct: the order in which every
// batch locks them (see roundWriter).
func batchStories(batch []roundOp) []string {
	ids := make([]string, 0, len(batch))
	for _, op := range batch {
		if op.vote != nil {
			ids = append(ids, op.vote.StoryID)
		} else {
			ids = append(ids, op.storyID)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}
