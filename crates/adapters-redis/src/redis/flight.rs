//! [`RedisFlightLock`]: who calls the provider for a response-cache key, across instances.

use std::sync::LazyLock;
use std::time::Duration;

use ainative_ports::{FlightLock, PortResult};
use async_trait::async_trait;
use deadpool_redis::redis::{self, Script};

use super::{millis_ceil, RedisPool};

/// Delete the claim only if the caller still holds it; see the script.
static RELEASE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/release_flight.lua")));

/// Flight claims in Redis under `{prefix}fl:{key}`: `SET NX PX` holding the holder's id, so a
/// claim ends when released or when its lease runs out, whichever comes first.
#[derive(Debug, Clone)]
pub struct RedisFlightLock {
    pool: RedisPool,
}

impl RedisFlightLock {
    /// Claims on `pool`.
    pub fn new(pool: RedisPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl FlightLock for RedisFlightLock {
    #[tracing::instrument(name = "redis.flight.claim", level = "debug", skip_all, fields(db.system = "redis"))]
    async fn try_claim(&self, key: &str, holder: &str, lease: Duration) -> PortResult<bool> {
        let cmd = redis::cmd("SET")
            .arg(self.pool.key("fl", key))
            .arg(holder)
            .arg("NX")
            .arg("PX")
            .arg(millis_ceil(lease).max(1))
            .to_owned();
        self.pool
            .run("flight claim", |mut conn| {
                let cmd = cmd.clone();
                async move {
                    let reply: Option<String> = cmd.query_async(&mut conn).await?;
                    Ok(reply.is_some())
                }
            })
            .await
    }

    #[tracing::instrument(name = "redis.flight.release", level = "debug", skip_all, fields(db.system = "redis"))]
    async fn release(&self, key: &str, holder: &str) -> PortResult<()> {
        let key = self.pool.key("fl", key);
        self.pool
            .run("flight release", |mut conn| {
                let mut invocation = RELEASE.key(&key);
                invocation.arg(holder);
                async move {
                    invocation.invoke_async::<i64>(&mut conn).await?;
                    Ok(())
                }
            })
            .await
    }
}
