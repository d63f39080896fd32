-- Room trust (issue #12). A round's anonymity is fixed when it is revealed and stored with it, so
-- that changing the session's setting later never puts names on an anonymous round, or hides the
-- names of a round revealed with them.
ALTER TABLE rounds ADD COLUMN anonymous INTEGER NOT NULL DEFAULT 0;
-- Rounds revealed before this migration take their session's setting as it is now: the only record
-- of it there is.
UPDATE rounds SET anonymous = 1 WHERE state = 'revealed' AND story_id IN (
    SELECT st.id FROM stories st JOIN sessions s ON s.id = st.session_id WHERE s.settings LIKE '%"anonymous":true%');
-- Organizer links carry the session's link generation; rotating it refuses every link made before.
ALTER TABLE sessions ADD COLUMN link_epoch INTEGER NOT NULL DEFAULT 0;
