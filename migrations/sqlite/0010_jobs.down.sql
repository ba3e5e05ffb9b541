-- Reverts 0010_jobs.up.sql.

DROP TABLE jobs;
