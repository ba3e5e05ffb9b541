//! Health of the database, for `/health` and readiness.

use async_trait::async_trait;
use std::time::Duration;

use crate::PortResult;

/// Connection pool figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PoolStats {
    /// Open connections.
    pub size: u32,
    /// Idle connections.
    pub idle: u32,
    /// Maximum connections.
    pub max: u32,
}

/// Probes of the database.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait DatabaseHealth: Send + Sync {
    /// Runs a trivial query; returns its round-trip time.
    async fn ping(&self) -> PortResult<Duration>;

    /// True when every known migration is applied.
    async fn migrations_applied(&self) -> PortResult<bool>;

    /// Current pool figures.
    fn pool_stats(&self) -> PoolStats;

    /// `postgres` or `sqlite`.
    fn backend(&self) -> &'static str;
}

/// One migration and whether it is applied.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MigrationState {
    /// Version number (the file name prefix).
    pub version: i64,
    /// Description (the rest of the file name).
    pub description: String,
    /// Whether it is applied.
    pub applied: bool,
}

/// Schema migrations, for `ainative migrate` and `AUTO_MIGRATE`.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait SchemaManager: Send + Sync {
    /// Applies every pending migration; returns the versions applied now.
    async fn migrate_up(&self) -> PortResult<Vec<i64>>;

    /// Reverts the `steps` most recent migrations; returns the versions reverted.
    async fn migrate_down(&self, steps: u32) -> PortResult<Vec<i64>>;

    /// Every known migration with its state, oldest first.
    async fn migration_status(&self) -> PortResult<Vec<MigrationState>>;
}
