-- One round timer per session; starting a new one replaces the row. The deadline is stored so
-- that every instance, and a restarted server, ends the timer at the same moment, once.
CREATE TABLE timers (
    session_id TEXT PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    id         TEXT NOT NULL,
    story_id   TEXT NOT NULL,
    round      INTEGER NOT NULL,
    seconds    INTEGER NOT NULL,
    reveal     INTEGER NOT NULL DEFAULT 0,
    state      TEXT NOT NULL,
    started_by TEXT NOT NULL DEFAULT '',
    started_at BIGINT NOT NULL,
    deadline   BIGINT NOT NULL,
    ended_at   BIGINT
);
CREATE INDEX timers_due ON timers (state, deadline);
