-- Reverts 0002_tutoring.up.sql.

DROP TABLE IF EXISTS evaluations;
DROP TABLE IF EXISTS risks;
DROP TABLE IF EXISTS cognitive_traces;
DROP TABLE IF EXISTS interactions;
DROP TABLE IF EXISTS study_sessions;
DROP TABLE IF EXISTS activities;
