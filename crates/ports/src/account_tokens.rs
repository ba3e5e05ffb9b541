//! One-time account tokens: e-mail verification and password reset links.

use std::fmt;
use std::str::FromStr;

use ainative_domain::NewAuditEntry;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::PortResult;

/// What a token may be used for; a token of one purpose is worthless for the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenPurpose {
    /// Confirms that the user reads mail at their address.
    VerifyEmail,
    /// Sets a new password.
    ResetPassword,
}

impl TokenPurpose {
    /// The stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
        }
    }
}

impl fmt::Display for TokenPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TokenPurpose {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "verify_email" => Ok(Self::VerifyEmail),
            "reset_password" => Ok(Self::ResetPassword),
            other => Err(format!("unknown token purpose '{other}'")),
        }
    }
}

/// A token to store. Only the hash of the token travels here, never the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccountToken {
    /// Chosen by the caller.
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// Purpose.
    pub purpose: TokenPurpose,
    /// Hex SHA-256 of the token string.
    pub token_hash: String,
    /// A fingerprint of the password hash at issue time: a password change kills the token.
    pub password_fingerprint: String,
    /// The address the link was sent to.
    pub sent_to: String,
    /// Issue time.
    pub created_at: DateTime<Utc>,
    /// End of validity.
    pub expires_at: DateTime<Utc>,
}

/// A stored, unconsumed and unexpired token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountToken {
    /// Id.
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// Purpose.
    pub purpose: TokenPurpose,
    /// The password fingerprint recorded at issue time.
    pub password_fingerprint: String,
    /// The address the link was sent to.
    pub sent_to: String,
    /// End of validity.
    pub expires_at: DateTime<Utc>,
}

/// Storage of one-time account tokens.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait AccountTokenRepository: Send + Sync {
    /// Stores a token and deletes every earlier token of the same user and purpose, in one
    /// transaction: only the newest link works.
    ///
    /// Errors: `NotFound` when the user does not exist.
    async fn issue(&self, token: NewAccountToken) -> PortResult<()>;

    /// Deletes the tokens that expired before `now`, consumed or not (they can never be
    /// redeemed again). Answers how many went.
    async fn purge_expired(&self, now: DateTime<Utc>) -> PortResult<u64>;

    /// The token with this hash and purpose, if it is neither consumed nor expired at `now`.
    async fn find_valid(
        &self,
        purpose: TokenPurpose,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> PortResult<Option<AccountToken>>;

    /// Consumes a verification token and marks its user verified, in one transaction.
    ///
    /// Errors: `NotFound` when the token was consumed (or deleted) in the meantime; nothing
    /// is written then.
    async fn redeem_verification(
        &self,
        token_id: Uuid,
        user_id: Uuid,
        at: DateTime<Utc>,
    ) -> PortResult<()>;

    /// Consumes a reset token, sets the new password hash, marks the address verified (the
    /// link was read there), deletes the user's other tokens, revokes every session of the
    /// user and writes the audit row, in one transaction. Returns the revoked session ids.
    ///
    /// Errors: `NotFound` when the token was consumed (or deleted) in the meantime; nothing
    /// is written then.
    async fn redeem_reset(
        &self,
        token_id: Uuid,
        user_id: Uuid,
        password_hash: &str,
        audit: NewAuditEntry,
    ) -> PortResult<Vec<Uuid>>;
}
