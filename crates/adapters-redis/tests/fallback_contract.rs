//! The decorated ports built by `SharedState::redis` (Redis with in-process fallbacks) pass
//! the limiting, revocation and cache contract suites while Redis is up.

mod common;

ainative_ports::limits_contract! {
    real_clock;
    rate_limiter: async { common::kept_shared_state().await.limiter },
    throttle: async { common::kept_shared_state().await.throttle },
    revocations: async { common::kept_shared_state().await.revocations },
}

mod cache {
    use super::common;

    ainative_ports::cache_contract!(async { common::kept_shared_state().await.cache });
}
