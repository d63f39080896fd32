package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/pokor/pokor/session"
)

var _ session.WebhookStore = (*Store)(nil)

// SetServerWebhooks sets the server-wide webhook URLs (POKOR_WEBHOOK_URLS): every event is
// queued for each of them from then on.
func (s *Store) SetServerWebhooks(urls []string) { s.serverHooks = urls }

// hookEvent is an event to queue in the transaction of the change it reports.
type hookEvent struct {
	event, sessionID, storyID, value string
	round                            int
}

const hookCols = `id, event_id, event, session_id, story_id, value, round, scope, url, sealed, body, state, attempts, next_attempt, last_error, occurred_at`

// enqueueHooks writes one delivery of ev for every endpoint that wants it: each server-wide URL,
// the webhook of the session's team (the team it is in now, read in tx) and the session's webhook. It runs inside tx, the transaction of the change,
// so that the change and the news of it commit together or not at all.
func (s *Store) enqueueHooks(ctx context.Context, tx *sql.Tx, ev hookEvent) error {
	eventID := session.NewToken()[:22]
	// The event's time orders a session's events for each receiver: microseconds of this
	// store's clock, the same for every kind of event.
	now := time.Now()
	at, next := now.UnixMicro(), ms(now)
	for _, u := range s.serverHooks {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO webhook_outbox (`+hookCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', '', 'pending', 0, ?, '', ?)`),
			session.NewToken()[:22], eventID, ev.event, ev.sessionID, ev.storyID, ev.value, ev.round, session.HookScopeServer, u, next, at); err != nil {
			return err
		}
	}
	// The endpoints in the database: one INSERT … SELECT each, which costs nothing when there is
	// none. The delivery id is derived from the event's and the URL, unique per event and endpoint.
	// Parameters in a SELECT list carry casts: PostgreSQL cannot infer their types there.
	const cols = `CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS INTEGER), CAST(? AS TEXT),
		url, sealed, '', 'pending', 0, CAST(? AS BIGINT), '', CAST(? AS BIGINT)`
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO webhook_outbox (`+hookCols+`)
		SELECT CAST(? AS TEXT) || '-t', `+cols+` FROM team_webhooks
		WHERE team_id = (SELECT team_id FROM sessions WHERE id = ? AND team_id <> '')`),
		eventID, eventID, ev.event, ev.sessionID, ev.storyID, ev.value, ev.round, session.HookScopeTeam, next, at, ev.sessionID); err != nil {
		return err
	}
	if ev.event != session.HookSessionCreated {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO webhook_outbox (`+hookCols+`)
			SELECT CAST(? AS TEXT) || '-s', `+cols+` FROM session_webhooks WHERE session_id = ?`),
			eventID, eventID, ev.event, ev.sessionID, ev.storyID, ev.value, ev.round, session.HookScopeSession, next, at, ev.sessionID); err != nil {
			return err
		}
	}
	return nil
}

// ClaimWebhooks leases up to n due deliveries to owner, oldest event first, and none while an
// earlier event of the same session is still pending for the same URL.
func (s *Store) ClaimWebhooks(ctx context.Context, owner string, n int, now time.Time, lease time.Duration) ([]*session.Delivery, error) {
	rows, err := s.w.QueryContext(ctx, s.q(`UPDATE webhook_outbox SET claimed_by = ?, claimed_until = ?
		WHERE id IN (SELECT id FROM webhook_outbox w WHERE state = 'pending' AND next_attempt <= ? AND claimed_until < ?
			AND NOT EXISTS (SELECT 1 FROM webhook_outbox e WHERE e.session_id = w.session_id AND e.url = w.url
				AND e.state = 'pending' AND (e.occurred_at < w.occurred_at OR (e.occurred_at = w.occurred_at AND e.id < w.id)))
			ORDER BY occurred_at LIMIT ?`+s.skipLocked()+`)
		RETURNING `+hookCols), owner, ms(now.Add(lease)), ms(now), ms(now), n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*session.Delivery
	for rows.Next() {
		var (
			d              session.Delivery
			body, state    string
			next, occurred int64
		)
		if err := rows.Scan(&d.ID, &d.EventID, &d.Event, &d.SessionID, &d.StoryID, &d.Value, &d.Round, &d.Scope, &d.URL, &d.Sealed,
			&body, &state, &d.Attempts, &next, &d.LastError, &occurred); err != nil {
			return nil, err
		}
		d.Body, d.State, d.NextAttempt, d.OccurredAt = []byte(body), session.OutboxState(state), fromMS(next), time.UnixMicro(occurred).UTC()
		out = append(out, &d)
	}
	return out, rows.Err()
}

// FinishWebhook records an attempt and the body sent, and ends the lease.
func (s *Store) FinishWebhook(ctx context.Context, d *session.Delivery) error {
	_, err := s.exec(ctx, `UPDATE webhook_outbox SET state = ?, attempts = ?, next_attempt = ?, last_error = ?, body = ?,
		claimed_by = '', claimed_until = 0 WHERE id = ?`, string(d.State), d.Attempts, ms(d.NextAttempt), d.LastError, string(d.Body), d.ID)
	return err
}

// ReleaseWebhooks ends owner's leases so that another instance, or this one after a restart,
// delivers them at once.
func (s *Store) ReleaseWebhooks(ctx context.Context, owner string) error {
	_, err := s.exec(ctx, `UPDATE webhook_outbox SET claimed_by = '', claimed_until = 0 WHERE claimed_by = ? AND state = 'pending'`, owner)
	return err
}

// PruneWebhooks deletes deliveries that were delivered and whose event is older than before.
func (s *Store) PruneWebhooks(ctx context.Context, before time.Time) error {
	_, err := s.exec(ctx, `DELETE FROM webhook_outbox WHERE state = 'delivered' AND occurred_at < ?`, before.UnixMicro())
	return err
}

// SetSessionWebhook sets a session's webhook, replacing the previous one.
func (s *Store) SetSessionWebhook(ctx context.Context, sessionID string, w *session.Webhook) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM session_webhooks WHERE session_id = ?`), sessionID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO session_webhooks (session_id, url, sealed, created_at) VALUES (?, ?, ?, ?)`),
			sessionID, w.URL, w.Sealed, ms(w.CreatedAt))
		return err
	})
}

// SessionWebhook returns a session's webhook.
func (s *Store) SessionWebhook(ctx context.Context, sessionID string) (*session.Webhook, error) {
	var w session.Webhook
	var created int64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT url, sealed, created_at FROM session_webhooks WHERE session_id = ?`), sessionID).
		Scan(&w.URL, &w.Sealed, &created)
	if err != nil {
		return nil, notFound(err)
	}
	w.CreatedAt = fromMS(created)
	return &w, nil
}

// DeleteSessionWebhook removes a session's webhook.
func (s *Store) DeleteSessionWebhook(ctx context.Context, sessionID string) error {
	return affected(s.exec(ctx, `DELETE FROM session_webhooks WHERE session_id = ?`, sessionID))
}

// SetTeamWebhook sets a team's webhook, replacing the previous one.
func (s *Store) SetTeamWebhook(ctx context.Context, teamID string, w *session.Webhook) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM team_webhooks WHERE team_id = ?`), teamID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO team_webhooks (team_id, url, sealed, created_at) VALUES (?, ?, ?, ?)`),
			teamID, w.URL, w.Sealed, ms(w.CreatedAt))
		return err
	})
}

// TeamWebhook returns a team's webhook.
func (s *Store) TeamWebhook(ctx context.Context, teamID string) (*session.Webhook, error) {
	var w session.Webhook
	var created int64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT url, sealed, created_at FROM team_webhooks WHERE team_id = ?`), teamID).
		Scan(&w.URL, &w.Sealed, &created)
	if err != nil {
		return nil, notFound(err)
	}
	w.CreatedAt = fromMS(created)
	return &w, nil
}

// DeleteTeamWebhook removes a team's webhook.
func (s *Store) DeleteTeamWebhook(ctx context.Context, teamID string) error {
	return affected(s.exec(ctx, `DELETE FROM team_webhooks WHERE team_id = ?`, teamID))
}

// TeamWebhook is a team's endpoint as `pokor webhooks list` shows it.
type TeamWebhook struct {
	TeamID, TeamName, URL string
	CreatedAt             time.Time
}

// TeamWebhooks lists the teams' webhooks.
func (s *Store) TeamWebhooks(ctx context.Context) ([]TeamWebhook, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT w.team_id, COALESCE(t.name, ''), w.url, w.created_at
		FROM team_webhooks w LEFT JOIN teams t ON t.id = w.team_id ORDER BY w.team_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []TeamWebhook
	for rows.Next() {
		var w TeamWebhook
		var created int64
		if err := rows.Scan(&w.TeamID, &w.TeamName, &w.URL, &created); err != nil {
			return nil, err
		}
		w.CreatedAt = fromMS(created)
		out = append(out, w)
	}
	return out, rows.Err()
}

// WebhookCounts counts deliveries by state, for `pokor webhooks list` and the tests.
func (s *Store) WebhookCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT state, COUNT(*) FROM webhook_outbox GROUP BY state`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[strings.TrimSpace(st)] = n
	}
	return out, rows.Err()
}
