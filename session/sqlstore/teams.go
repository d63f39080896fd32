package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"

	"github.com/pokor/pokor/session"
)

const teamCols = `id, name, platform, chat_team, chat_channel, settings, link_epoch, created_at`

// CreateTeam stores a new team.
func (s *Store) CreateTeam(ctx context.Context, t *session.Team) error {
	settings, err := json.Marshal(t.Settings)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, `INSERT INTO teams (`+teamCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.Name, t.Platform, t.ChatTeam, t.Channel, string(settings), t.LinkEpoch, ms(t.CreatedAt))
	return err
}

// ChannelTeam returns the team of a chat channel, storing t first when the channel has none. The
// unique index on the channel decides between concurrent callers; the loser reads the winner's.
func (s *Store) ChannelTeam(ctx context.Context, t *session.Team) (*session.Team, error) {
	settings, err := json.Marshal(t.Settings)
	if err != nil {
		return nil, err
	}
	if _, err := s.exec(ctx, `INSERT INTO teams (`+teamCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (platform, chat_team, chat_channel) WHERE platform <> '' DO NOTHING`,
		t.ID, t.Name, t.Platform, t.ChatTeam, t.Channel, string(settings), t.LinkEpoch, ms(t.CreatedAt)); err != nil {
		return nil, err
	}
	// Read from the writer: a reader of SQLite may not see the row just written by another caller.
	return scanTeam(s.w.QueryRowContext(ctx, s.q(`SELECT `+teamCols+` FROM teams WHERE platform = ? AND chat_team = ? AND chat_channel = ?`),
		t.Platform, t.ChatTeam, t.Channel))
}

// Team returns a team by id.
func (s *Store) Team(ctx context.Context, id string) (*session.Team, error) {
	return scanTeam(s.queryRow(ctx, `SELECT `+teamCols+` FROM teams WHERE id = ?`, id))
}

func scanTeam(row *sql.Row) (*session.Team, error) {
	var (
		t        session.Team
		settings string
		created  int64
	)
	if err := row.Scan(&t.ID, &t.Name, &t.Platform, &t.ChatTeam, &t.Channel, &settings, &t.LinkEpoch, &created); err != nil {
		return nil, notFound(err)
	}
	if err := json.Unmarshal([]byte(settings), &t.Settings); err != nil {
		return nil, err
	}
	t.CreatedAt = fromMS(created)
	return &t, nil
}

// UpdateTeam saves a team's name and settings.
func (s *Store) UpdateTeam(ctx context.Context, t *session.Team) error {
	settings, err := json.Marshal(t.Settings)
	if err != nil {
		return err
	}
	return affected(s.exec(ctx, `UPDATE teams SET name = ?, settings = ? WHERE id = ?`, t.Name, string(settings), t.ID))
}

// RotateTeamLink moves a team to its next link generation and returns it.
func (s *Store) RotateTeamLink(ctx context.Context, teamID string) (int, error) {
	var epoch int
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := affected(s.txExec(ctx, tx, `UPDATE teams SET link_epoch = link_epoch + 1 WHERE id = ?`, teamID)); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, s.q(`SELECT link_epoch FROM teams WHERE id = ?`), teamID).Scan(&epoch)
	})
	return epoch, err
}

// SetSessionTeam puts a session in a team, or in none with "".
func (s *Store) SetSessionTeam(ctx context.Context, sessionID, teamID string) error {
	defer s.forgetSession(sessionID)
	return affected(s.exec(ctx, `UPDATE sessions SET team_id = ? WHERE id = ?`, teamID, sessionID))
}

// TeamSessions lists a team's sessions, oldest first.
func (s *Store) TeamSessions(ctx context.Context, teamID string) ([]*session.Session, error) {
	if teamID == "" {
		return nil, nil
	}
	rows, err := s.query(ctx, `SELECT `+sessionCols+` FROM sessions WHERE team_id = ? ORDER BY created_at, id`, teamID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*session.Session
	for rows.Next() {
		sess, err := s.scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sess)
	}
	return out, rows.Err()
}

// TeamStories returns every story of a team's sessions, in session and story order.
func (s *Store) TeamStories(ctx context.Context, teamID string) ([]*session.Story, error) {
	if teamID == "" {
		return nil, nil
	}
	return scanStories(s.query(ctx, `SELECT `+prefixed("st.", storyCols)+` FROM stories st JOIN sessions se ON se.id = st.session_id
		WHERE se.team_id = ? ORDER BY se.created_at, se.id, st.position, st.created_at`, teamID))
}

// TeamRounds returns every round of a team's stories.
func (s *Store) TeamRounds(ctx context.Context, teamID string) ([]session.Round, error) {
	if teamID == "" {
		return nil, nil
	}
	return s.scanRounds(s.query(ctx, `SELECT r.story_id, r.number, r.state, r.started_at, r.revealed_at, r.anonymous
		FROM rounds r JOIN stories st ON st.id = r.story_id JOIN sessions se ON se.id = st.session_id
		WHERE se.team_id = ? ORDER BY r.story_id, r.number`, teamID))
}

// TeamVotes returns every vote of a team's stories.
func (s *Store) TeamVotes(ctx context.Context, teamID string) ([]session.Vote, error) {
	if teamID == "" {
		return nil, nil
	}
	return s.scanVotes(s.query(ctx, `SELECT v.story_id, v.round, v.participant_id, v.card, v.confidence, v.rationale, v.cast_at
		FROM votes v JOIN stories st ON st.id = v.story_id JOIN sessions se ON se.id = st.session_id
		WHERE se.team_id = ? ORDER BY v.story_id, v.round, v.cast_at`, teamID))
}

// prefixed qualifies a list of columns with a table alias ("st.").
func prefixed(alias, cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = alias + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}
