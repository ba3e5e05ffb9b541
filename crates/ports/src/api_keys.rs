//! Storage of API keys (SPEC §10.3). Each key is bound to a session of its own (same id), so
//! revoking it (delete, owner deactivated, password changed) goes through the session
//! revocation every instance already mirrors.

use ainative_domain::{NewAuditEntry, Scopes};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::PortResult;

/// A stored API key; the secret itself is never stored, only its keyed hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Key id; also the id of its session.
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// The owner's label.
    pub name: String,
    /// The first characters of the key (`ain_AbCd1234`), to recognise it in lists.
    pub prefix: String,
    /// What the key may do (further narrowed by the owner's roles at each request).
    pub scopes: Scopes,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// End of validity; `None` = until revoked.
    pub expires_at: Option<DateTime<Utc>>,
    /// Last use, written at most about once a minute.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked (deleted, owner deactivated, password changed).
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A key to insert, with the hash of its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    /// The key as it will be read back.
    pub key: ApiKey,
    /// Hex HMAC-SHA256 of the whole key under the server's pepper.
    pub secret_hash: String,
    /// End of its session: `expires_at`, or far in the future.
    pub session_expires_at: DateTime<Utc>,
}

/// Persistence of API keys.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ApiKeyRepository: Send + Sync {
    /// Inserts the key and its session in one transaction.
    ///
    /// Errors: `NotFound` when the user does not exist; `Conflict::Duplicate("api_key")` on a
    /// duplicate id or hash.
    async fn create(&self, key: NewApiKey) -> PortResult<ApiKey>;

    /// The key whose secret hashes to `secret_hash` (revoked ones included).
    async fn find_by_hash(&self, secret_hash: &str) -> PortResult<Option<ApiKey>>;

    /// One key.
    async fn find(&self, id: Uuid) -> PortResult<Option<ApiKey>>;

    /// Keys, newest first: of one user, or of everyone when `user_id` is `None`; revoked ones
    /// only when `include_revoked`.
    async fn list(&self, user_id: Option<Uuid>, include_revoked: bool) -> PortResult<Vec<ApiKey>>;

    /// Revokes the key (its session), with the audit row when given, in one transaction.
    /// Returns false when it was already revoked; then nothing is written, audit included.
    ///
    /// Errors: `NotFound` when there is no such key.
    async fn revoke(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        audit: Option<NewAuditEntry>,
    ) -> PortResult<bool>;

    /// Records a use at `at`.
    async fn touch(&self, id: Uuid, at: DateTime<Utc>) -> PortResult<()>;
}
