-- One-time account tokens (e-mail verification, password reset). Only a SHA-256 hash of a
-- token is stored; a token is bound to its purpose, to the address it was sent to and to a
-- fingerprint of the password hash it was issued under.

CREATE TABLE account_tokens (
    id                   UUID        PRIMARY KEY,
    user_id              UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose              TEXT        NOT NULL,
    token_hash           TEXT        NOT NULL,
    password_fingerprint TEXT        NOT NULL,
    sent_to              TEXT        NOT NULL,
    created_at           TIMESTAMPTZ NOT NULL,
    expires_at           TIMESTAMPTZ NOT NULL,
    consumed_at          TIMESTAMPTZ NULL,
    CONSTRAINT account_tokens_token_hash_key UNIQUE (token_hash),
    CONSTRAINT account_tokens_purpose_check CHECK (purpose IN ('verify_email', 'reset_password'))
);

-- Issuing deletes the user's earlier tokens of the same purpose.
CREATE INDEX account_tokens_user_purpose_idx ON account_tokens (user_id, purpose);
