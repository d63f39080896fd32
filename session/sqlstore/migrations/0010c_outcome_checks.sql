-- Outcome checks (issue #17) travel in the write-back outbox, so they share its worker, leases,
-- rate-limit pauses and retries: kind 'outcome' reads what happened to an issue, 'write' (every
-- row before this migration) writes an estimate back.
ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'write';
