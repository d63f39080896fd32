package sqlstore

import (
	"context"
	"time"
)

// SaveSlackInstallation stores the installation of Pokor in a Slack workspace, replacing an
// earlier one (a reinstall brings a new token). sealedToken is the bot token sealed by the
// caller with session.Keys.Seal.
func (s *Store) SaveSlackInstallation(ctx context.Context, team, teamName, sealedToken string, at time.Time) error {
	_, err := s.exec(ctx, `INSERT INTO slack_installations (team_id, team_name, sealed_token, installed_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (team_id) DO UPDATE SET team_name = excluded.team_name, sealed_token = excluded.sealed_token, installed_at = excluded.installed_at`,
		team, teamName, sealedToken, ms(at))
	return err
}

// SlackInstallation returns the name and the sealed bot token of a workspace Pokor is installed
// in. It returns session.ErrNotFound when it is not installed there.
func (s *Store) SlackInstallation(ctx context.Context, team string) (teamName, sealedToken string, err error) {
	err = s.queryRow(ctx, `SELECT team_name, sealed_token FROM slack_installations WHERE team_id = ?`, team).Scan(&teamName, &sealedToken)
	return teamName, sealedToken, notFound(err)
}
