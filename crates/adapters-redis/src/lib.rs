//! Rate limiting, failed-login throttling, the revocation fast path and the LLM response
//! cache: in process, or shared through Redis with an in-process fallback.
//!
//! - [`memory`]: the in-process implementations (the embedded default, and the fallback).
//! - [`redis`]: the Redis implementations over one [`RedisPool`]; every call is one round
//!   trip bounded by a timeout, and fails as `Unavailable`.
//! - [`fallback`]: the [`Fallback`] decorator that serves from memory while Redis is down,
//!   and the [`RedisMonitor`] that tracks the mode, counts switches and reports health.
//! - [`SharedState`]: builds all of them for the composition root, in one call.
//!
//! Every implementation passes the same contract suites (`ainative_ports::testkit`).
//!
//! ```no_run
//! # async fn start() -> Result<(), ainative_adapters_redis::RedisSetupError> {
//! use ainative_adapters_redis::{RedisSettings, SharedState};
//!
//! let shared = match std::env::var("REDIS_URL") {
//!     Ok(url) => SharedState::redis(&RedisSettings::new(url), 10_000).await?,
//!     Err(_) => SharedState::in_memory(10_000),
//! };
//! # let _ = shared;
//! # Ok(())
//! # }
//! ```

pub mod fallback;
pub mod memory;
pub mod redis;
mod shared_state;

pub use fallback::{Fallback, RedisMonitor};
pub use memory::{
    InMemoryLoginThrottle, InMemoryRateLimiter, InMemoryResponseCache, InMemoryRevocationList,
    MemoryStateHealth,
};
pub use redis::{
    RedisFlightLock, RedisLoginThrottle, RedisMaterialProgress, RedisPool, RedisRateLimiter,
    RedisResponseCache, RedisRevocationList, RedisSettings, RedisSetupError,
};
pub use shared_state::SharedState;
