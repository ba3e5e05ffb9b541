//! Redis implementations of the limiting, revocation and cache ports.
//!
//! All of them share one [`RedisPool`]: every operation costs one round trip (the atomic
//! ones are Lua scripts), is bounded by the configured timeout, and reports any failure as
//! [`PortError::Unavailable`](ainative_ports::PortError::Unavailable). Every key starts with
//! the configured prefix, then a kind: `rl:` (rate limits), `lt:` (login throttle), `rv:`
//! (revocations), `cache:` (responses), `fl:` (flight claims).
//!
//! They do not fall back by themselves: wrap them in [`crate::Fallback`] (or build them all
//! with [`crate::SharedState::redis`]) so that requests keep being served while Redis is
//! down.

mod cache;
mod flight;
mod pool;
mod progress;
mod rate_limiter;
mod revocation;
mod settings;
mod throttle;

use std::time::Duration;

pub use cache::RedisResponseCache;
pub use flight::RedisFlightLock;
pub use pool::RedisPool;
pub use progress::{RedisMaterialProgress, PROGRESS_TTL};
pub use rate_limiter::RedisRateLimiter;
pub use revocation::RedisRevocationList;
pub use settings::{RedisSettings, RedisSetupError};
pub use throttle::RedisLoginThrottle;

/// The longest window or time to live sent to Redis: ten years. Longer ones are clamped, so
/// that a caller's `Duration::MAX` cannot make Redis refuse the expiry (which would count
/// as an outage).
const MAX_MILLIS: u64 = 10 * 365 * 24 * 3_600 * 1_000;

/// A duration in whole milliseconds, rounded up (Redis expiries are in milliseconds), at
/// most [`MAX_MILLIS`].
fn millis_ceil(duration: Duration) -> u64 {
    let millis = duration.as_nanos().div_ceil(1_000_000);
    u64::try_from(millis).unwrap_or(u64::MAX).min(MAX_MILLIS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_round_up() {
        assert_eq!(millis_ceil(Duration::ZERO), 0);
        assert_eq!(millis_ceil(Duration::from_nanos(1)), 1);
        assert_eq!(millis_ceil(Duration::from_millis(250)), 250);
        assert_eq!(millis_ceil(Duration::from_micros(250_001)), 251);
        assert_eq!(millis_ceil(Duration::MAX), MAX_MILLIS);
    }
}
