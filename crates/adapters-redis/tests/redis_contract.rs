//! The Redis implementations, used directly (no fallback), pass the limiting, revocation
//! and cache contract suites against a real Redis (`TEST_REDIS_URL`, default
//! `redis://127.0.0.1:6379`), each case under its own key prefix.

mod common;

use std::sync::Arc;

use ainative_adapters_redis::{
    RedisLoginThrottle, RedisRateLimiter, RedisResponseCache, RedisRevocationList,
};

ainative_ports::limits_contract! {
    real_clock;
    rate_limiter: async { Arc::new(RedisRateLimiter::new(common::kept_pool().await)) },
    throttle: async { Arc::new(RedisLoginThrottle::new(common::kept_pool().await)) },
    revocations: async { Arc::new(RedisRevocationList::new(common::kept_pool().await)) },
}

mod cache {
    use super::*;

    ainative_ports::cache_contract!(async {
        Arc::new(RedisResponseCache::new(common::kept_pool().await))
    });
}
