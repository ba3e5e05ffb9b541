//! Fault tests: a private `redis-server` is killed, paused and restarted under the decorated
//! ports. While it is down every call still succeeds (answered in process) without waiting
//! much longer than the timeout; the monitor reports and counts the outage; after it
//! returns, calls go back to Redis within five seconds, and revocations made meanwhile still
//! hold.

mod common;

use std::future::Future;
use std::time::{Duration, Instant};

use ainative_adapters_redis::{
    RedisPool, RedisRateLimiter, RedisRevocationList, RedisSettings, SharedState,
};
use ainative_ports::{RateLimiter, RevocationList, ThrottleDecision};
use ainative_test_support::wait_until;
use ainative_test_support::RedisServer;
use chrono::{TimeDelta, Utc};
use uuid::Uuid;

const TIMEOUT: Duration = Duration::from_millis(250);
const MINUTE: Duration = Duration::from_secs(60);
/// How much longer than the timeout a call that meets the outage may take (a busy 2-core
/// machine runs these tests alongside others).
const SLACK: Duration = Duration::from_millis(250);
/// What a call answered in process may take.
const IN_PROCESS: Duration = Duration::from_millis(100);
/// SPEC §9: back to Redis within five seconds of its return.
const RECOVERY: Duration = Duration::from_secs(5);

fn settings(server: &RedisServer, prefix: &str) -> RedisSettings {
    RedisSettings::new(server.url())
        .with_timeout(TIMEOUT)
        .with_key_prefix(prefix)
}

/// Runs `call`, asserting it succeeds; returns how long it took.
async fn timed<T, E: std::fmt::Debug>(
    what: &str,
    call: impl Future<Output = Result<T, E>>,
) -> (T, Duration) {
    let started = Instant::now();
    let value = call
        .await
        .unwrap_or_else(|err| panic!("{what} failed: {err:?}"));
    (value, started.elapsed())
}

/// Uses every decorated port once; every call must succeed. Returns the slowest call.
async fn use_every_port(shared: &SharedState) -> Duration {
    let session = Uuid::new_v4();
    let keys = vec![format!("account:{session}"), "ip:10.0.0.1".to_owned()];
    let durations = [
        timed("check", shared.limiter.check("user:1", 1_000, MINUTE))
            .await
            .1,
        timed("peek", shared.limiter.peek("user:1", 1_000, MINUTE))
            .await
            .1,
        timed("attempt", shared.throttle.attempt(&keys, 1_000, MINUTE))
            .await
            .1,
        timed("release", shared.throttle.release(&keys[1])).await.1,
        timed("reset", shared.throttle.reset(&keys[0])).await.1,
        timed(
            "revoke",
            shared
                .revocations
                .revoke_session(session, Utc::now() + TimeDelta::hours(1)),
        )
        .await
        .1,
        timed("is revoked", shared.revocations.is_session_revoked(session))
            .await
            .1,
        timed("put", shared.cache.put("prompt", "answer", MINUTE))
            .await
            .1,
        timed("get", shared.cache.get("prompt")).await.1,
    ];
    durations.into_iter().max().unwrap_or_default()
}

/// Waits until the shared state uses Redis again; returns how long that took.
async fn wait_for_recovery(shared: &SharedState) -> Duration {
    let monitor = shared.monitor.as_ref().expect("a Redis monitor");
    wait_until(
        RECOVERY,
        "the shared state uses Redis again (SPEC §9: within 5 s of its return)",
        || async { !monitor.is_degraded() },
    )
    .await
}

/// A direct (undecorated) limiter on the private server, to see what reached Redis.
fn direct_limiter(server: &RedisServer, prefix: &str) -> RedisRateLimiter {
    RedisRateLimiter::new(RedisPool::connect(&settings(server, prefix)).expect("settings"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_is_served_in_process_and_redis_is_used_again_after_it() {
    let mut server = RedisServer::start().await;
    let prefix = common::unique_prefix();
    let shared = SharedState::redis(&settings(&server, &prefix), 100)
        .await
        .expect("settings");
    let monitor = shared.monitor.clone().expect("a Redis monitor");
    assert!(!monitor.is_degraded());
    assert_eq!(shared.health.check().await.status, "healthy");

    // Healthy: calls reach Redis.
    use_every_port(&shared).await;
    shared
        .limiter
        .check("seen", 5, MINUTE)
        .await
        .expect("check");
    let seen = direct_limiter(&server, &prefix)
        .peek("seen", 5, MINUTE)
        .await;
    assert_eq!(seen.expect("peek").remaining, 4, "the check reached Redis");
    assert_eq!(monitor.degradations(), 0);
    assert_eq!(monitor.fallback_operations(), 0);

    // Down: the first call meets the outage, within the timeout; it still succeeds.
    server.kill();
    let slowest = use_every_port(&shared).await;
    assert!(
        slowest < TIMEOUT + SLACK,
        "a call took {slowest:?} while Redis was down"
    );
    assert!(monitor.is_degraded());
    assert_eq!(monitor.degradations(), 1, "one switch, counted once");
    // Every call but the revocation check (memory knew the session was revoked, so Redis
    // was not asked) was answered in process.
    let fallbacks = monitor.fallback_operations();
    assert_eq!(fallbacks, 8, "fallback operations counted");

    // Degraded: calls go straight to memory without paying the timeout.
    for _ in 0..20 {
        let slowest = use_every_port(&shared).await;
        assert!(slowest < IN_PROCESS, "a degraded call took {slowest:?}");
    }
    assert_eq!(monitor.fallback_operations(), fallbacks + 20 * 8);
    let health = shared.health.check().await;
    assert_eq!(
        (health.backend, health.status, health.latency_ms),
        ("memory", "degraded", None)
    );
    assert_eq!(monitor.degradations(), 1, "still one switch");

    // Limits keep working, per instance.
    for _ in 0..3 {
        assert!(
            shared
                .limiter
                .check("down", 3, MINUTE)
                .await
                .expect("check")
                .allowed
        );
    }
    assert!(
        !shared
            .limiter
            .check("down", 3, MINUTE)
            .await
            .expect("check")
            .allowed
    );
    let keys = vec!["account:bob".to_owned()];
    for _ in 0..2 {
        let decision = shared.throttle.attempt(&keys, 2, MINUTE).await;
        assert_eq!(decision, Ok(ThrottleDecision::Allowed));
    }
    let decision = shared.throttle.attempt(&keys, 2, MINUTE).await;
    assert!(matches!(decision, Ok(ThrottleDecision::Throttled { .. })));

    // A revocation made while Redis is down.
    let revoked_during_outage = Uuid::new_v4();
    shared
        .revocations
        .revoke_session(revoked_during_outage, Utc::now() + TimeDelta::hours(1))
        .await
        .expect("revoke");
    assert!(shared
        .revocations
        .is_session_revoked(revoked_during_outage)
        .await
        .expect("check"));

    // Back: Redis is used again within five seconds.
    server.restart().await;
    let took = wait_for_recovery(&shared).await;
    assert!(took < RECOVERY, "recovered after {took:?}");
    assert_eq!(monitor.recoveries(), 1);
    let health = shared.health.check().await;
    assert_eq!((health.backend, health.status), ("redis", "healthy"));
    assert!(health.latency_ms.is_some());

    let fallbacks = monitor.fallback_operations();
    shared
        .limiter
        .check("back", 5, MINUTE)
        .await
        .expect("check");
    let back = direct_limiter(&server, &prefix)
        .peek("back", 5, MINUTE)
        .await;
    assert_eq!(back.expect("peek").remaining, 4, "the check reached Redis");
    let slowest = use_every_port(&shared).await;
    assert!(slowest < TIMEOUT, "a call took {slowest:?} after recovery");
    assert_eq!(
        monitor.fallback_operations(),
        fallbacks,
        "no fallback after recovery"
    );
    assert_eq!(monitor.degradations(), 1, "no flapping after recovery");

    // The restarted Redis lost everything (no persistence), yet the revocation holds.
    let direct = RedisRevocationList::new(
        RedisPool::connect(&settings(&server, &prefix)).expect("settings"),
    );
    assert!(!direct
        .is_session_revoked(revoked_during_outage)
        .await
        .expect("direct check"));
    assert!(shared
        .revocations
        .is_session_revoked(revoked_during_outage)
        .await
        .expect("check"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_with_redis_down_starts_degraded_and_recovers() {
    let mut server = RedisServer::stopped();
    let prefix = common::unique_prefix();
    let started = Instant::now();
    let shared = SharedState::redis(&settings(&server, &prefix), 100)
        .await
        .expect("an unreachable Redis does not fail start-up");
    assert!(started.elapsed() < TIMEOUT + SLACK);
    let monitor = shared.monitor.clone().expect("a Redis monitor");
    assert!(monitor.is_degraded());
    assert_eq!(shared.health.check().await.status, "degraded");
    let slowest = use_every_port(&shared).await;
    assert!(slowest < IN_PROCESS, "a degraded call took {slowest:?}");

    server.restart().await;
    wait_for_recovery(&shared).await;
    assert_eq!(shared.health.check().await.status, "healthy");
    shared.limiter.check("k", 5, MINUTE).await.expect("check");
    let peek = direct_limiter(&server, &prefix).peek("k", 5, MINUTE).await;
    assert_eq!(peek.expect("peek").remaining, 4, "the check reached Redis");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_redis_costs_at_most_one_timeout() {
    let server = RedisServer::start().await;
    let prefix = common::unique_prefix();
    let shared = SharedState::redis(&settings(&server, &prefix), 100)
        .await
        .expect("settings");
    let monitor = shared.monitor.clone().expect("a Redis monitor");
    use_every_port(&shared).await;
    assert!(!monitor.is_degraded());

    // Paused: connections stay open but nothing answers.
    server.freeze();
    let (decision, took) = timed("check", shared.limiter.check("k", 5, MINUTE)).await;
    assert!(decision.allowed);
    assert!(
        (TIMEOUT..TIMEOUT + SLACK).contains(&took),
        "the call that met the hang took {took:?}"
    );
    assert!(monitor.is_degraded());
    let slowest = use_every_port(&shared).await;
    assert!(slowest < IN_PROCESS, "a degraded call took {slowest:?}");
    let started = Instant::now();
    assert_eq!(shared.health.check().await.status, "degraded");
    assert!(
        started.elapsed() < TIMEOUT + SLACK,
        "health waited {:?}",
        started.elapsed()
    );

    server.thaw();
    wait_for_recovery(&shared).await;
    let slowest = use_every_port(&shared).await;
    assert!(slowest < TIMEOUT, "a call took {slowest:?} after recovery");
    assert_eq!(monitor.degradations(), 1);
    assert_eq!(monitor.recoveries(), 1);
}
