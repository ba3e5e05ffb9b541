//! [`RedisRateLimiter`]: one sliding-window limit shared by every instance.

use std::sync::LazyLock;
use std::time::Duration;

use ainative_ports::{PortResult, RateDecision, RateLimiter};
use async_trait::async_trait;
use deadpool_redis::redis::Script;
use uuid::Uuid;

use super::{millis_ceil, RedisPool};

/// Check (and count) in one round trip; see the script for the algorithm.
static SLIDING_WINDOW: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/sliding_window.lua")));

/// A sliding-window request limiter in Redis: the limit is global across instances.
///
/// - Each key is a sorted set `{prefix}rl:{key}` of the requests counted in the window,
///   scored by the Redis server's clock (`TIME`, read inside the script), so instances
///   whose clocks disagree still share one window.
/// - `check` prunes, decides and counts in one Lua script: atomic, one round trip.
///   Same semantics as [`crate::InMemoryRateLimiter`]: only allowed requests count, at most
///   `limit` requests pass in any interval of one window (no fixed-window double burst),
///   `reset_secs` is 0 while a slot is free, otherwise the whole seconds (rounded up, at
///   least 1) until the oldest counted request leaves the window; `limit == 0` is
///   unlimited and touches nothing.
/// - Keys expire one second after their last counted request has left the window.
/// - Every call is bounded by the pool's timeout; failures are `Unavailable`.
#[derive(Debug, Clone)]
pub struct RedisRateLimiter {
    pool: RedisPool,
}

impl RedisRateLimiter {
    /// A limiter on `pool`.
    pub fn new(pool: RedisPool) -> Self {
        Self { pool }
    }

    async fn run(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
        count: bool,
    ) -> PortResult<RateDecision> {
        if limit == 0 {
            return Ok(RateDecision {
                allowed: true,
                limit: 0,
                remaining: 0,
                reset_secs: 0,
            });
        }
        let key = self.pool.key("rl", key);
        let window_ms = millis_ceil(window);
        let member = Uuid::new_v4().simple().to_string();
        let what = if count {
            "rate limit check"
        } else {
            "rate limit peek"
        };
        let (allowed, remaining, reset_secs): (u8, u32, u64) = self
            .pool
            .run(what, |mut conn| {
                let mut invocation = SLIDING_WINDOW.key(&key);
                invocation
                    .arg(limit)
                    .arg(window_ms)
                    .arg(if count { "1" } else { "0" })
                    .arg(&member);
                async move { invocation.invoke_async(&mut conn).await }
            })
            .await?;
        Ok(RateDecision {
            allowed: allowed == 1,
            limit,
            remaining,
            reset_secs,
        })
    }
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    #[tracing::instrument(name = "redis.rate_limiter.check", level = "debug", skip_all, fields(db.system = "redis"))]
    async fn check(&self, key: &str, limit: u32, window: Duration) -> PortResult<RateDecision> {
        self.run(key, limit, window, true).await
    }

    #[tracing::instrument(name = "redis.rate_limiter.peek", level = "debug", skip_all, fields(db.system = "redis"))]
    async fn peek(&self, key: &str, limit: u32, window: Duration) -> PortResult<RateDecision> {
        self.run(key, limit, window, false).await
    }
}
