-- Identity: users, login sessions (refresh-token families), refresh tokens and the audit log.
-- Ids are hyphenated UUID text, timestamps RFC 3339 UTC text, booleans 0/1.
-- STRICT tables reject values of the wrong storage class (say a UUID bound as a blob).

CREATE TABLE users (
    id            TEXT    NOT NULL PRIMARY KEY,
    email         TEXT    NOT NULL,
    username      TEXT    NOT NULL COLLATE NOCASE,
    full_name     TEXT    NOT NULL,
    student_id    TEXT    NULL,
    -- JSON array of role names.
    roles         TEXT    NOT NULL DEFAULT '["student"]',
    tier          TEXT    NOT NULL DEFAULT 'free',
    is_active     INTEGER NOT NULL DEFAULT 1,
    is_verified   INTEGER NOT NULL DEFAULT 0,
    password_hash TEXT    NOT NULL,
    last_login    TEXT    NULL,
    login_count   INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL,
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_student_id_key UNIQUE (student_id),
    CONSTRAINT users_tier_check CHECK (tier IN ('free', 'premium', 'admin')),
    CONSTRAINT users_roles_check CHECK (
        json_valid(roles)
        AND json_type(roles) = 'array'
        AND json_array_length(roles) > 0
    ),
    CONSTRAINT users_flags_check CHECK (is_active IN (0, 1) AND is_verified IN (0, 1)),
    CONSTRAINT users_login_count_check CHECK (login_count >= 0)
) STRICT;

-- The admin list pages by creation time, then id.
CREATE INDEX users_created_at_idx ON users (created_at, id);

CREATE TABLE auth_sessions (
    id         TEXT NOT NULL PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT NULL
) STRICT;

CREATE INDEX auth_sessions_user_id_idx ON auth_sessions (user_id);
CREATE INDEX auth_sessions_revoked_at_idx ON auth_sessions (revoked_at)
    WHERE revoked_at IS NOT NULL;

CREATE TABLE refresh_tokens (
    jti         TEXT NOT NULL PRIMARY KEY,
    session_id  TEXT NOT NULL REFERENCES auth_sessions (id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL,
    issued_at   TEXT NOT NULL,
    -- Set when the token is retired by a rotation; a retired token presented again is a replay.
    used_at     TEXT NULL,
    replaced_by TEXT NULL
) STRICT;

CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);

-- No foreign keys: the audit trail outlives the users it mentions.
CREATE TABLE audit_log (
    id          TEXT NOT NULL PRIMARY KEY,
    actor_id    TEXT NULL,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    -- JSON document.
    details     TEXT NOT NULL DEFAULT '{}',
    created_at  TEXT NOT NULL,
    CONSTRAINT audit_log_details_check CHECK (json_valid(details))
) STRICT;

CREATE INDEX audit_log_created_at_idx ON audit_log (created_at DESC, id DESC);
