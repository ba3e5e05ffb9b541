//! Storage of per-user model credentials (SPEC §10.4). The store holds only the sealed
//! secret; sealing and opening belong to the core (ai-gateway `credentials::Keyring`).

use ainative_domain::{CredentialStatus, LlmCredential, NewAuditEntry, Page, Paginated};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::PortResult;

/// An encrypted API key: the id of the key that sealed it and the sealed text (which names
/// the key id again, authenticated).
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecret {
    /// Id of the encryption key.
    pub key_id: String,
    /// `v1:<key id>:<base64 nonce and ciphertext>`.
    pub ciphertext: String,
}

impl std::fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedSecret")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// A credential with its sealed secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCredential {
    /// The credential.
    pub credential: LlmCredential,
    /// Its sealed API key.
    pub sealed: SealedSecret,
}

/// A credential to insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCredential {
    /// Chosen by the caller (the secret's associated data names it).
    pub id: Uuid,
    /// Owner.
    pub owner_id: Uuid,
    /// Label.
    pub label: String,
    /// Provider kind.
    pub provider: String,
    /// Endpoint.
    pub base_url: String,
    /// Model.
    pub model: String,
    /// Masked hint of the key.
    pub key_hint: String,
    /// The sealed key.
    pub sealed: SealedSecret,
    /// Creation time.
    pub at: DateTime<Utc>,
}

/// An owner's change; `None` keeps a field. Changing the endpoint, the model or the key
/// clears the verification.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CredentialEdit {
    /// New label.
    pub label: Option<String>,
    /// New endpoint.
    pub base_url: Option<String>,
    /// New model.
    pub model: Option<String>,
    /// New key: sealed and its hint.
    pub secret: Option<(SealedSecret, String)>,
}

/// Filters of the admin list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CredentialFilter {
    /// Only this owner's.
    pub owner_id: Option<Uuid>,
    /// Only in this status.
    pub status: Option<CredentialStatus>,
}

/// An administrator's change; `None` keeps a field, `Some(None)` clears a limit (back to the
/// configured default).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AdminCredentialChange {
    /// New status; a suspension stores `suspension_reason`, an activation clears it.
    pub status: Option<CredentialStatus>,
    /// Reason of a suspension.
    pub suspension_reason: Option<String>,
    /// Requests per minute.
    pub rate_limit_rpm: Option<Option<u32>>,
    /// Concurrent requests.
    pub max_concurrent_requests: Option<Option<u32>>,
}

/// The outcome of a verification call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// When it ran.
    pub at: DateTime<Utc>,
    /// `None` when the call succeeded, else the error category.
    pub error_kind: Option<String>,
}

/// Persistence of model credentials.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait LlmCredentialRepository: Send + Sync {
    /// Inserts a credential (active, unverified, default limits).
    ///
    /// Errors: `Conflict::Duplicate` when the id exists.
    async fn create(&self, credential: NewCredential) -> PortResult<LlmCredential>;

    /// The credential with this id and its sealed key, if any.
    async fn find(&self, id: Uuid) -> PortResult<Option<StoredCredential>>;

    /// A page of credentials matching the filter, oldest first.
    async fn list(
        &self,
        filter: CredentialFilter,
        page: Page,
    ) -> PortResult<Paginated<LlmCredential>>;

    /// Applies an owner's change to a credential of `owner_id`.
    ///
    /// Errors: `NotFound` when there is no such credential of this owner.
    async fn edit(
        &self,
        id: Uuid,
        owner_id: Uuid,
        edit: CredentialEdit,
        at: DateTime<Utc>,
    ) -> PortResult<LlmCredential>;

    /// Deletes a credential of `owner_id`.
    ///
    /// Errors: `NotFound` when there is no such credential of this owner.
    async fn delete(&self, id: Uuid, owner_id: Uuid) -> PortResult<()>;

    /// Records the outcome of a verification.
    ///
    /// Errors: `NotFound`.
    async fn record_verification(
        &self,
        id: Uuid,
        verification: Verification,
    ) -> PortResult<LlmCredential>;

    /// Counts one turn routed through the credential (`total_requests`, `last_used_at`).
    async fn record_use(&self, id: Uuid, at: DateTime<Utc>) -> PortResult<()>;

    /// Applies an administrator's change and writes its audit row in one transaction.
    ///
    /// Errors: `NotFound`; nothing is written then.
    async fn admin_change(
        &self,
        id: Uuid,
        change: AdminCredentialChange,
        audit: NewAuditEntry,
    ) -> PortResult<LlmCredential>;

    /// Up to `limit` credentials whose key is not `key_id`, with ids after `after`, by id:
    /// `(id, owner_id, sealed)`. Key rotation walks them.
    async fn sealed_not_under(
        &self,
        key_id: &str,
        after: Option<Uuid>,
        limit: u32,
    ) -> PortResult<Vec<(Uuid, Uuid, SealedSecret)>>;

    /// The distinct key ids the stored credentials are sealed with (checked at start-up:
    /// a key missing from the configuration is an error at boot, not at the first turn).
    async fn key_ids_in_use(&self) -> PortResult<Vec<String>>;

    /// Replaces the sealed key of `id` if it is still `old` (a concurrent change of the key
    /// wins); true when replaced.
    async fn reseal(&self, id: Uuid, old: &SealedSecret, new: &SealedSecret) -> PortResult<bool>;
}
