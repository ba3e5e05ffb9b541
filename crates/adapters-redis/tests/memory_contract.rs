//! The in-process implementations pass the limiting and revocation contract suites.

use std::sync::Arc;

use ainative_adapters_redis::{InMemoryLoginThrottle, InMemoryRateLimiter, InMemoryRevocationList};

ainative_ports::limits_contract! {
    rate_limiter: async { Arc::new(InMemoryRateLimiter::new()) },
    throttle: async { Arc::new(InMemoryLoginThrottle::new()) },
    revocations: async { Arc::new(InMemoryRevocationList::new()) },
}
