CREATE TABLE connections (
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    tracker    TEXT NOT NULL,
    sealed     TEXT NOT NULL DEFAULT '',
    options    TEXT NOT NULL DEFAULT '{}',
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (session_id, tracker)
);
