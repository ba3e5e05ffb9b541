-- API keys (SPEC §10.3). Each key is bound to the login session of the same id: revoking
-- that session (delete, owner deactivated, password changed) revokes the key, and the
-- revocation mirror every instance polls carries it.

CREATE TABLE api_keys (
    id           UUID        PRIMARY KEY REFERENCES auth_sessions (id) ON DELETE CASCADE,
    user_id      UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT        NOT NULL,
    -- `ain_` and the first 8 random characters, shown in lists.
    prefix       TEXT        NOT NULL,
    -- Hex HMAC-SHA256 of the whole key under the server's pepper; the key is never stored.
    secret_hash  TEXT        NOT NULL,
    -- Space-separated scope names.
    scopes       TEXT        NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NULL,
    last_used_at TIMESTAMPTZ NULL,
    CONSTRAINT api_keys_secret_hash_key UNIQUE (secret_hash),
    CONSTRAINT api_keys_name_check CHECK (char_length(name) BETWEEN 1 AND 100)
);

CREATE INDEX api_keys_user_id_idx ON api_keys (user_id, created_at DESC);
