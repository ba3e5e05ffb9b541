//! [`RedisFlightLock`]: who calls the provider for a response-cache key, across instances.

use std::sync::LazyLock;
use std::time::Duration;

use ainative_ports::{Claim, FlightLock, PortError, PortResult};
use async_trait::async_trait;
use deadpool_redis::redis::{self, Script};

use super::{millis_ceil, RedisPool};

/// The look at the cache and the claim, in one step; see the script.
static CLAIM: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/claim_flight.lua")));

/// The answer's storage and the release, in one step; see the script.
static LAND: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/land_flight.lua")));

/// Flight claims in Redis under `{prefix}fl:{key}`: `SET NX PX` holding the holder's id, so a
/// claim ends when released or when its lease runs out, whichever comes first. Answers go to
/// the [`super::RedisResponseCache`] of the same pool (`{prefix}cache:{key}`).
///
/// Each call is one script over two keys, so the keys of a deployment must live on one
/// Redis node (no Cluster slot spreading).
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
    async fn claim(&self, key: &str, holder: &str, lease: Duration) -> PortResult<Claim> {
        let (cache_key, claim_key) = (self.pool.key("cache", key), self.pool.key("fl", key));
        let lease = millis_ceil(lease).max(1);
        let reply = self
            .pool
            .run("flight claim", |mut conn| {
                let mut invocation = CLAIM.key(&cache_key);
                invocation.key(&claim_key).arg(holder).arg(lease);
                async move { invocation.invoke_async::<redis::Value>(&mut conn).await }
            })
            .await?;
        match reply {
            redis::Value::Int(1) => Ok(Claim::Held),
            redis::Value::Int(0) => Ok(Claim::Taken),
            redis::Value::BulkString(bytes) => String::from_utf8(bytes)
                .map(Claim::Answered)
                .map_err(|e| PortError::other_from("a cached answer is not UTF-8", e)),
            other => Err(PortError::Other(
                format!("redis flight claim: unexpected reply {other:?}").into(),
            )),
        }
    }

    #[tracing::instrument(name = "redis.flight.land", level = "debug", skip_all, fields(db.system = "redis"))]
    async fn land(
        &self,
        key: &str,
        holder: &str,
        answer: Option<String>,
        ttl: Duration,
    ) -> PortResult<()> {
        let (cache_key, claim_key) = (self.pool.key("cache", key), self.pool.key("fl", key));
        // -1: nothing to store; 0: nothing may stay cached (as a put with a zero ttl).
        let ttl = match answer {
            None => -1,
            Some(_) => i64::try_from(millis_ceil(ttl)).unwrap_or(i64::MAX),
        };
        let answer = answer.unwrap_or_default();
        self.pool
            .run("flight land", |mut conn| {
                let mut invocation = LAND.key(&cache_key);
                invocation.key(&claim_key).arg(holder).arg(&answer).arg(ttl);
                async move {
                    invocation.invoke_async::<i64>(&mut conn).await?;
                    Ok(())
                }
            })
            .await
    }
}
