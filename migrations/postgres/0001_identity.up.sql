-- Identity: users, login sessions (refresh-token families), refresh tokens and the audit log.

CREATE TABLE users (
    id            UUID        PRIMARY KEY,
    email         TEXT        NOT NULL,
    username      TEXT        NOT NULL,
    full_name     TEXT        NOT NULL,
    student_id    TEXT        NULL,
    roles         TEXT[]      NOT NULL DEFAULT ARRAY['student']::TEXT[],
    tier          TEXT        NOT NULL DEFAULT 'free',
    is_active     BOOLEAN     NOT NULL DEFAULT TRUE,
    is_verified   BOOLEAN     NOT NULL DEFAULT FALSE,
    password_hash TEXT        NOT NULL,
    last_login    TIMESTAMPTZ NULL,
    login_count   BIGINT      NOT NULL DEFAULT 0,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_student_id_key UNIQUE (student_id),
    CONSTRAINT users_tier_check CHECK (tier IN ('free', 'premium', 'admin')),
    CONSTRAINT users_roles_check CHECK (
        cardinality(roles) > 0
        AND roles <@ ARRAY['student', 'instructor', 'admin']::TEXT[]
    ),
    CONSTRAINT users_login_count_check CHECK (login_count >= 0)
);

-- Usernames are unique regardless of case.
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
-- The admin list pages by creation time, then id.
CREATE INDEX users_created_at_idx ON users (created_at, id);

CREATE TABLE auth_sessions (
    id         UUID        PRIMARY KEY,
    user_id    UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ NULL
);

CREATE INDEX auth_sessions_user_id_idx ON auth_sessions (user_id);
CREATE INDEX auth_sessions_revoked_at_idx ON auth_sessions (revoked_at)
    WHERE revoked_at IS NOT NULL;

CREATE TABLE refresh_tokens (
    jti         UUID        PRIMARY KEY,
    session_id  UUID        NOT NULL REFERENCES auth_sessions (id) ON DELETE CASCADE,
    token_hash  TEXT        NOT NULL,
    issued_at   TIMESTAMPTZ NOT NULL,
    -- Set when the token is retired by a rotation; a retired token presented again is a replay.
    used_at     TIMESTAMPTZ NULL,
    replaced_by UUID        NULL
);

CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);

-- No foreign keys: the audit trail outlives the users it mentions.
CREATE TABLE audit_log (
    id          UUID        PRIMARY KEY,
    actor_id    UUID        NULL,
    action      TEXT        NOT NULL,
    target_type TEXT        NOT NULL,
    target_id   UUID        NOT NULL,
    details     JSONB       NOT NULL DEFAULT '{}'::JSONB,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE INDEX audit_log_created_at_idx ON audit_log (created_at DESC, id DESC);
