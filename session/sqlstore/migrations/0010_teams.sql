-- Teams (issue #17). A team gathers sessions whose history the team page and the similar-story
-- suggestions are computed from. A chat channel is one team: the unique index makes concurrent
-- first sessions of a channel find the same team. settings is JSON (session.TeamSettings).
CREATE TABLE teams (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    platform     TEXT NOT NULL DEFAULT '',
    chat_team    TEXT NOT NULL DEFAULT '',
    chat_channel TEXT NOT NULL DEFAULT '',
    settings     TEXT NOT NULL DEFAULT '{}',
    link_epoch   INTEGER NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX teams_channel ON teams (platform, chat_team, chat_channel) WHERE platform <> '';
-- A session's team; '' for none. No foreign key: sessions keep working when a team is gone.
ALTER TABLE sessions ADD COLUMN team_id TEXT NOT NULL DEFAULT '';
CREATE INDEX sessions_team ON sessions (team_id, created_at);
