-- Team webhooks belong to a real team (issue #17's teams), not to a chat workspace: a team has one
-- webhook, set through the team API by whoever holds the team's link, or by the administrator
-- (pokor webhooks add --team TEAM_ID). The events of a session go to the webhook of the team the
-- session is in when the event happens. The old rows were keyed by "platform:workspace", which
-- names no team; no release carried them, so they are dropped rather than converted.
DROP TABLE team_webhooks;
CREATE TABLE team_webhooks (
    team_id    TEXT PRIMARY KEY,
    url        TEXT NOT NULL,
    sealed     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
