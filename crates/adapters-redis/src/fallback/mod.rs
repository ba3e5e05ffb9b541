//! The fallback decorator: a Redis-backed port that keeps serving from process memory while
//! Redis is unavailable (ARCHITECTURE: "Fallback is a decorator").
//!
//! [`Fallback<R, M>`] pairs a Redis implementation `R` with an in-process one `M` and
//! implements the port they share. All decorators of an instance share one
//! [`RedisMonitor`], which holds the mode:
//!
//! - **healthy**: calls go to Redis. A failing call (any error; Redis errors are all
//!   `Unavailable`) is answered by `M` instead and switches the monitor to degraded.
//! - **degraded**: calls go straight to `M`, without waiting for Redis; the monitor probes
//!   Redis in the background and switches back as soon as it answers.
//!
//! So a call never fails because Redis is down, and costs at most one Redis timeout (the
//! call that discovers the outage). Limits are then per instance (SPEC §5). Per port:
//!
//! - rate limiter, response cache, flight lock: as above (a degraded flight lock grants
//!   every claim: each instance then calls the provider for itself). Counts and entries made in process while
//!   degraded are not copied to Redis on recovery.
//! - login throttle: `attempt` and `release` as above; `reset` always clears the key in
//!   process too, so that attempts counted there during an outage cannot throttle a user
//!   at the next one.
//! - revocation list: see [`Fallback`]'s `RevocationList` implementation — writes go to
//!   both, and memory is always consulted.

mod cache;
mod flight;
mod monitor;
mod progress;
mod rate_limit;
mod revocation;

use std::future::Future;
use std::sync::Arc;

use ainative_ports::PortResult;

pub use monitor::{RedisMonitor, PROBE_INTERVAL};

/// A Redis-backed port `R` falling back to the in-process port `M`; see the
/// [module documentation](self).
pub struct Fallback<R, M> {
    redis: R,
    memory: M,
    monitor: Arc<RedisMonitor>,
}

impl<R, M> Fallback<R, M> {
    /// Decorates `redis` with `memory`, switching between them through `monitor` (share one
    /// monitor between all decorators of a pool).
    pub fn new(redis: R, memory: M, monitor: Arc<RedisMonitor>) -> Self {
        Self {
            redis,
            memory,
            monitor,
        }
    }

    /// The Redis implementation.
    pub fn redis(&self) -> &R {
        &self.redis
    }

    /// The in-process implementation.
    pub fn memory(&self) -> &M {
        &self.memory
    }

    /// The shared mode.
    pub fn monitor(&self) -> &Arc<RedisMonitor> {
        &self.monitor
    }

    /// Runs `on_redis` while healthy, `on_memory` while degraded or when `on_redis` fails
    /// (which degrades). Futures are lazy: only the one awaited does anything.
    async fn route<T>(
        &self,
        operation: &'static str,
        on_redis: impl Future<Output = PortResult<T>>,
        on_memory: impl Future<Output = PortResult<T>>,
    ) -> PortResult<T> {
        if self.monitor.is_degraded() {
            self.monitor.ensure_probing();
        } else {
            match on_redis.await {
                Ok(value) => return Ok(value),
                Err(err) => self.monitor.degrade(operation, &err),
            }
        }
        self.monitor.count_fallback();
        on_memory.await
    }
}

impl<R, M> std::fmt::Debug for Fallback<R, M>
where
    R: std::fmt::Debug,
    M: std::fmt::Debug,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fallback")
            .field("redis", &self.redis)
            .field("memory", &self.memory)
            .field("monitor", &self.monitor)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
    use std::time::Duration;

    use ainative_ports::{PortError, RateDecision, RateLimiter, RevocationList};
    use async_trait::async_trait;
    use chrono::{DateTime, TimeDelta, Utc};
    use uuid::Uuid;

    use super::*;
    use crate::redis::{RedisPool, RedisSettings};
    use crate::InMemoryRevocationList;

    /// A port that answers `answer`, or fails while `failing`, and counts its calls.
    #[derive(Default)]
    struct Fake {
        failing: AtomicBool,
        answer: AtomicBool,
        calls: AtomicU32,
    }

    impl Fake {
        fn answer(&self) -> PortResult<bool> {
            self.calls.fetch_add(1, Ordering::Relaxed);
            if self.failing.load(Ordering::Relaxed) {
                Err(PortError::Unavailable("down".into()))
            } else {
                Ok(self.answer.load(Ordering::Relaxed))
            }
        }

        fn calls(&self) -> u32 {
            self.calls.load(Ordering::Relaxed)
        }
    }

    #[async_trait]
    impl RateLimiter for Fake {
        async fn check(
            &self,
            _key: &str,
            limit: u32,
            _window: Duration,
        ) -> PortResult<RateDecision> {
            let allowed = self.answer()?;
            Ok(RateDecision {
                allowed,
                limit,
                remaining: 0,
                reset_secs: 0,
            })
        }

        async fn peek(&self, key: &str, limit: u32, window: Duration) -> PortResult<RateDecision> {
            self.check(key, limit, window).await
        }
    }

    #[async_trait]
    impl RevocationList for Fake {
        async fn revoke_session(&self, _session: Uuid, _until: DateTime<Utc>) -> PortResult<()> {
            self.answer().map(|_| ())
        }

        async fn is_session_revoked(&self, _session: Uuid) -> PortResult<bool> {
            self.answer()
        }
    }

    /// A monitor whose Redis never answers (nothing listens on port 1).
    fn monitor() -> Arc<RedisMonitor> {
        let settings = RedisSettings::new("redis://127.0.0.1:1");
        RedisMonitor::new(RedisPool::connect(&settings).expect("settings"))
    }

    const MINUTE: Duration = Duration::from_secs(60);

    #[tokio::test]
    async fn healthy_calls_go_to_redis_only() {
        let limiter = Fallback::new(Fake::default(), Fake::default(), monitor());
        limiter.redis().answer.store(true, Ordering::Relaxed);
        let decision = limiter.check("k", 1, MINUTE).await.expect("check");
        assert!(decision.allowed);
        assert_eq!((limiter.redis().calls(), limiter.memory().calls()), (1, 0));
        assert_eq!(limiter.monitor().fallback_operations(), 0);
    }

    #[tokio::test]
    async fn a_failure_degrades_once_and_later_calls_skip_redis() {
        let limiter = Fallback::new(Fake::default(), Fake::default(), monitor());
        limiter.redis().failing.store(true, Ordering::Relaxed);
        limiter.memory().answer.store(true, Ordering::Relaxed);
        for _ in 0..5 {
            let decision = limiter.check("k", 1, MINUTE).await.expect("never fails");
            assert!(decision.allowed, "answered by memory");
        }
        assert_eq!((limiter.redis().calls(), limiter.memory().calls()), (1, 5));
        let monitor = limiter.monitor();
        assert!(monitor.is_degraded());
        assert_eq!(monitor.degradations(), 1);
        assert_eq!(monitor.fallback_operations(), 5);
    }

    #[tokio::test]
    async fn revocation_checks_never_touch_redis() {
        let list = Fallback::new(Fake::default(), InMemoryRevocationList::new(), monitor());
        let session = Uuid::new_v4();
        list.revoke_session(session, Utc::now() + TimeDelta::hours(1))
            .await
            .expect("revoke");
        assert_eq!(list.redis().calls(), 1, "mirrored to Redis");
        assert!(list.is_session_revoked(session).await.expect("check"));
        // Redis claiming something, or failing, changes nothing: memory answers alone.
        list.redis().answer.store(true, Ordering::Relaxed);
        assert!(!list
            .is_session_revoked(Uuid::new_v4())
            .await
            .expect("check"));
        list.redis().failing.store(true, Ordering::Relaxed);
        assert!(list.is_session_revoked(session).await.expect("check"));
        assert_eq!(
            list.redis().calls(),
            1,
            "checks stay off Redis (SPEC §8: one round trip)"
        );
        // Degraded or not, writes land in memory.
        let later = Uuid::new_v4();
        list.revoke_session(later, Utc::now() + TimeDelta::hours(1))
            .await
            .expect("revoke");
        assert!(list.is_session_revoked(later).await.expect("check"));
    }
}
