-- Reverts 0060_session_lifecycle.up.sql. Paused sessions become aborted first: the restored
-- index lets only active sessions hold the slot, and the old code knows no resume.
ALTER TABLE study_sessions DROP COLUMN rule_state_turns;
ALTER TABLE study_sessions DROP COLUMN rule_state;
UPDATE study_sessions SET status = 'aborted', ended_at = COALESCE(ended_at, started_at)
    WHERE status = 'paused';
DROP INDEX study_sessions_one_active_key;
CREATE UNIQUE INDEX study_sessions_one_active_key ON study_sessions (student_id, activity_id)
    WHERE status = 'active';
