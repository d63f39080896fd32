package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"

	"github.com/pokor/pokor/session"
)

const storyCols = `id, session_id, position, title, description, url, status, estimate, round, round_state,
	source, external_key, sync_state, sync_error, synced_value, created_at, imported_estimate, write_target`

// encodeTarget stores a write target as JSON, "" for none.
func encodeTarget(t session.WriteTarget) string {
	if len(t) == 0 {
		return ""
	}
	b, _ := json.Marshal(t)
	return string(b)
}

// decodeTarget reads what encodeTarget stored; a value it cannot read is no target.
func decodeTarget(s string) session.WriteTarget {
	if s == "" {
		return nil
	}
	var t session.WriteTarget
	if json.Unmarshal([]byte(s), &t) != nil {
		return nil
	}
	return t
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func scanStory(row interface{ Scan(...any) error }) (*session.Story, error) {
	var (
		st                         session.Story
		status, roundState, syncSt string
		created                    int64
		target                     string
	)
	err := row.Scan(&st.ID, &st.SessionID, &st.Position, &st.Title, &st.Description, &st.URL, &status, &st.Estimate,
		&st.Round, &roundState, &st.Source, &st.ExternalKey, &syncSt, &st.SyncError, &st.SyncedValue, &created,
		&st.ImportedEstimate, &target)
	if err != nil {
		return nil, notFound(err)
	}
	st.Target = decodeTarget(target)
	st.Status, st.RoundState, st.SyncState = session.StoryStatus(status), session.RoundState(roundState), session.SyncState(syncSt)
	st.CreatedAt = fromMS(created)
	return &st, nil
}

// SaveStories appends new stories with their first round, or updates imported ones in place.
func (s *Store) SaveStories(ctx context.Context, sessionID string, stories []*session.Story) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var count, maxPos int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*), COALESCE(MAX(position), 0) FROM stories WHERE session_id = ?`), sessionID).
			Scan(&count, &maxPos); err != nil {
			return err
		}
		for _, st := range stories {
			if st.Source != "" && st.ExternalKey != "" {
				existing, err := scanStory(tx.QueryRowContext(ctx, s.q(`SELECT `+storyCols+` FROM stories
					WHERE session_id = ? AND source = ? AND external_key = ?`), sessionID, st.Source, st.ExternalKey))
				if err == nil {
					// Importing again refreshes what the tracker holds; a target given replaces the
					// stored one (the next write decides again), none keeps it.
					target := existing.Target
					if len(st.Target) > 0 {
						target = st.Target
					}
					if _, err := s.txExec(ctx, tx, `UPDATE stories SET title = ?, description = ?, url = ?, imported_estimate = ?,
						write_target = ? WHERE id = ?`,
						st.Title, st.Description, st.URL, st.ImportedEstimate, encodeTarget(target), existing.ID); err != nil {
						return err
					}
					existing.Title, existing.Description, existing.URL = st.Title, st.Description, st.URL
					existing.ImportedEstimate, existing.Target = st.ImportedEstimate, target
					*st = *existing
					continue
				}
				if err != session.ErrNotFound {
					return err
				}
			}
			if count >= session.MaxStories {
				return &session.Error{Code: session.CodeInvalid, Field: "stories", Message: "a session holds at most 1000 stories"}
			}
			count++
			maxPos++
			st.ID, st.SessionID, st.Position = newID(), sessionID, maxPos
			st.Status, st.Round, st.RoundState = session.StoryOpen, 1, session.RoundVoting
			if _, err := s.txExec(ctx, tx, `INSERT INTO stories (`+storyCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				st.ID, sessionID, st.Position, st.Title, st.Description, st.URL, string(st.Status), st.Estimate, st.Round,
				string(st.RoundState), st.Source, st.ExternalKey, string(st.SyncState), st.SyncError, st.SyncedValue, ms(st.CreatedAt),
				st.ImportedEstimate, encodeTarget(st.Target)); err != nil {
				return err
			}
			if _, err := s.txExec(ctx, tx, `INSERT INTO rounds (story_id, number, state, started_at) VALUES (?, 1, 'voting', ?)`,
				st.ID, ms(st.CreatedAt)); err != nil {
				return err
			}
		}
		return nil
	})
}

// Story returns one story of a session.
func (s *Store) Story(ctx context.Context, sessionID, id string) (*session.Story, error) {
	return scanStory(s.queryRow(ctx, `SELECT `+storyCols+` FROM stories WHERE id = ? AND session_id = ?`, id, sessionID))
}

// Stories lists a session's stories in order.
func (s *Store) Stories(ctx context.Context, sessionID string) ([]*session.Story, error) {
	rows, err := s.query(ctx, `SELECT `+storyCols+` FROM stories WHERE session_id = ? ORDER BY position, created_at`, sessionID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*session.Story
	for rows.Next() {
		st, err := scanStory(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// UpdateStory saves title, description and URL.
func (s *Store) UpdateStory(ctx context.Context, st *session.Story) error {
	res, err := s.exec(ctx, `UPDATE stories SET title = ?, description = ?, url = ? WHERE id = ? AND session_id = ?`,
		st.Title, st.Description, st.URL, st.ID, st.SessionID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return session.ErrNotFound
	}
	return nil
}

// DeleteStory deletes a story; rounds, votes and outbox entries cascade. On PostgreSQL it first
// locks the story's rounds: a vote locks its round, then (checking its foreign key) the story, and
// taking them in the same order keeps a deletion and a vote from deadlocking.
func (s *Store) DeleteStory(ctx context.Context, sessionID, id string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if s.dialect == postgres {
			if _, err := s.txExec(ctx, tx, `SELECT 1 FROM rounds WHERE story_id = ? FOR UPDATE`, id); err != nil {
				return err
			}
		}
		res, err := s.txExec(ctx, tx, `DELETE FROM stories WHERE id = ? AND session_id = ?`, id, sessionID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return session.ErrNotFound
		}
		return nil
	})
}

// ReorderStories sets each story's position to its index in ids.
func (s *Store) ReorderStories(ctx context.Context, sessionID string, ids []string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		for i, id := range ids {
			if _, err := s.txExec(ctx, tx, `UPDATE stories SET position = ? WHERE id = ? AND session_id = ?`, i+1, id, sessionID); err != nil {
				return err
			}
		}
		return nil
	})
}
