//! [`RedisResponseCache`]: the LLM response cache shared by every instance.

use std::time::Duration;

use ainative_ports::{PortResult, ResponseCache};
use async_trait::async_trait;
use deadpool_redis::redis;

use super::{millis_ceil, RedisPool};

/// Cached responses in Redis under `{prefix}cache:{key}`, each with its own time to live
/// (`SET … PX`, rounded up to whole milliseconds).
///
/// - A put replaces any earlier value of the key; a put with a zero `ttl` leaves nothing
///   cached under the key.
/// - Memory is bounded by Redis's own `maxmemory` policy (expiring keys are evicted first
///   under `volatile-*` and `allkeys-*` policies).
/// - Every call is bounded by the pool's timeout; failures are `Unavailable`.
#[derive(Debug, Clone)]
pub struct RedisResponseCache {
    pool: RedisPool,
}

impl RedisResponseCache {
    /// A cache on `pool`.
    pub fn new(pool: RedisPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl ResponseCache for RedisResponseCache {
    #[tracing::instrument(name = "redis.cache.get", level = "debug", skip_all, fields(db.system = "redis"))]
    async fn get(&self, key: &str) -> PortResult<Option<String>> {
        let key = self.pool.key("cache", key);
        self.pool
            .run("cache get", |mut conn| {
                let cmd = redis::cmd("GET").arg(&key).to_owned();
                async move { cmd.query_async::<Option<String>>(&mut conn).await }
            })
            .await
    }

    #[tracing::instrument(name = "redis.cache.put", level = "debug", skip_all, fields(db.system = "redis"))]
    async fn put(&self, key: &str, value: &str, ttl: Duration) -> PortResult<()> {
        let key = self.pool.key("cache", key);
        let cmd = if ttl.is_zero() {
            redis::cmd("DEL").arg(&key).to_owned()
        } else {
            redis::cmd("SET")
                .arg(&key)
                .arg(value)
                .arg("PX")
                .arg(millis_ceil(ttl))
                .to_owned()
        };
        self.pool
            .run("cache put", |mut conn| {
                let cmd = cmd.clone();
                async move { cmd.query_async::<()>(&mut conn).await }
            })
            .await
    }
}
