-- Reverts 0080_session_credential.up.sql.
ALTER TABLE study_sessions DROP COLUMN llm_credential_id;
