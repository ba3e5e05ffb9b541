//! Login sessions: refresh-token families with rotation and reuse detection.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::PortResult;

/// A login session (a refresh-token family).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSession {
    /// Session id; carried as `sid` in every token of the family.
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// Start of the session.
    pub created_at: DateTime<Utc>,
    /// Absolute end of the family: rotation never extends it.
    pub expires_at: DateTime<Utc>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A refresh token to record. Only a hash of the token is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefreshToken {
    /// The token's `jti`.
    pub jti: Uuid,
    /// Hex SHA-256 of the token string.
    pub token_hash: String,
    /// Issue time.
    pub issued_at: DateTime<Utc>,
}

/// What happened when a refresh token was presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotateOutcome {
    /// The token was current; it is now retired and `next` is the current token.
    Rotated(AuthSession),
    /// The token had already been retired at `retired_at`: a replay. Nothing was changed.
    Reused {
        /// The family.
        session: AuthSession,
        /// When the token was first used.
        retired_at: DateTime<Utc>,
    },
    /// The family is revoked.
    Revoked,
    /// The family's absolute lifetime is over.
    Expired,
    /// No such token (unknown `jti` or the hash does not match).
    Unknown,
}

/// A revoked session that has not expired yet, for the revocation fast path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevokedSession {
    /// Session id.
    pub id: Uuid,
    /// Until when the revocation matters (the session's absolute end).
    pub expires_at: DateTime<Utc>,
}

/// Durable storage of sessions and their refresh tokens. This is the source of truth for
/// revocation; a [`crate::RevocationList`] only mirrors it.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait AuthSessionRepository: Send + Sync {
    /// Records a new session and its first refresh token in one transaction.
    ///
    /// Errors: `NotFound` when the user does not exist; `Conflict::Duplicate("session")` or
    /// `Conflict::Duplicate("refresh_token")` on a duplicate id.
    async fn start(&self, session: AuthSession, first: NewRefreshToken) -> PortResult<()>;

    /// Atomically retires the presented token and records `next` in its family, if and only if
    /// the presented token is the current one. Of many concurrent calls with one token at most
    /// one returns `Rotated`; the others see `Reused`. Checks, in order: unknown token or hash
    /// mismatch (`Unknown`), revoked family (`Revoked`), family ended (`now >= expires_at`: `Expired`), already retired (`Reused`).
    async fn rotate(
        &self,
        presented_jti: Uuid,
        presented_hash: &str,
        next: NewRefreshToken,
        now: DateTime<Utc>,
    ) -> PortResult<RotateOutcome>;

    /// The session with this id.
    async fn find(&self, id: Uuid) -> PortResult<Option<AuthSession>>;

    /// Revokes one session. Returns false when it was already revoked.
    ///
    /// Errors: `NotFound` when the session does not exist.
    async fn revoke(&self, id: Uuid, at: DateTime<Utc>) -> PortResult<bool>;

    /// Revoked sessions whose lifetime is not over at `now`, revoked at or after `since`
    /// (all of them when `since` is `None`). Feeds the revocation fast path.
    async fn revoked_sessions(
        &self,
        since: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> PortResult<Vec<RevokedSession>>;
}
