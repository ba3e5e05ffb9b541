-- A student's own model credential chosen for a session (SPEC §10.4, decision 121). No
-- foreign key: a deleted credential is handled at routing like a suspended one (decision 84),
-- and SQLite cannot drop a column that a foreign key uses.
ALTER TABLE study_sessions ADD COLUMN llm_credential_id TEXT NULL;
