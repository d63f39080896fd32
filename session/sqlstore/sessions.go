package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/pokor/pokor/session"
)

const sessionCols = `id, title, deck, settings, current_story_id, origin, created_at, updated_at, closed_at, link_epoch, team_id`

// CreateSession stores a session with its first organizer.
func (s *Store) CreateSession(ctx context.Context, sess *session.Session, org *session.Participant, tokenHash string) error {
	deck, settings, origin, err := s.encodeSession(sess)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.txExec(ctx, tx, `INSERT INTO sessions (`+sessionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			sess.ID, sess.Title, deck, settings, sess.CurrentStoryID, origin, ms(sess.CreatedAt), ms(sess.UpdatedAt), nullMS(sess.ClosedAt), sess.LinkEpoch, sess.TeamID); err != nil {
			return err
		}
		if err := s.addParticipant(ctx, tx, org, tokenHash); err != nil {
			return err
		}
		return s.enqueueHooks(ctx, tx, hookEvent{event: session.HookSessionCreated, sessionID: sess.ID})
	})
}

func (s *Store) encodeSession(sess *session.Session) (deck, settings, origin string, err error) {
	d, err := json.Marshal(sess.Deck)
	if err != nil {
		return "", "", "", err
	}
	st, err := json.Marshal(sess.Settings)
	if err != nil {
		return "", "", "", err
	}
	if sess.Origin != (session.Origin{}) {
		o, err := json.Marshal(sess.Origin)
		if err != nil {
			return "", "", "", err
		}
		// The origin holds a reply URL, which is a credential: it is stored encrypted.
		origin = string(o)
		if s.sealer != nil {
			origin = s.sealer.Seal(origin)
		}
	}
	return string(d), string(st), origin, nil
}

// Session returns a session by id.
func (s *Store) Session(ctx context.Context, id string) (*session.Session, error) {
	if !s.cached() {
		return s.loadSession(ctx, id)
	}
	if sess, ok := s.cache.session(id); ok {
		return sess, nil
	}
	gen := s.cache.generation()
	sess, err := s.loadSession(ctx, id)
	if err == nil {
		s.cache.putSession(gen, sess)
	}
	return sess, err
}

func (s *Store) loadSession(ctx context.Context, id string) (*session.Session, error) {
	return s.scanSession(s.queryRow(ctx, `SELECT `+sessionCols+` FROM sessions WHERE id = ?`, id))
}

// scanSession reads a row of sessionCols, unsealing the origin.
func (s *Store) scanSession(row interface{ Scan(...any) error }) (*session.Session, error) {
	var (
		sess                   session.Session
		deck, settings, origin string
		created, updated       int64
		closed                 sql.NullInt64
	)
	err := row.Scan(&sess.ID, &sess.Title, &deck, &settings, &sess.CurrentStoryID, &origin, &created, &updated, &closed, &sess.LinkEpoch, &sess.TeamID)
	if err != nil {
		return nil, notFound(err)
	}
	if err := json.Unmarshal([]byte(deck), &sess.Deck); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(settings), &sess.Settings); err != nil {
		return nil, err
	}
	if origin != "" {
		if s.sealer != nil {
			if origin, err = s.sealer.Open(origin); err != nil {
				return nil, err
			}
		}
		if err := json.Unmarshal([]byte(origin), &sess.Origin); err != nil {
			return nil, err
		}
	}
	sess.CreatedAt, sess.UpdatedAt, sess.ClosedAt = fromMS(created), fromMS(updated), fromNullMS(closed)
	return &sess, nil
}

// UpdateSession saves title, deck and settings.
func (s *Store) UpdateSession(ctx context.Context, sess *session.Session) error {
	deck, settings, _, err := s.encodeSession(sess)
	if err != nil {
		return err
	}
	defer s.forgetSession(sess.ID)
	return affected(s.exec(ctx, `UPDATE sessions SET title = ?, deck = ?, settings = ?, updated_at = ? WHERE id = ?`,
		sess.Title, deck, settings, ms(sess.UpdatedAt), sess.ID))
}

// SetCurrentStory changes the current story, optionally only from an expected one.
func (s *Store) SetCurrentStory(ctx context.Context, sessionID, storyID string, from *string, at time.Time) (bool, error) {
	defer s.forgetSession(sessionID)
	query, args := `UPDATE sessions SET current_story_id = ?, updated_at = ? WHERE id = ?`, []any{storyID, ms(at), sessionID}
	if from != nil {
		query, args = query+` AND current_story_id = ?`, append(args, *from)
	}
	res, err := s.exec(ctx, query, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// OrganizerLinkEpoch reads the session's link generation past the cache.
func (s *Store) OrganizerLinkEpoch(ctx context.Context, sessionID string) (int, error) {
	var epoch int
	err := s.queryRow(ctx, `SELECT link_epoch FROM sessions WHERE id = ?`, sessionID).Scan(&epoch)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, session.ErrNotFound
	}
	return epoch, err
}

// RotateOrganizerLinks moves the session to its next link generation and returns it.
func (s *Store) RotateOrganizerLinks(ctx context.Context, sessionID string) (int, error) {
	defer s.forgetSession(sessionID)
	var epoch int
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := affected(s.txExec(ctx, tx, `UPDATE sessions SET link_epoch = link_epoch + 1 WHERE id = ?`, sessionID)); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, s.q(`SELECT link_epoch FROM sessions WHERE id = ?`), sessionID).Scan(&epoch)
	})
	return epoch, err
}

// CloseSession marks a session ended.
func (s *Store) CloseSession(ctx context.Context, sessionID string, at time.Time) error {
	defer s.forgetSession(sessionID)
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := affected(s.txExec(ctx, tx, `UPDATE sessions SET closed_at = ?, updated_at = ? WHERE id = ?`, ms(at), ms(at), sessionID)); err != nil {
			return err
		}
		return s.enqueueHooks(ctx, tx, hookEvent{event: session.HookSessionEnded, sessionID: sessionID})
	})
}

// forgetSession drops a session from the row caches after a write to it.
func (s *Store) forgetSession(id string) { s.changed(id, session.Forget{Session: true}) }

// affected turns an UPDATE that matched no row into ErrNotFound.
func affected(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return session.ErrNotFound
	}
	return nil
}

// DeleteIdleSessions deletes sessions not updated since before; cascades remove their contents.
func (s *Store) DeleteIdleSessions(ctx context.Context, before time.Time) (int, error) {
	res, err := s.exec(ctx, `DELETE FROM sessions WHERE updated_at < ?`, ms(before))
	s.changed("", session.Forget{All: true})
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
