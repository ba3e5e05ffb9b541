-- Reverts 0050_account_tokens.up.sql.

DROP TABLE account_tokens;
