//! The in-process implementations pass the limiting, revocation and cache contract suites.

use std::sync::Arc;

use ainative_adapters_redis::{
    InMemoryLoginThrottle, InMemoryRateLimiter, InMemoryResponseCache, InMemoryRevocationList,
};

ainative_ports::limits_contract! {
    rate_limiter: async { Arc::new(InMemoryRateLimiter::new()) },
    throttle: async { Arc::new(InMemoryLoginThrottle::new()) },
    revocations: async { Arc::new(InMemoryRevocationList::new()) },
}

mod cache {
    use super::*;

    ainative_ports::cache_contract!(async { Arc::new(InMemoryResponseCache::new(1_000)) });
}
