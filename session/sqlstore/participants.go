package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/pokor/pokor/session"
)

const participantCols = `id, session_id, name, role, status, chat_id, created_at`

func (s *Store) addParticipant(ctx context.Context, tx *sql.Tx, p *session.Participant, tokenHash string) error {
	if _, err := s.txExec(ctx, tx, `INSERT INTO participants (`+participantCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.SessionID, p.Name, string(p.Role), string(p.Status), p.ChatID, ms(p.CreatedAt)); err != nil {
		return err
	}
	if tokenHash == "" {
		return nil
	}
	_, err := s.txExec(ctx, tx, `INSERT INTO participant_tokens (token_hash, participant_id, created_at) VALUES (?, ?, ?)`,
		tokenHash, p.ID, ms(p.CreatedAt))
	return err
}

// AddParticipant stores a participant and its first token.
func (s *Store) AddParticipant(ctx context.Context, p *session.Participant, tokenHash string) error {
	return s.tx(ctx, func(tx *sql.Tx) error { return s.addParticipant(ctx, tx, p, tokenHash) })
}

// AddToken adds a token for an existing participant.
func (s *Store) AddToken(ctx context.Context, participantID, tokenHash string) error {
	_, err := s.exec(ctx, `INSERT INTO participant_tokens (token_hash, participant_id, created_at) VALUES (?, ?, ?)`,
		tokenHash, participantID, time.Now().UnixMilli())
	return err
}

func scanParticipant(row interface{ Scan(...any) error }) (*session.Participant, error) {
	var (
		p       session.Participant
		role    string
		status  string
		created int64
	)
	if err := row.Scan(&p.ID, &p.SessionID, &p.Name, &role, &status, &p.ChatID, &created); err != nil {
		return nil, notFound(err)
	}
	p.Role, p.Status, p.CreatedAt = session.Role(role), session.ParticipantStatus(status), fromMS(created)
	return &p, nil
}

// ParticipantByToken returns the participant whose token hashes to tokenHash.
func (s *Store) ParticipantByToken(ctx context.Context, sessionID, tokenHash string) (*session.Participant, error) {
	return scanParticipant(s.queryRow(ctx, `SELECT p.id, p.session_id, p.name, p.role, p.status, p.chat_id, p.created_at
		FROM participant_tokens t JOIN participants p ON p.id = t.participant_id
		WHERE t.token_hash = ? AND p.session_id = ? AND p.status <> 'removed'`, tokenHash, sessionID))
}

// ParticipantByChatID returns the participant a chat user became in a session.
func (s *Store) ParticipantByChatID(ctx context.Context, sessionID, chatID string) (*session.Participant, error) {
	return scanParticipant(s.queryRow(ctx, `SELECT `+participantCols+` FROM participants
		WHERE session_id = ? AND chat_id = ? AND status <> 'removed' ORDER BY created_at LIMIT 1`, sessionID, chatID))
}

// Participant returns one participant of a session.
func (s *Store) Participant(ctx context.Context, sessionID, id string) (*session.Participant, error) {
	if !s.cached() {
		return s.loadParticipant(ctx, sessionID, id)
	}
	if p, ok := s.cache.participant(sessionID, id); ok {
		return p, nil
	}
	gen := s.cache.generation()
	p, err := s.loadParticipant(ctx, sessionID, id)
	if err == nil {
		s.cache.putParticipant(gen, p)
	}
	return p, err
}

func (s *Store) loadParticipant(ctx context.Context, sessionID, id string) (*session.Participant, error) {
	return scanParticipant(s.queryRow(ctx, `SELECT `+participantCols+` FROM participants WHERE id = ? AND session_id = ?`, id, sessionID))
}

// Participants lists a session's participants, removed ones excluded.
func (s *Store) Participants(ctx context.Context, sessionID string) ([]*session.Participant, error) {
	rows, err := s.query(ctx, `SELECT `+participantCols+` FROM participants WHERE session_id = ? AND status <> 'removed' ORDER BY created_at, id`, sessionID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*session.Participant
	for rows.Next() {
		p, err := scanParticipant(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// UpdateParticipant saves name, role and status.
func (s *Store) UpdateParticipant(ctx context.Context, p *session.Participant) error {
	res, err := s.exec(ctx, `UPDATE participants SET name = ?, role = ?, status = ? WHERE id = ? AND session_id = ?`,
		p.Name, string(p.Role), string(p.Status), p.ID, p.SessionID)
	s.changed(p.SessionID, session.Forget{Participants: []string{p.ID}})
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return session.ErrNotFound
	}
	return nil
}

// RemoveParticipant marks a participant removed, forgets its tokens and its open votes.
func (s *Store) RemoveParticipant(ctx context.Context, sessionID, id string) error {
	defer s.changed(sessionID, session.Forget{Participants: []string{id}})
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := s.txExec(ctx, tx, `UPDATE participants SET status = 'removed' WHERE id = ? AND session_id = ?`, id, sessionID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return session.ErrNotFound
		}
		if _, err := s.txExec(ctx, tx, `DELETE FROM participant_tokens WHERE participant_id = ?`, id); err != nil {
			return err
		}
		_, err = s.txExec(ctx, tx, `DELETE FROM votes WHERE participant_id = ? AND EXISTS (
			SELECT 1 FROM rounds r WHERE r.story_id = votes.story_id AND r.number = votes.round AND r.state = 'voting')`, id)
		return err
	})
}
