package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/pokor/pokor/session"
)

const outboxCols = `id, session_id, story_id, source, external_key, value, state, attempts, next_attempt, last_error, result, created_at`

func (s *Store) insertOutbox(ctx context.Context, tx *sql.Tx, o *session.Outbox) error {
	_, err := s.txExec(ctx, tx, `INSERT INTO outbox (`+outboxCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		o.ID, o.SessionID, o.StoryID, o.Source, o.ExternalKey, o.Value, string(o.State), o.Attempts, ms(o.NextAttempt), o.LastError, o.Result, ms(o.CreatedAt))
	return err
}

// skipLocked makes concurrent claimers on PostgreSQL take different rows instead of waiting.
func (s *Store) skipLocked() string {
	if s.dialect == postgres {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// ClaimOutbox leases up to n due entries to owner. A lease that runs out (a crashed instance)
// makes the entry claimable again.
func (s *Store) ClaimOutbox(ctx context.Context, owner string, n int, now time.Time, lease time.Duration) ([]*session.Outbox, error) {
	rows, err := s.w.QueryContext(ctx, s.q(`UPDATE outbox SET claimed_by = ?, claimed_until = ?
		WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt <= ? AND claimed_until < ?
			AND NOT EXISTS (SELECT 1 FROM outbox busy WHERE busy.story_id = outbox.story_id AND busy.id <> outbox.id
				AND busy.state = 'pending' AND busy.claimed_until >= ?)
			ORDER BY next_attempt LIMIT ?`+s.skipLocked()+`)
		RETURNING `+outboxCols), owner, ms(now.Add(lease)), ms(now), ms(now), ms(now), n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*session.Outbox
	for rows.Next() {
		var (
			o             session.Outbox
			state         string
			next, created int64
		)
		if err := rows.Scan(&o.ID, &o.SessionID, &o.StoryID, &o.Source, &o.ExternalKey, &o.Value, &state, &o.Attempts,
			&next, &o.LastError, &o.Result, &created); err != nil {
			return nil, err
		}
		o.State, o.NextAttempt, o.CreatedAt = session.OutboxState(state), fromMS(next), fromMS(created)
		out = append(out, &o)
	}
	return out, rows.Err()
}

// FinishOutbox records an attempt's outcome and mirrors it on the story's sync state. An entry
// superseded meanwhile (deleted by a newer Accept) leaves the story alone.
func (s *Store) FinishOutbox(ctx context.Context, o *session.Outbox) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := s.txExec(ctx, tx, `UPDATE outbox SET state = ?, attempts = ?, next_attempt = ?, last_error = ?, result = ?,
			claimed_by = '', claimed_until = 0 WHERE id = ?`,
			string(o.State), o.Attempts, ms(o.NextAttempt), o.LastError, o.Result, o.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		switch o.State {
		case session.OutboxDelivered:
			_, err = s.txExec(ctx, tx, `UPDATE stories SET sync_state = 'synced', sync_error = '', synced_value = ? WHERE id = ?`, o.Value, o.StoryID)
			if err == nil && len(o.Target) > 0 {
				_, err = s.txExec(ctx, tx, `UPDATE stories SET write_target = ? WHERE id = ?`, encodeTarget(o.Target), o.StoryID)
			}
		case session.OutboxFailed:
			_, err = s.txExec(ctx, tx, `UPDATE stories SET sync_state = 'failed', sync_error = ? WHERE id = ?`, o.LastError, o.StoryID)
		default:
			_, err = s.txExec(ctx, tx, `UPDATE stories SET sync_state = 'pending', sync_error = ? WHERE id = ?`, o.LastError, o.StoryID)
		}
		return err
	})
}

// ReleaseOutbox ends owner's leases so another instance can deliver them at once.
func (s *Store) ReleaseOutbox(ctx context.Context, owner string) error {
	_, err := s.exec(ctx, `UPDATE outbox SET claimed_by = '', claimed_until = 0 WHERE claimed_by = ? AND state = 'pending'`, owner)
	return err
}

// RequeueOutbox makes a story's failed write-back due again.
func (s *Store) RequeueOutbox(ctx context.Context, sessionID, storyID string, now time.Time) (bool, error) {
	won := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		won = false
		res, err := s.txExec(ctx, tx, `UPDATE outbox SET state = 'pending', attempts = 0, next_attempt = ?, last_error = ''
			WHERE session_id = ? AND story_id = ? AND state = 'failed'`, ms(now), sessionID, storyID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		won = true
		_, err = s.txExec(ctx, tx, `UPDATE stories SET sync_state = 'pending', sync_error = '' WHERE id = ?`, storyID)
		return err
	})
	return won, err
}
