//! [`RedisLoginThrottle`]: failed-login throttling shared by every instance.

use std::sync::LazyLock;
use std::time::Duration;

use ainative_ports::{LoginThrottle, PortResult, ThrottleDecision};
use async_trait::async_trait;
use deadpool_redis::redis::{self, Script};
use uuid::Uuid;

use super::{millis_ceil, RedisPool};

/// Check every key and count on all of them in one round trip; see the script.
static LOGIN_ATTEMPT: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/login_attempt.lua")));

/// Sliding-log login throttling per key (account, IP, …) in Redis: global across instances.
///
/// - Each key is a sorted set `{prefix}lt:{key}` of attempts scored by the Redis server's
///   clock.
/// - `attempt` checks every key and, when none is over the limit, counts on all of them in
///   one Lua script: atomic across instances, so parallel attempts cannot slip past the
///   limit. Same semantics as [`crate::InMemoryLoginThrottle`]: a refused attempt counts
///   nowhere and reports the seconds (rounded up, at least 1) until the slowest blocking key
///   frees a slot; a key named twice counts once; `limit == 0` or no key allows without
///   counting.
/// - `check` runs the same script in check mode: the same answer, nothing counted.
/// - `reset` deletes the key; `release` removes its newest attempt (`ZPOPMAX`).
/// - Every call is bounded by the pool's timeout; failures are `Unavailable`.
#[derive(Debug, Clone)]
pub struct RedisLoginThrottle {
    pool: RedisPool,
}

impl RedisLoginThrottle {
    /// A throttle on `pool`.
    pub fn new(pool: RedisPool) -> Self {
        Self { pool }
    }

    /// Runs the attempt script; with `check_only` it counts nothing.
    async fn run_script(
        &self,
        keys: &[String],
        limit: u32,
        window: Duration,
        check_only: bool,
    ) -> PortResult<ThrottleDecision> {
        if limit == 0 || keys.is_empty() {
            return Ok(ThrottleDecision::Allowed);
        }
        let mut distinct: Vec<&str> = keys.iter().map(String::as_str).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let keys: Vec<String> = distinct
            .into_iter()
            .map(|key| self.pool.key("lt", key))
            .collect();
        let window_ms = millis_ceil(window);
        let member = Uuid::new_v4().simple().to_string();
        let mode = if check_only { "check" } else { "count" };
        let retry_after_secs: u64 = self
            .pool
            .run("login attempt", |mut conn| {
                let mut invocation = LOGIN_ATTEMPT.prepare_invoke();
                for key in &keys {
                    invocation.key(key);
                }
                invocation.arg(limit).arg(window_ms).arg(&member).arg(mode);
                async move { invocation.invoke_async(&mut conn).await }
            })
            .await?;
        Ok(match retry_after_secs {
            0 => ThrottleDecision::Allowed,
            retry_after_secs => ThrottleDecision::Throttled { retry_after_secs },
        })
    }
}

#[async_trait]
impl LoginThrottle for RedisLoginThrottle {
    #[tracing::instrument(name = "redis.throttle.attempt", level = "debug", skip_all, fields(db.system = "redis"))]
    async fn attempt(
        &self,
        keys: &[String],
        limit: u32,
        window: Duration,
    ) -> PortResult<ThrottleDecision> {
        self.run_script(keys, limit, window, false).await
    }

    #[tracing::instrument(name = "redis.throttle.check", level = "debug", skip_all, fields(db.system = "redis"))]
    async fn check(
        &self,
        keys: &[String],
        limit: u32,
        window: Duration,
    ) -> PortResult<ThrottleDecision> {
        self.run_script(keys, limit, window, true).await
    }

    #[tracing::instrument(name = "redis.throttle.reset", level = "debug", skip_all, fields(db.system = "redis"))]
    async fn reset(&self, key: &str) -> PortResult<()> {
        let key = self.pool.key("lt", key);
        self.pool
            .run("login reset", |mut conn| {
                let cmd = redis::cmd("DEL").arg(&key).to_owned();
                async move { cmd.query_async::<()>(&mut conn).await }
            })
            .await
    }

    #[tracing::instrument(name = "redis.throttle.release", level = "debug", skip_all, fields(db.system = "redis"))]
    async fn release(&self, key: &str) -> PortResult<()> {
        let key = self.pool.key("lt", key);
        self.pool
            .run("login release", |mut conn| {
                let cmd = redis::cmd("ZPOPMAX").arg(&key).to_owned();
                async move { cmd.query_async::<()>(&mut conn).await }
            })
            .await
    }
}
