-- Reverts 0040_llm_credentials.up.sql.

DROP TABLE llm_credentials;
