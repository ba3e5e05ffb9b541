//! The LLM response cache, and the claim that lets one instance of many call the provider
//! for an answer the others wait for.

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

/// The claim on the provider call for one response-cache key, shared by every instance of a
/// deployment: the holder calls the provider and fills the [`ResponseCache`]; the others
/// wait for the answer to appear there instead of calling the provider too.
///
/// A claim expires by itself after its lease, so a holder that dies stops no one for longer.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait FlightLock: Send + Sync {
    /// Claims `key` for `holder` for at most `lease`; true when `holder` holds it now, false
    /// when another holder does.
    async fn try_claim(&self, key: &str, holder: &str, lease: Duration) -> PortResult<bool>;

    /// Gives `key` up if `holder` still holds it (a claim taken over after its lease expired
    /// is left alone).
    async fn release(&self, key: &str, holder: &str) -> PortResult<()>;
}

/// The claim of a single instance: always granted, since the instance's own flight map
/// already joins identical calls. Used without Redis and while Redis is unreachable.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalFlightLock;

#[async_trait]
impl FlightLock for LocalFlightLock {
    async fn try_claim(&self, _key: &str, _holder: &str, _lease: Duration) -> PortResult<bool> {
        Ok(true)
    }

    async fn release(&self, _key: &str, _holder: &str) -> PortResult<()> {
        Ok(())
    }
}
