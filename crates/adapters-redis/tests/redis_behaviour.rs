//! Behaviour of the Redis implementations beyond the contract suites: one global limit
//! across instances, sliding (not fixed) windows, keys under the prefix with expiries,
//! server-side time, health and start-up.

mod common;

use std::sync::Arc;
use std::time::Duration;

use ainative_adapters_redis::{
    RedisLoginThrottle, RedisPool, RedisRateLimiter, RedisResponseCache, RedisRevocationList,
    RedisSettings, RedisSetupError, SharedState,
};
use ainative_ports::{
    LoginThrottle, RateDecision, RateLimiter, ResponseCache, RevocationList, ThrottleDecision,
};
use ainative_test_support::{redis_url, RedisPrefix};
use chrono::{TimeDelta, Utc};
use deadpool_redis::redis;
use tokio::task::JoinSet;
use uuid::Uuid;

const MINUTE: Duration = Duration::from_secs(60);

/// A plain connection to the shared Redis, to look at what the adapters wrote.
async fn raw() -> redis::aio::MultiplexedConnection {
    redis::Client::open(redis_url())
        .expect("TEST_REDIS_URL")
        .get_multiplexed_async_connection()
        .await
        .expect("Redis is required by these tests")
}

async fn pttl(key: &str) -> i64 {
    redis::cmd("PTTL")
        .arg(key)
        .query_async(&mut raw().await)
        .await
        .expect("PTTL")
}

#[tokio::test]
async fn no_double_burst_at_a_window_boundary() {
    let space = RedisPrefix::new().await;
    let limiter = RedisRateLimiter::new(common::pool(&space).await);
    let window = Duration::from_secs(2);
    for _ in 0..5 {
        assert!(limiter.check("k", 5, window).await.expect("check").allowed);
    }
    // Past half the window (where a fixed window of one second would have reset), and past
    // the end of a fixed window aligned on the first request's second: still full.
    // Real time on purpose: the window runs on Redis' clock, which no test can pause, and
    // there is nothing to poll for (the point is that nothing changes).
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    for _ in 0..5 {
        let decision = limiter.check("k", 5, window).await.expect("check");
        assert_eq!(
            decision,
            RateDecision {
                allowed: false,
                limit: 5,
                remaining: 0,
                reset_secs: 1
            }
        );
    }
    // A whole window after the burst, the whole limit is back, once (Redis' clock again).
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    for remaining in (0..5).rev() {
        let decision = limiter.check("k", 5, window).await.expect("check");
        assert!(decision.allowed);
        assert_eq!(decision.remaining, remaining);
    }
    assert!(!limiter.check("k", 5, window).await.expect("check").allowed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_one_global_limit() {
    // Two pools (two "instances") on one Redis and one prefix.
    let space = RedisPrefix::new().await;
    let settings = common::settings(&space);
    let instances = [
        Arc::new(RedisRateLimiter::new(common::pool_with(&settings).await)),
        Arc::new(RedisRateLimiter::new(common::pool_with(&settings).await)),
    ];
    let mut requests = JoinSet::new();
    for n in 0..60 {
        let limiter = instances[n % 2].clone();
        requests.spawn(async move { limiter.check("user:1", 25, MINUTE).await });
    }
    let allowed = requests
        .join_all()
        .await
        .into_iter()
        .map(|decision| decision.expect("check"))
        .filter(|decision| decision.allowed)
        .count();
    assert_eq!(allowed, 25);
    for limiter in &instances {
        let decision = limiter.peek("user:1", 25, MINUTE).await.expect("peek");
        assert!(!decision.allowed);
        assert_eq!(decision.remaining, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_one_login_throttle() {
    let space = RedisPrefix::new().await;
    let settings = common::settings(&space);
    let instances = [
        Arc::new(RedisLoginThrottle::new(common::pool_with(&settings).await)),
        Arc::new(RedisLoginThrottle::new(common::pool_with(&settings).await)),
    ];
    let mut attempts = JoinSet::new();
    for n in 0..40 {
        let throttle = instances[n % 2].clone();
        let keys = vec!["account:alice".to_owned(), format!("ip:10.0.0.{}", n % 5)];
        attempts.spawn(async move { throttle.attempt(&keys, 10, MINUTE).await });
    }
    let allowed = attempts
        .join_all()
        .await
        .into_iter()
        .filter(|decision| decision == &Ok(ThrottleDecision::Allowed))
        .count();
    assert_eq!(allowed, 10);
    // A success on one instance resets the account for both.
    instances[0].reset("account:alice").await.expect("reset");
    let keys = vec!["account:alice".to_owned()];
    assert_eq!(
        instances[1].attempt(&keys, 10, MINUTE).await,
        Ok(ThrottleDecision::Allowed)
    );
}

#[tokio::test]
async fn revocations_are_shared_and_never_shortened_across_instances() {
    let space = RedisPrefix::new().await;
    let settings = common::settings(&space);
    let a = RedisRevocationList::new(common::pool_with(&settings).await);
    let b = RedisRevocationList::new(common::pool_with(&settings).await);
    let session = Uuid::new_v4();
    a.revoke_session(session, Utc::now() + TimeDelta::hours(1))
        .await
        .expect("revoke");
    assert!(b.is_session_revoked(session).await.expect("check"));
    b.revoke_session(session, Utc::now() + TimeDelta::seconds(1))
        .await
        .expect("revoke again");
    let key = format!("{}rv:{}", settings.key_prefix, session.as_hyphenated());
    let left = pttl(&key).await;
    assert!(
        left > 3_590_000,
        "the revocation was shortened to {left} ms"
    );
    assert!(a.is_session_revoked(session).await.expect("check"));
}

#[tokio::test]
async fn keys_live_under_the_prefix_and_expire() {
    let space = RedisPrefix::new().await;
    let settings = common::settings(&space);
    let pool = common::pool_with(&settings).await;
    let prefix = &settings.key_prefix;
    RedisRateLimiter::new(pool.clone())
        .check("rl-key", 5, Duration::from_secs(2))
        .await
        .expect("check");
    RedisLoginThrottle::new(pool.clone())
        .attempt(&["lt-key".to_owned()], 5, Duration::from_secs(2))
        .await
        .expect("attempt");
    let session = Uuid::new_v4();
    RedisRevocationList::new(pool.clone())
        .revoke_session(session, Utc::now() + TimeDelta::seconds(30))
        .await
        .expect("revoke");
    RedisResponseCache::new(pool.clone())
        .put("cache-key", "value", Duration::from_secs(20))
        .await
        .expect("put");

    let mut conn = raw().await;
    let mut keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut conn)
        .await
        .expect("KEYS");
    keys.sort();
    let mut expected = vec![
        format!("{prefix}cache:cache-key"),
        format!("{prefix}lt:lt-key"),
        format!("{prefix}rl:rl-key"),
        format!("{prefix}rv:{}", session.as_hyphenated()),
    ];
    expected.sort();
    assert_eq!(keys, expected);
    // Window keys live a window plus a second; the others as long as asked.
    let rl = pttl(&format!("{prefix}rl:rl-key")).await;
    assert!((2_000..=3_000).contains(&rl), "rate-limit key PTTL {rl}");
    let lt = pttl(&format!("{prefix}lt:lt-key")).await;
    assert!((2_000..=3_000).contains(&lt), "throttle key PTTL {lt}");
    let rv = pttl(&format!("{prefix}rv:{}", session.as_hyphenated())).await;
    assert!((28_000..=30_000).contains(&rv), "revocation key PTTL {rv}");
    let cache = pttl(&format!("{prefix}cache:cache-key")).await;
    assert!((18_000..=20_000).contains(&cache), "cache key PTTL {cache}");
}

#[tokio::test]
async fn windows_run_on_the_redis_clock() {
    let space = RedisPrefix::new().await;
    let settings = common::settings(&space);
    RedisRateLimiter::new(common::pool_with(&settings).await)
        .check("clock", 5, MINUTE)
        .await
        .expect("check");
    let mut conn = raw().await;
    let (secs, micros): (u64, u64) = redis::cmd("TIME")
        .query_async(&mut conn)
        .await
        .expect("TIME");
    let scores: Vec<(String, f64)> = redis::cmd("ZRANGE")
        .arg(format!("{}rl:clock", settings.key_prefix))
        .arg(0)
        .arg(-1)
        .arg("WITHSCORES")
        .query_async(&mut conn)
        .await
        .expect("ZRANGE");
    let server_now = (secs * 1_000_000 + micros) as f64;
    assert_eq!(scores.len(), 1);
    let age = server_now - scores[0].1;
    assert!(
        (0.0..1_000_000.0).contains(&age),
        "the request was scored {age} µs before the server's TIME"
    );
}

#[tokio::test]
async fn health_reports_redis_and_its_latency() {
    let space = RedisPrefix::new().await;
    let shared = common::shared_state(&space).await;
    assert_eq!(shared.backend(), "redis");
    let status = shared.health.check().await;
    assert_eq!(status.backend, "redis");
    assert_eq!(status.status, "healthy");
    let latency = status.latency_ms.expect("a latency");
    assert!((0.0..250.0).contains(&latency), "latency {latency} ms");
}

#[tokio::test]
async fn in_memory_state_reports_disabled() {
    let shared = SharedState::in_memory(100);
    assert_eq!(shared.backend(), "memory");
    assert!(shared.monitor.is_none());
    let status = shared.health.check().await;
    assert_eq!(
        (status.backend, status.status, status.latency_ms),
        ("memory", "disabled", None)
    );
    shared
        .cache
        .put("k", "v", MINUTE)
        .await
        .expect("in-memory put");
    assert_eq!(shared.cache.get("k").await, Ok(Some("v".to_owned())));
}

#[tokio::test]
async fn only_invalid_settings_fail_start_up() {
    let invalid = SharedState::redis(&RedisSettings::new("http://not-redis"), 100).await;
    assert!(matches!(invalid, Err(RedisSetupError::InvalidUrl(_))));
    let space = RedisPrefix::new().await;
    let zero = SharedState::redis(&common::settings(&space).with_pool_size(0), 100).await;
    assert!(matches!(zero, Err(RedisSetupError::InvalidSettings(_))));
    // A URL with credentials that does not parse must not leak them in the error.
    let leaky = RedisPool::connect(&RedisSettings::new("redis://u:s3cret@host:notaport"));
    let message = leaky.expect_err("invalid port").to_string();
    assert!(!message.contains("s3cret"), "{message}");
}

#[tokio::test]
async fn huge_windows_and_lifetimes_are_accepted() {
    let space = RedisPrefix::new().await;
    let pool = common::pool(&space).await;
    let limiter = RedisRateLimiter::new(pool.clone());
    let decision = limiter.check("forever", 1, Duration::MAX).await;
    assert_eq!(decision.map(|decision| decision.allowed), Ok(true));
    let throttle = RedisLoginThrottle::new(pool.clone());
    let attempt = throttle
        .attempt(&["forever".to_owned()], 1, Duration::MAX)
        .await;
    assert_eq!(attempt, Ok(ThrottleDecision::Allowed));
    let cache = RedisResponseCache::new(pool.clone());
    cache.put("forever", "v", Duration::MAX).await.expect("put");
    assert_eq!(cache.get("forever").await, Ok(Some("v".to_owned())));
    let revocations = RedisRevocationList::new(pool.clone());
    let session = Uuid::new_v4();
    revocations
        .revoke_session(session, chrono::DateTime::<Utc>::MAX_UTC)
        .await
        .expect("revoke");
    assert_eq!(revocations.is_session_revoked(session).await, Ok(true));

    // These keys would outlive every other test's: remove them.
    let mut conn = raw().await;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}*", pool.key_prefix()))
        .query_async(&mut conn)
        .await
        .expect("KEYS");
    assert_eq!(keys.len(), 4);
    let removed: usize = redis::cmd("DEL")
        .arg(&keys)
        .query_async(&mut conn)
        .await
        .expect("DEL");
    assert_eq!(removed, 4);
}
