-- Pause/resume (0060): a paused session still holds the student's one open session on the
-- activity, so resuming it can never collide with a session started meanwhile.
DROP INDEX study_sessions_one_active_key;
CREATE UNIQUE INDEX study_sessions_one_active_key ON study_sessions (student_id, activity_id)
    WHERE status IN ('active', 'paused');

-- The risk rules' running state (JSON text), valid while rule_state_turns =
-- interaction_count: a turn reads this one row instead of every trace of its session.
ALTER TABLE study_sessions ADD COLUMN rule_state TEXT NULL;
ALTER TABLE study_sessions ADD COLUMN rule_state_turns INTEGER NULL;
