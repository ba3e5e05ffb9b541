-- Reverts 0004_server_errors.up.sql.

DROP TABLE server_errors;
