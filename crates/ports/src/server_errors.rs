//! The shared record of server errors behind `GET /admin/errors`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::PortResult;

/// How many server errors a store keeps: the newest ones; older ones are dropped as new ones
/// arrive (SPEC §4: the last 100).
pub const SERVER_ERRORS_KEPT: u32 = 100;

/// One 5xx response, as recorded by the instance that sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerError {
    /// Chosen by the recorder; recording the same id twice stores it once.
    pub id: Uuid,
    /// The server instance that answered (host, process and a random part).
    pub instance: String,
    /// Request id, to find the log lines.
    pub request_id: String,
    /// HTTP method.
    pub method: String,
    /// Route template.
    pub route: String,
    /// Status sent.
    pub status: u16,
    /// Internal detail (never sent to the failing client).
    pub detail: String,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
}

/// Server errors of every instance of a deployment, kept where each instance can read them.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ServerErrorLog: Send + Sync {
    /// Stores `errors` in one transaction and drops all but the newest
    /// [`SERVER_ERRORS_KEPT`]. An error whose id is already stored is skipped, so a retried
    /// call stores nothing twice.
    ///
    /// Errors: `Unavailable` when the store cannot be reached; nothing is written then.
    async fn record(&self, errors: &[ServerError]) -> PortResult<()>;

    /// The `limit` most recent errors of every instance, newest first (by `occurred_at`,
    /// then by arrival).
    ///
    /// Errors: `Unavailable` when the store cannot be reached.
    async fn recent(&self, limit: u32) -> PortResult<Vec<ServerError>>;
}
