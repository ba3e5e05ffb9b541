//! The fallback response cache.

use std::time::Duration;

use ainative_ports::{PortResult, ResponseCache};
use async_trait::async_trait;

use super::Fallback;

#[async_trait]
impl<R, M> ResponseCache for Fallback<R, M>
where
    R: ResponseCache,
    M: ResponseCache,
{
    async fn get(&self, key: &str) -> PortResult<Option<String>> {
        self.route("cache get", self.redis.get(key), self.memory.get(key))
            .await
    }

    async fn put(&self, key: &str, value: &str, ttl: Duration) -> PortResult<()> {
        self.route(
            "cache put",
            self.redis.put(key, value, ttl),
            self.memory.put(key, value, ttl),
        )
        .await
    }
}
