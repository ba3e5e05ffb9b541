//! The LLM response cache.

use std::time::Duration;

use async_trait::async_trait;

use crate::PortResult;

/// A key-value cache of serialised responses with a time to live.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ResponseCache: Send + Sync {
    /// The cached value of `key`, if present and not expired.
    async fn get(&self, key: &str) -> PortResult<Option<String>>;

    /// Stores `value` under `key` for `ttl`.
    async fn put(&self, key: &str, value: &str, ttl: Duration) -> PortResult<()>;
}
