-- Social login: linked provider identities, pending authorization flows and one-time login
-- codes. Flows and codes live in the database so any instance can finish a flow another
-- instance started; both are single use (deleted when taken) and stored only as hashes.

CREATE TABLE oauth_accounts (
    id               UUID        PRIMARY KEY,
    user_id          UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider         TEXT        NOT NULL,
    provider_user_id TEXT        NOT NULL,
    -- The provider's e-mail address when the identity was linked (informational).
    email            TEXT        NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    CONSTRAINT oauth_accounts_identity_key UNIQUE (provider, provider_user_id)
);

CREATE INDEX oauth_accounts_user_id_idx ON oauth_accounts (user_id);

CREATE TABLE oauth_flows (
    -- Hex SHA-256 of the `state` sent to the provider.
    state_hash    TEXT        PRIMARY KEY,
    provider      TEXT        NOT NULL,
    pkce_verifier TEXT        NOT NULL,
    nonce         TEXT        NULL,
    redirect_uri  TEXT        NOT NULL,
    -- Hex SHA-256 of the browser-binding cookie.
    browser_hash  TEXT        NOT NULL,
    -- Set when a signed-in user links an identity.
    link_user_id  UUID        NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL
);

CREATE INDEX oauth_flows_expires_at_idx ON oauth_flows (expires_at);

CREATE TABLE oauth_login_codes (
    code_hash  TEXT        PRIMARY KEY,
    user_id    UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX oauth_login_codes_expires_at_idx ON oauth_login_codes (expires_at);
