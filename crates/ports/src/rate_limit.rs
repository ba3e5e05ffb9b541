//! Request rate limiting and failed-login throttling.

use async_trait::async_trait;
use std::time::Duration;

use crate::PortResult;

/// The limiter's view of one key after a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    /// Whether this request may proceed.
    pub allowed: bool,
    /// Requests allowed per window.
    pub limit: u32,
    /// Requests left in the current window after this one.
    pub remaining: u32,
    /// Seconds until a slot frees (0 when one is free now).
    pub reset_secs: u64,
}

/// A sliding-window request limiter.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Atomically checks the key and, when allowed, counts this request.
    async fn check(&self, key: &str, limit: u32, window: Duration) -> PortResult<RateDecision>;

    /// The current view of the key without counting anything.
    async fn peek(&self, key: &str, limit: u32, window: Duration) -> PortResult<RateDecision>;
}

/// Whether a login attempt may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleDecision {
    /// Go ahead; the attempt was counted.
    Allowed,
    /// Too many failures; retry after this many seconds.
    Throttled {
        /// Seconds until an attempt is allowed again.
        retry_after_secs: u64,
    },
}

/// Failed-login throttling per account and per IP.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait LoginThrottle: Send + Sync {
    /// Atomically counts an attempt against every key, unless one of them is over `limit`
    /// within `window`, in which case nothing is counted and the attempt is refused.
    /// Parallel attempts cannot slip past the limit.
    async fn attempt(
        &self,
        keys: &[String],
        limit: u32,
        window: Duration,
    ) -> PortResult<ThrottleDecision>;

    /// Whether [`LoginThrottle::attempt`] would be allowed on every key now, counting
    /// nothing (failures that are counted only once known, such as a client IP's, are
    /// checked this way before the password is verified).
    async fn check(
        &self,
        keys: &[String],
        limit: u32,
        window: Duration,
    ) -> PortResult<ThrottleDecision>;

    /// Forgets the attempts of a key (a successful login resets its account key).
    async fn reset(&self, key: &str) -> PortResult<()>;

    /// Takes back the most recent attempt counted on a key: a successful login was counted
    /// by [`LoginThrottle::attempt`] but is not a failure (its IP key is released).
    async fn release(&self, key: &str) -> PortResult<()>;
}
