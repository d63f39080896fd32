-- What the tracker held and what decides where an estimate goes, kept with each imported story:
-- imported_estimate is the estimate the tracker or CSV file held at import (shown, never written
-- back); write_target is a JSON object of the tracker's own keys (Jira: board, field, project,
-- issue_type) so that every instance, after any restart, writes to the place chosen before.
ALTER TABLE stories ADD COLUMN imported_estimate TEXT NOT NULL DEFAULT '';
ALTER TABLE stories ADD COLUMN write_target TEXT NOT NULL DEFAULT '';
