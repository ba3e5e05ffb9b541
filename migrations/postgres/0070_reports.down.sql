-- Reverts 0070_reports.up.sql.

DROP TABLE reports;
