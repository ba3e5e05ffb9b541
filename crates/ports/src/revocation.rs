//! The revocation fast path: a mirror of revoked sessions, checked on every request.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::PortResult;

/// A fast set of revoked session ids. The durable record lives in
/// [`crate::AuthSessionRepository`]; implementations only mirror it, so losing an entry
/// here is repaired by the next synchronisation, never by accepting a revoked token for long.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait RevocationList: Send + Sync {
    /// Marks a session revoked until `until` (after which its tokens expire anyway).
    async fn revoke_session(&self, session_id: Uuid, until: DateTime<Utc>) -> PortResult<()>;

    /// True when the session is revoked.
    ///
    /// Errors: `Unavailable` when the list cannot be consulted; callers must then reject.
    async fn is_session_revoked(&self, session_id: Uuid) -> PortResult<bool>;
}
