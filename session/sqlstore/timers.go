package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/pokor/pokor/session"
)

const timerCols = `session_id, id, story_id, round, seconds, reveal, state, started_by, started_at, deadline, ended_at`

// SaveTimer stores a session's timer, replacing the one it had.
func (s *Store) SaveTimer(ctx context.Context, t *session.Timer) error {
	reveal := 0
	if t.Reveal {
		reveal = 1
	}
	_, err := s.exec(ctx, `INSERT INTO timers (`+timerCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (session_id) DO UPDATE SET id = excluded.id, story_id = excluded.story_id, round = excluded.round,
			seconds = excluded.seconds, reveal = excluded.reveal, state = excluded.state, started_by = excluded.started_by,
			started_at = excluded.started_at, deadline = excluded.deadline, ended_at = excluded.ended_at`,
		t.SessionID, t.ID, t.StoryID, t.Round, t.Seconds, reveal, string(t.State), t.StartedBy, ms(t.StartedAt), ms(t.Deadline), nullMS(t.EndedAt))
	return err
}

func scanTimer(row interface{ Scan(...any) error }) (*session.Timer, error) {
	var (
		t                 session.Timer
		reveal            int
		state             string
		started, deadline int64
		ended             sql.NullInt64
	)
	if err := row.Scan(&t.SessionID, &t.ID, &t.StoryID, &t.Round, &t.Seconds, &reveal, &state, &t.StartedBy, &started, &deadline, &ended); err != nil {
		return nil, notFound(err)
	}
	t.Reveal, t.State = reveal != 0, session.TimerState(state)
	t.StartedAt, t.Deadline, t.EndedAt = fromMS(started), fromMS(deadline), fromNullMS(ended)
	return &t, nil
}

// Timer returns a session's timer.
func (s *Store) Timer(ctx context.Context, sessionID string) (*session.Timer, error) {
	return scanTimer(s.queryRow(ctx, `SELECT `+timerCols+` FROM timers WHERE session_id = ?`, sessionID))
}

// StopTimer ends a running timer before its deadline.
func (s *Store) StopTimer(ctx context.Context, sessionID, id string, at time.Time) (bool, error) {
	return changed(s.exec(ctx, `UPDATE timers SET state = 'stopped', ended_at = ? WHERE session_id = ? AND id = ? AND state = 'running'`,
		ms(at), sessionID, id))
}

// ExpireTimer ends a running timer whose deadline passed; the conditional UPDATE lets exactly
// one caller win, on SQLite and on PostgreSQL alike.
func (s *Store) ExpireTimer(ctx context.Context, sessionID, id string, at time.Time) (bool, error) {
	return changed(s.exec(ctx, `UPDATE timers SET state = 'expired', ended_at = ? WHERE session_id = ? AND id = ? AND state = 'running' AND deadline <= ?`,
		ms(at), sessionID, id, ms(at)))
}

// DueTimers returns running timers whose deadline passed, oldest deadline first.
func (s *Store) DueTimers(ctx context.Context, now time.Time, n int) ([]*session.Timer, error) {
	rows, err := s.query(ctx, `SELECT `+timerCols+` FROM timers WHERE state = 'running' AND deadline <= ? ORDER BY deadline LIMIT ?`, ms(now), n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*session.Timer
	for rows.Next() {
		t, err := scanTimer(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// changed reports whether a conditional UPDATE changed a row.
func changed(res sql.Result, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
