//! [`DatabaseHealth`] on SQLite.

use std::time::{Duration, Instant};

use ainative_ports::{DatabaseHealth, PoolStats, PortResult};
use async_trait::async_trait;

use crate::error::map_err;
use crate::migrate::all_applied;
use crate::store::SqliteStore;

#[async_trait]
impl DatabaseHealth for SqliteStore {
    async fn ping(&self) -> PortResult<Duration> {
        let started = Instant::now();
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(started.elapsed())
    }

    async fn migrations_applied(&self) -> PortResult<bool> {
        all_applied(&self.pool).await
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.pool.options().get_max_connections(),
        }
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }
}
