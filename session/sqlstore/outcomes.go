package sqlstore

import (
	"context"
	"database/sql"

	"github.com/pokor/pokor/session"
)

// SaveOutcome stores or replaces a story's outcome.
func (s *Store) SaveOutcome(ctx context.Context, o *session.Outcome) error {
	_, err := s.exec(ctx, `INSERT INTO outcomes (story_id, started_at, done_at, cycle_hours, spent_hours, detail, fetched_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (story_id) DO UPDATE SET started_at = excluded.started_at, done_at = excluded.done_at,
			cycle_hours = excluded.cycle_hours, spent_hours = excluded.spent_hours, detail = excluded.detail, fetched_at = excluded.fetched_at`,
		o.StoryID, nullMS(o.StartedAt), ms(o.DoneAt), nullFloat(o.CycleHours), nullFloat(o.SpentHours), o.Detail, ms(o.FetchedAt))
	return err
}

// TeamOutcomes returns the outcomes of a team's stories.
func (s *Store) TeamOutcomes(ctx context.Context, teamID string) ([]*session.Outcome, error) {
	if teamID == "" {
		return nil, nil
	}
	rows, err := s.query(ctx, `SELECT o.story_id, o.started_at, o.done_at, o.cycle_hours, o.spent_hours, o.detail, o.fetched_at
		FROM outcomes o JOIN stories st ON st.id = o.story_id JOIN sessions se ON se.id = st.session_id WHERE se.team_id = ?`, teamID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*session.Outcome
	for rows.Next() {
		var (
			o             session.Outcome
			started       sql.NullInt64
			done, fetched int64
			cycle, spent  sql.NullFloat64
		)
		if err := rows.Scan(&o.StoryID, &started, &done, &cycle, &spent, &o.Detail, &fetched); err != nil {
			return nil, err
		}
		o.StartedAt, o.DoneAt, o.FetchedAt = fromNullMS(started), fromMS(done), fromMS(fetched)
		if cycle.Valid {
			o.CycleHours = &cycle.Float64
		}
		if spent.Valid {
			o.SpentHours = &spent.Float64
		}
		out = append(out, &o)
	}
	return out, rows.Err()
}

func nullFloat(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}
