-- Times are Unix milliseconds (BIGINT) and JSON documents are TEXT, so that the same schema
-- runs on SQLite and PostgreSQL.
CREATE TABLE sessions (
    id               TEXT PRIMARY KEY,
    title            TEXT NOT NULL,
    deck             TEXT NOT NULL,
    settings         TEXT NOT NULL,
    current_story_id TEXT NOT NULL DEFAULT '',
    origin           TEXT NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    closed_at        BIGINT
);
CREATE INDEX sessions_updated ON sessions (updated_at);

CREATE TABLE participants (
    id         TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL,
    status     TEXT NOT NULL,
    chat_id    TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE INDEX participants_session ON participants (session_id, created_at);
CREATE INDEX participants_chat ON participants (session_id, chat_id);

CREATE TABLE participant_tokens (
    token_hash     TEXT PRIMARY KEY,
    participant_id TEXT NOT NULL REFERENCES participants (id) ON DELETE CASCADE,
    created_at     BIGINT NOT NULL
);
CREATE INDEX participant_tokens_participant ON participant_tokens (participant_id);

CREATE TABLE stories (
    id           TEXT PRIMARY KEY,
    session_id   TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    url          TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL,
    estimate     TEXT NOT NULL DEFAULT '',
    round        INTEGER NOT NULL,
    round_state  TEXT NOT NULL,
    source       TEXT NOT NULL DEFAULT '',
    external_key TEXT NOT NULL DEFAULT '',
    sync_state   TEXT NOT NULL DEFAULT '',
    sync_error   TEXT NOT NULL DEFAULT '',
    synced_value TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL
);
CREATE INDEX stories_session ON stories (session_id, position);
CREATE UNIQUE INDEX stories_external ON stories (session_id, source, external_key) WHERE external_key <> '';

CREATE TABLE rounds (
    story_id    TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    number      INTEGER NOT NULL,
    state       TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    revealed_at BIGINT,
    PRIMARY KEY (story_id, number)
);

-- participant_id has no foreign key: the votes of a removed participant stay in the history.
CREATE TABLE votes (
    story_id       TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    round          INTEGER NOT NULL,
    participant_id TEXT NOT NULL,
    card           TEXT NOT NULL,
    confidence     TEXT NOT NULL DEFAULT '',
    rationale      TEXT NOT NULL DEFAULT '',
    cast_at        BIGINT NOT NULL,
    PRIMARY KEY (story_id, round, participant_id)
);

CREATE TABLE outbox (
    id            TEXT PRIMARY KEY,
    session_id    TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    story_id      TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    source        TEXT NOT NULL,
    external_key  TEXT NOT NULL,
    value         TEXT NOT NULL,
    state         TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_attempt  BIGINT NOT NULL,
    claimed_by    TEXT NOT NULL DEFAULT '',
    claimed_until BIGINT NOT NULL DEFAULT 0,
    last_error    TEXT NOT NULL DEFAULT '',
    result        TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL
);
CREATE INDEX outbox_due ON outbox (state, next_attempt);
CREATE INDEX outbox_story ON outbox (story_id);
