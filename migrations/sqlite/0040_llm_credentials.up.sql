-- Per-user model credentials (SPEC §10.4): an OpenAI-compatible endpoint and its API key,
-- encrypted (AES-256-GCM; `ciphertext` names its key id, repeated in `key_id` so rotation
-- finds the rows still under an old key).

CREATE TABLE llm_credentials (
    id                      TEXT    NOT NULL PRIMARY KEY,
    owner_id                TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    label                   TEXT    NOT NULL,
    provider                TEXT    NOT NULL,
    base_url                TEXT    NOT NULL,
    model                   TEXT    NOT NULL,
    ciphertext              TEXT    NOT NULL,
    key_id                  TEXT    NOT NULL,
    key_hint                TEXT    NOT NULL,
    status                  TEXT    NOT NULL DEFAULT 'active',
    suspension_reason       TEXT    NULL,
    is_verified             INTEGER NOT NULL DEFAULT 0,
    last_verified_at        TEXT    NULL,
    last_error_kind         TEXT    NULL,
    -- NULL: the configured default.
    rate_limit_rpm          INTEGER NULL,
    max_concurrent_requests INTEGER NULL,
    total_requests          INTEGER NOT NULL DEFAULT 0,
    last_used_at            TEXT    NULL,
    created_at              TEXT    NOT NULL,
    updated_at              TEXT    NOT NULL,
    CONSTRAINT llm_credentials_status_check CHECK (status IN ('active', 'suspended')),
    CONSTRAINT llm_credentials_provider_check CHECK (provider IN ('openai-compatible')),
    CONSTRAINT llm_credentials_limits_check
        CHECK (COALESCE(rate_limit_rpm, 0) >= 0 AND COALESCE(max_concurrent_requests, 1) >= 1)
) STRICT;

CREATE INDEX llm_credentials_owner_idx ON llm_credentials (owner_id, created_at, id);
CREATE INDEX llm_credentials_key_id_idx ON llm_credentials (key_id, id);
