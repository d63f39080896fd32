-- Outbound webhooks (docs/webhooks.md). A session's webhook is set by an organizer; a team's
-- by the administrator (pokor webhooks). Secrets are stored encrypted.
CREATE TABLE session_webhooks (
    session_id TEXT PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    url        TEXT NOT NULL,
    sealed     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE team_webhooks (
    team       TEXT NOT NULL,
    url        TEXT NOT NULL,
    sealed     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (team, url)
);

-- The webhook outbox: one row per event and endpoint, written in the transaction of the change
-- it reports, delivered by the worker with leases and retries like the write-back outbox. No
-- foreign key to sessions: the news that a session ended outlives the session.
CREATE TABLE webhook_outbox (
    id            TEXT PRIMARY KEY,
    event_id      TEXT NOT NULL,
    event         TEXT NOT NULL,
    session_id    TEXT NOT NULL,
    story_id      TEXT NOT NULL DEFAULT '',
    value         TEXT NOT NULL DEFAULT '',
    round         INTEGER NOT NULL DEFAULT 0,
    scope         TEXT NOT NULL,
    url           TEXT NOT NULL,
    sealed        TEXT NOT NULL DEFAULT '',
    body          TEXT NOT NULL DEFAULT '',
    state         TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_attempt  BIGINT NOT NULL,
    claimed_by    TEXT NOT NULL DEFAULT '',
    claimed_until BIGINT NOT NULL DEFAULT 0,
    last_error    TEXT NOT NULL DEFAULT '',
    occurred_at   BIGINT NOT NULL
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (state, next_attempt);
CREATE INDEX webhook_outbox_order ON webhook_outbox (session_id, url, occurred_at);
