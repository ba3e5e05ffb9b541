//! The LLM response cache, and the claim that lets one instance of many call the provider
//! for an answer the others wait for.

use std::sync::Arc;
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

/// What [`FlightLock::claim`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The caller holds the claim, and the response cache had no answer when it was taken:
    /// it calls the provider, then [`FlightLock::land`]s.
    Held,
    /// Another holder has it: wait, then claim again.
    Taken,
    /// The response cache holds the answer (serialised as cached); no claim was taken.
    Answered(String),
}

/// The claim on the provider call for one response-cache key, shared by every instance of a
/// deployment: the holder calls the provider and fills the [`ResponseCache`]; the others
/// wait for the answer to appear there instead of calling the provider too.
///
/// Each method is one step against the shared store (a look at the cache and the claim;
/// the answer's storage and the release): a flight costs two round trips besides the
/// caller's own cache read. A claim expires by itself after its lease, so a holder that
/// dies stops no one for longer.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait FlightLock: Send + Sync {
    /// The cached answer of `key` if there is one; otherwise claims `key` for `holder` for at
    /// most `lease` ([`Claim::Held`]), or finds another holder has it ([`Claim::Taken`]).
    async fn claim(&self, key: &str, holder: &str, lease: Duration) -> PortResult<Claim>;

    /// Stores `answer` (when given) in the response cache for `ttl`, then gives `key` up if
    /// `holder` still holds it (a claim taken over after its lease expired is left alone).
    async fn land(
        &self,
        key: &str,
        holder: &str,
        answer: Option<String>,
        ttl: Duration,
    ) -> PortResult<()>;
}

/// The claim of a single instance over its own cache: always granted (the instance's own
/// flight map already joins identical calls), answered from `cache` when it holds the key.
/// Used without Redis and while Redis is unreachable.
#[derive(Clone)]
pub struct LocalFlightLock {
    cache: Arc<dyn ResponseCache>,
}

impl LocalFlightLock {
    /// Claims over `cache`, which [`FlightLock::land`] fills.
    pub fn new(cache: Arc<dyn ResponseCache>) -> Self {
        Self { cache }
    }
}

impl std::fmt::Debug for LocalFlightLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalFlightLock").finish_non_exhaustive()
    }
}

#[async_trait]
impl FlightLock for LocalFlightLock {
    async fn claim(&self, key: &str, _holder: &str, _lease: Duration) -> PortResult<Claim> {
        Ok(match self.cache.get(key).await? {
            Some(answer) => Claim::Answered(answer),
            None => Claim::Held,
        })
    }

    async fn land(
        &self,
        key: &str,
        _holder: &str,
        answer: Option<String>,
        ttl: Duration,
    ) -> PortResult<()> {
        match answer {
            Some(answer) => self.cache.put(key, &answer, ttl).await,
            None => Ok(()),
        }
    }
}
