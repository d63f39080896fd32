-- Outcomes of imported stories (issue #17): when the tracker says the work started and ended,
-- and the time logged, fetched once the issue is done. Times are Unix milliseconds; hours are
-- stored as given by the computation so the team page reads them back unchanged.
CREATE TABLE outcomes (
    story_id    TEXT PRIMARY KEY REFERENCES stories (id) ON DELETE CASCADE,
    started_at  BIGINT,
    done_at     BIGINT NOT NULL,
    cycle_hours DOUBLE PRECISION,
    spent_hours DOUBLE PRECISION,
    detail      TEXT NOT NULL DEFAULT '',
    fetched_at  BIGINT NOT NULL
);
