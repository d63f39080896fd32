-- One row per Slack workspace Pokor is installed in through the OAuth flow. The bot token arrives
-- sealed with POKOR_SECRET_KEY (session.Keys.Seal): the store never sees it in clear.
CREATE TABLE slack_installations (
    team_id      TEXT PRIMARY KEY,
    team_name    TEXT NOT NULL DEFAULT '',
    sealed_token TEXT NOT NULL,
    installed_at BIGINT NOT NULL
);
