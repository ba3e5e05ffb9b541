//! The fallback rate limiter and login throttle.

use std::time::Duration;

use ainative_ports::{LoginThrottle, PortResult, RateDecision, RateLimiter, ThrottleDecision};
use async_trait::async_trait;

use super::Fallback;

#[async_trait]
impl<R, M> RateLimiter for Fallback<R, M>
where
    R: RateLimiter,
    M: RateLimiter,
{
    async fn check(&self, key: &str, limit: u32, window: Duration) -> PortResult<RateDecision> {
        self.route(
            "rate limit check",
            self.redis.check(key, limit, window),
            self.memory.check(key, limit, window),
        )
        .await
    }

    async fn peek(&self, key: &str, limit: u32, window: Duration) -> PortResult<RateDecision> {
        self.route(
            "rate limit peek",
            self.redis.peek(key, limit, window),
            self.memory.peek(key, limit, window),
        )
        .await
    }
}

#[async_trait]
impl<R, M> LoginThrottle for Fallback<R, M>
where
    R: LoginThrottle,
    M: LoginThrottle,
{
    async fn attempt(
        &self,
        keys: &[String],
        limit: u32,
        window: Duration,
    ) -> PortResult<ThrottleDecision> {
        self.route(
            "login attempt",
            self.redis.attempt(keys, limit, window),
            self.memory.attempt(keys, limit, window),
        )
        .await
    }

    async fn check(
        &self,
        keys: &[String],
        limit: u32,
        window: Duration,
    ) -> PortResult<ThrottleDecision> {
        self.route(
            "login check",
            self.redis.check(keys, limit, window),
            self.memory.check(keys, limit, window),
        )
        .await
    }

    async fn reset(&self, key: &str) -> PortResult<()> {
        // Forget the key in process too: attempts counted there during an outage must not
        // throttle this user at the next one.
        self.memory.reset(key).await?;
        self.route("login reset", self.redis.reset(key), async { Ok(()) })
            .await
    }

    async fn release(&self, key: &str) -> PortResult<()> {
        self.route(
            "login release",
            self.redis.release(key),
            self.memory.release(key),
        )
        .await
    }
}
