package sqlstore

import (
	"context"
	"encoding/json"

	"github.com/pokor/pokor/session"
)

// SaveConnection stores a session's tracker connection; the credentials arrive sealed.
func (s *Store) SaveConnection(ctx context.Context, c *session.Connection) error {
	opts, err := json.Marshal(c.Options)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, `INSERT INTO connections (session_id, tracker, sealed, options, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (session_id, tracker) DO UPDATE SET sealed = excluded.sealed, options = excluded.options, updated_at = excluded.updated_at`,
		c.SessionID, c.Tracker, c.Sealed, string(opts), ms(c.UpdatedAt))
	return err
}

func scanConnection(row interface{ Scan(...any) error }) (*session.Connection, error) {
	var (
		c       session.Connection
		opts    string
		updated int64
	)
	if err := row.Scan(&c.SessionID, &c.Tracker, &c.Sealed, &opts, &updated); err != nil {
		return nil, notFound(err)
	}
	c.UpdatedAt = fromMS(updated)
	if err := json.Unmarshal([]byte(opts), &c.Options); err != nil {
		return nil, err
	}
	return &c, nil
}

// Connection returns a session's connection to a tracker.
func (s *Store) Connection(ctx context.Context, sessionID, tracker string) (*session.Connection, error) {
	return scanConnection(s.queryRow(ctx, `SELECT session_id, tracker, sealed, options, updated_at FROM connections
		WHERE session_id = ? AND tracker = ?`, sessionID, tracker))
}

// Connections lists a session's tracker connections.
func (s *Store) Connections(ctx context.Context, sessionID string) ([]*session.Connection, error) {
	rows, err := s.query(ctx, `SELECT session_id, tracker, sealed, options, updated_at FROM connections WHERE session_id = ? ORDER BY tracker`, sessionID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*session.Connection
	for rows.Next() {
		c, err := scanConnection(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// DeleteConnection forgets a session's connection to a tracker.
func (s *Store) DeleteConnection(ctx context.Context, sessionID, tracker string) error {
	res, err := s.exec(ctx, `DELETE FROM connections WHERE session_id = ? AND tracker = ?`, sessionID, tracker)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return session.ErrNotFound
	}
	return nil
}
