//! In-process implementations of the limiting and revocation ports.
//!
//! They are the embedded default and the fallback used while Redis is unreachable. Every
//! guarantee below holds **per instance only**: two server processes each keep their own
//! counts and their own revocation mirror.
//!
//! - [`InMemoryRateLimiter`]: a true sliding window (a log of the last `limit` allowed
//!   requests per key), so at most `limit` requests pass in any interval of one window, with
//!   no double burst at a window boundary. Check-and-count is atomic per key. Memory is
//!   bounded: idle keys expire after their window and at most a fixed number of keys is kept.
//! - [`InMemoryLoginThrottle`]: a sliding log of attempts per key; one attempt checks and
//!   counts all its keys under one lock, so parallel attempts cannot exceed the limit.
//! - [`InMemoryRevocationList`]: revoked session ids until their `until`; a revocation is
//!   visible at once, is never shortened, and is never evicted for space before it expires.
//! - [`InMemoryResponseCache`]: a bounded cache with a time to live per entry.
//! - [`MemoryStateHealth`]: reports the shared state as `memory` / `disabled`.
//!
//! The limiter and the throttle read time from [`tokio::time::Instant`] (monotonic, and
//! pausable in tests); the revocation list compares `until` with a
//! [`Clock`](ainative_ports::Clock), the system clock by default.

mod cache;
mod health;
mod rate_limiter;
mod revocation;
mod throttle;
mod window;

pub use cache::{InMemoryResponseCache, DEFAULT_CACHE_MAX_ENTRIES};
pub use health::MemoryStateHealth;
pub use rate_limiter::{InMemoryRateLimiter, DEFAULT_MAX_KEYS};
pub use revocation::InMemoryRevocationList;
pub use throttle::InMemoryLoginThrottle;
