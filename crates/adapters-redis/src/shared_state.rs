//! [`SharedState`]: every limiting, revocation and cache port of an instance, built at once.

use std::sync::Arc;

use ainative_ports::{
    FlightLock, LocalFlightLock, LoginThrottle, MaterialProgress, RateLimiter, ResponseCache,
    RevocationList, SharedStateHealth,
};

use crate::fallback::{Fallback, RedisMonitor};
use crate::memory::{
    InMemoryLoginThrottle, InMemoryRateLimiter, InMemoryResponseCache, InMemoryRevocationList,
    MemoryStateHealth,
};
use crate::redis::{
    RedisFlightLock, RedisLoginThrottle, RedisMaterialProgress, RedisPool, RedisRateLimiter,
    RedisResponseCache, RedisRevocationList, RedisSettings, RedisSetupError,
};

/// The ports the composition root hands to the core, backed either by process memory or by
/// Redis with in-process fallbacks.
#[derive(Clone)]
pub struct SharedState {
    /// Request rate limits (SPEC §5).
    pub limiter: Arc<dyn RateLimiter>,
    /// Failed-login throttling.
    pub throttle: Arc<dyn LoginThrottle>,
    /// The revocation fast path (fed by the revocation sync and by auth).
    pub revocations: Arc<dyn RevocationList>,
    /// The LLM response cache.
    pub cache: Arc<dyn ResponseCache>,
    /// Who calls the provider for an uncached answer, across instances.
    pub flights: Arc<dyn FlightLock>,
    /// What `/health` reports for this backend.
    pub health: Arc<dyn SharedStateHealth>,
    /// The Redis mode and its counters (for metrics); `None` without Redis.
    pub monitor: Option<Arc<RedisMonitor>>,
}

impl SharedState {
    /// Everything in process (no `REDIS_URL`): limits and the cache are per instance, and
    /// health reports `memory` / `disabled`.
    pub fn in_memory(cache_max_entries: u64) -> Self {
        let cache: Arc<dyn ResponseCache> = Arc::new(InMemoryResponseCache::new(cache_max_entries));
        Self {
            limiter: Arc::new(InMemoryRateLimiter::new()),
            throttle: Arc::new(InMemoryLoginThrottle::new()),
            revocations: Arc::new(InMemoryRevocationList::new()),
            cache: Arc::clone(&cache),
            flights: Arc::new(LocalFlightLock::new(cache)),
            health: Arc::new(MemoryStateHealth),
            monitor: None,
        }
    }

    /// Redis-backed ports, each falling back to its in-process twin while Redis is
    /// unavailable, all sharing one pool and one [`RedisMonitor`] (which is also the health
    /// probe).
    ///
    /// Probes Redis once (bounded by `settings.timeout`). An unreachable Redis does not stop
    /// start-up: the state starts degraded (logged) and switches to Redis when it answers.
    ///
    /// Errors: only invalid settings (a URL that does not parse, a zero pool size or
    /// timeout).
    pub async fn redis(
        settings: &RedisSettings,
        cache_max_entries: u64,
    ) -> Result<Self, RedisSetupError> {
        let pool = RedisPool::connect(settings)?;
        let monitor = RedisMonitor::new(pool.clone());
        // The outcome is in the monitor's mode; failing here is not fatal.
        let _ = monitor.probe().await;
        let memory_cache = InMemoryResponseCache::new(cache_max_entries);
        Ok(Self {
            limiter: Arc::new(Fallback::new(
                RedisRateLimiter::new(pool.clone()),
                InMemoryRateLimiter::new(),
                monitor.clone(),
            )),
            throttle: Arc::new(Fallback::new(
                RedisLoginThrottle::new(pool.clone()),
                InMemoryLoginThrottle::new(),
                monitor.clone(),
            )),
            revocations: Arc::new(Fallback::new(
                RedisRevocationList::new(pool.clone()),
                InMemoryRevocationList::new(),
                monitor.clone(),
            )),
            cache: Arc::new(Fallback::new(
                RedisResponseCache::new(pool.clone()),
                memory_cache.clone(),
                monitor.clone(),
            )),
            // While Redis is down, flights land in the same in-process cache that answers.
            flights: Arc::new(Fallback::new(
                RedisFlightLock::new(pool),
                LocalFlightLock::new(Arc::new(memory_cache)),
                monitor.clone(),
            )),
            health: monitor.clone(),
            monitor: Some(monitor),
        })
    }

    /// Where material progress goes: Redis (24 h) falling back to `database` while Redis is
    /// down, or `database` itself without Redis.
    pub fn material_progress(
        &self,
        database: Arc<dyn MaterialProgress>,
    ) -> Arc<dyn MaterialProgress> {
        match &self.monitor {
            Some(monitor) => Arc::new(Fallback::new(
                RedisMaterialProgress::new(monitor.pool().clone()),
                database,
                monitor.clone(),
            )),
            None => database,
        }
    }

    /// `redis` when the shared state lives in Redis (even while degraded), `memory` otherwise.
    pub fn backend(&self) -> &'static str {
        if self.monitor.is_some() {
            "redis"
        } else {
            "memory"
        }
    }
}

impl std::fmt::Debug for SharedState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedState")
            .field("backend", &self.backend())
            .field("monitor", &self.monitor)
            .finish_non_exhaustive()
    }
}
