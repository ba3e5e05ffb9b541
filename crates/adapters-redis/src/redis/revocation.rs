//! [`RedisRevocationList`]: the revocation mirror shared by every instance.

use std::sync::{Arc, LazyLock};

use ainative_ports::{Clock, PortResult, RevocationList, SystemClock};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_redis::redis::{self, Script};
use uuid::Uuid;

use super::RedisPool;

/// Record a revocation, keeping the later end; see the script.
static REVOKE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("scripts/revoke.lua")));

/// Revoked session ids in Redis: one key `{prefix}rv:{session id}` per revoked session,
/// holding the end of the revocation and expiring then (`PEXPIREAT`, by the Redis clock).
///
/// - A revocation is visible to every instance's next check.
/// - Revoking again keeps the later end: a revocation is never shortened. An `until` already
///   past (by the [`Clock`] given at construction) records nothing and costs no round trip.
/// - Every call is bounded by the pool's timeout; failures are `Unavailable`.
/// - It is only a mirror: the durable record is the session repository, and the fallback
///   decorator also keeps every revocation in process.
#[derive(Clone)]
pub struct RedisRevocationList {
    pool: RedisPool,
    clock: Arc<dyn Clock>,
}

impl RedisRevocationList {
    /// A list on `pool`, on the system clock.
    pub fn new(pool: RedisPool) -> Self {
        Self::with_clock(pool, Arc::new(SystemClock))
    }

    /// A list on `pool` deciding what is past with `clock`.
    pub fn with_clock(pool: RedisPool, clock: Arc<dyn Clock>) -> Self {
        Self { pool, clock }
    }

    fn key(&self, session_id: Uuid) -> String {
        self.pool.key(
            "rv",
            session_id
                .as_hyphenated()
                .encode_lower(&mut Uuid::encode_buffer()),
        )
    }
}

impl std::fmt::Debug for RedisRevocationList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisRevocationList")
            .field("pool", &self.pool)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl RevocationList for RedisRevocationList {
    #[tracing::instrument(name = "redis.revocation.revoke_session", level = "debug", skip_all, fields(db.system = "redis"))]
    async fn revoke_session(&self, session_id: Uuid, until: DateTime<Utc>) -> PortResult<()> {
        if until <= self.clock.now() {
            return Ok(());
        }
        let key = self.key(session_id);
        let until_ms = until.timestamp_millis();
        self.pool
            .run("revoke session", |mut conn| {
                let mut invocation = REVOKE.key(&key);
                invocation.arg(until_ms);
                async move { invocation.invoke_async::<()>(&mut conn).await }
            })
            .await
    }

    #[tracing::instrument(name = "redis.revocation.is_session_revoked", level = "debug", skip_all, fields(db.system = "redis"))]
    async fn is_session_revoked(&self, session_id: Uuid) -> PortResult<bool> {
        let key = self.key(session_id);
        self.pool
            .run("revocation check", |mut conn| {
                let cmd = redis::cmd("EXISTS").arg(&key).to_owned();
                async move { cmd.query_async::<bool>(&mut conn).await }
            })
            .await
    }
}
