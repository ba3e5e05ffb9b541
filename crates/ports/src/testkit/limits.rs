//! Contract cases of [`RateLimiter`], [`LoginThrottle`] and [`RevocationList`].
//!
//! Each case is a `pub async fn` taking a fresh implementation;
//! [`limits_contract!`](crate::limits_contract) expands to one `#[tokio::test]` per case:
//!
//! ```ignore
//! ainative_ports::limits_contract! {
//!     rate_limiter: async { Arc::new(InMemoryRateLimiter::new()) },
//!     throttle: async { Arc::new(InMemoryLoginThrottle::new()) },
//!     revocations: async { Arc::new(InMemoryRevocationList::new()) },
//! }
//! ```
//!
//! **Time.** The window cases wait with [`tokio::time::sleep`]. In the form above (for
//! in-process implementations, whose clock is [`tokio::time::Instant`]) they run on a paused
//! Tokio clock, so every wait is instant and exact. An implementation whose clock Tokio does
//! not control (Redis) uses `limits_contract! { real_clock; rate_limiter: …, … }`: the same
//! cases then wait in real time, about three seconds at most, with margins of at least
//! 250 ms around every boundary. The revocation cases compare with the wall clock (`until`
//! is a [`DateTime<Utc>`]) and always run in real time, waiting about half a second.
//!
//! The parallel cases run on a multi-thread runtime; every case uses keys and session ids of
//! its own, so cases may share one backing store.
//!
//! The cases panic (through `assert!`/`expect`) on failure, as tests do.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::Barrier;
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::{LoginThrottle, RateDecision, RateLimiter, RevocationList, ThrottleDecision};

/// The window of the cases that wait.
const WINDOW: Duration = Duration::from_secs(2);
/// The window of the cases that do not wait.
const MINUTE: Duration = Duration::from_secs(60);
/// How many tasks race in the parallel cases.
const RACERS: usize = 100;

/// A key no other case (or earlier run against a shared store) uses.
fn key(label: &str) -> String {
    format!("contract:{label}:{}", Uuid::new_v4().simple())
}

/// Lets time pass (instantly on a paused Tokio clock). The passing of time is the scenario
/// here (a window sliding, a revocation outliving a shorter `until`): there is no condition
/// to poll, and an implementation on Redis' clock cannot be paused.
async fn wait(millis: u64) {
    tokio::time::sleep(Duration::from_millis(millis)).await;
}

/// Polls `done` every 20 ms until it holds; fails the case after `limit` (real time).
async fn until<F, Fut>(limit: Duration, what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    while !done().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {limit:?} waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn decision(allowed: bool, limit: u32, remaining: u32, reset_secs: u64) -> RateDecision {
    RateDecision {
        allowed,
        limit,
        remaining,
        reset_secs,
    }
}

async fn check(rl: &dyn RateLimiter, key: &str, limit: u32, window: Duration) -> RateDecision {
    rl.check(key, limit, window).await.expect("check")
}

async fn peek(rl: &dyn RateLimiter, key: &str, limit: u32, window: Duration) -> RateDecision {
    rl.peek(key, limit, window).await.expect("peek")
}

/// Each allowed request uses a slot; `reset_secs` is 0 while a slot is free, then the
/// seconds until the oldest request leaves the window; over the limit is denied.
pub async fn rate_limiter_counts_down_to_the_limit(rl: Arc<dyn RateLimiter>) {
    let k = key("countdown");
    assert_eq!(check(&*rl, &k, 3, MINUTE).await, decision(true, 3, 2, 0));
    assert_eq!(check(&*rl, &k, 3, MINUTE).await, decision(true, 3, 1, 0));
    assert_eq!(check(&*rl, &k, 3, MINUTE).await, decision(true, 3, 0, 60));
    for _ in 0..3 {
        assert_eq!(check(&*rl, &k, 3, MINUTE).await, decision(false, 3, 0, 60));
    }
}

/// `peek` reports the same figures as `check` without counting anything.
pub async fn rate_limiter_peek_counts_nothing(rl: Arc<dyn RateLimiter>) {
    let k = key("peek");
    for _ in 0..3 {
        assert_eq!(peek(&*rl, &k, 3, MINUTE).await, decision(true, 3, 3, 0));
    }
    check(&*rl, &k, 3, MINUTE).await;
    assert_eq!(peek(&*rl, &k, 3, MINUTE).await, decision(true, 3, 2, 0));
    check(&*rl, &k, 3, MINUTE).await;
    check(&*rl, &k, 3, MINUTE).await;
    for _ in 0..3 {
        assert_eq!(peek(&*rl, &k, 3, MINUTE).await, decision(false, 3, 0, 60));
    }
    assert_eq!(check(&*rl, &k, 3, MINUTE).await, decision(false, 3, 0, 60));
}

/// Denied requests do not count: once the window has passed, the whole limit is back.
pub async fn rate_limiter_denied_requests_are_not_counted(rl: Arc<dyn RateLimiter>) {
    let k = key("denied");
    check(&*rl, &k, 2, WINDOW).await;
    check(&*rl, &k, 2, WINDOW).await;
    wait(1_000).await;
    for _ in 0..5 {
        assert_eq!(check(&*rl, &k, 2, WINDOW).await, decision(false, 2, 0, 1));
    }
    wait(1_250).await;
    assert_eq!(check(&*rl, &k, 2, WINDOW).await, decision(true, 2, 1, 0));
}

/// The window slides: requests free their slots one by one, a window after each was made,
/// with no burst at a fixed boundary.
pub async fn rate_limiter_window_slides(rl: Arc<dyn RateLimiter>) {
    let k = key("slide");
    // t = 0: A.
    assert_eq!(check(&*rl, &k, 3, WINDOW).await, decision(true, 3, 2, 0));
    // t = 0.5: B and C fill the limit; A leaves at 2.0.
    wait(500).await;
    assert_eq!(check(&*rl, &k, 3, WINDOW).await, decision(true, 3, 1, 0));
    assert_eq!(check(&*rl, &k, 3, WINDOW).await, decision(true, 3, 0, 2));
    assert_eq!(check(&*rl, &k, 3, WINDOW).await, decision(false, 3, 0, 2));
    // t = 1.5, half a window later: still full.
    wait(1_000).await;
    assert_eq!(check(&*rl, &k, 3, WINDOW).await, decision(false, 3, 0, 1));
    assert_eq!(peek(&*rl, &k, 3, WINDOW).await, decision(false, 3, 0, 1));
    // t = 2.25: A has left, B and C (leaving at 2.5) have not: exactly one slot.
    wait(750).await;
    assert_eq!(peek(&*rl, &k, 3, WINDOW).await, decision(true, 3, 1, 0));
    assert_eq!(check(&*rl, &k, 3, WINDOW).await, decision(true, 3, 0, 1));
    assert_eq!(check(&*rl, &k, 3, WINDOW).await, decision(false, 3, 0, 1));
    // t = 2.75: B and C have left; the request made at 2.25 still counts.
    wait(500).await;
    assert_eq!(check(&*rl, &k, 3, WINDOW).await, decision(true, 3, 1, 0));
}

/// Keys are limited independently.
pub async fn rate_limiter_keys_are_independent(rl: Arc<dyn RateLimiter>) {
    let (a, b) = (key("a"), key("b"));
    check(&*rl, &a, 2, MINUTE).await;
    check(&*rl, &a, 2, MINUTE).await;
    assert!(!check(&*rl, &a, 2, MINUTE).await.allowed);
    assert_eq!(peek(&*rl, &b, 2, MINUTE).await, decision(true, 2, 2, 0));
    assert_eq!(check(&*rl, &b, 2, MINUTE).await, decision(true, 2, 1, 0));
    assert!(!peek(&*rl, &a, 2, MINUTE).await.allowed);
}

/// Parallel checks of one key allow exactly `limit` requests.
pub async fn rate_limiter_parallel_checks_cannot_exceed_the_limit(rl: Arc<dyn RateLimiter>) {
    let k = Arc::new(key("parallel"));
    let barrier = Arc::new(Barrier::new(RACERS));
    let mut racers = JoinSet::new();
    for _ in 0..RACERS {
        let (rl, k, barrier) = (rl.clone(), k.clone(), barrier.clone());
        racers.spawn(async move {
            barrier.wait().await;
            check(&*rl, &k, 10, MINUTE).await.allowed
        });
    }
    let allowed = racers
        .join_all()
        .await
        .into_iter()
        .filter(|allowed| *allowed)
        .count();
    assert_eq!(allowed, 10);
    assert_eq!(peek(&*rl, &k, 10, MINUTE).await.remaining, 0);
}

async fn attempt(th: &dyn LoginThrottle, keys: &[&String], limit: u32, window: Duration) -> bool {
    let keys: Vec<String> = keys.iter().map(|key| (*key).clone()).collect();
    match th.attempt(&keys, limit, window).await.expect("attempt") {
        ThrottleDecision::Allowed => true,
        ThrottleDecision::Throttled { .. } => false,
    }
}

async fn retry_after(
    th: &dyn LoginThrottle,
    keys: &[&String],
    limit: u32,
    window: Duration,
) -> u64 {
    let keys: Vec<String> = keys.iter().map(|key| (*key).clone()).collect();
    match th.attempt(&keys, limit, window).await.expect("attempt") {
        ThrottleDecision::Allowed => panic!("attempt allowed, expected throttled"),
        ThrottleDecision::Throttled { retry_after_secs } => retry_after_secs,
    }
}

/// `limit` attempts are allowed; the next are refused until the oldest leaves the window.
pub async fn throttle_allows_up_to_the_limit(th: Arc<dyn LoginThrottle>) {
    let (account, ip) = (key("account"), key("ip"));
    for _ in 0..3 {
        assert!(attempt(&*th, &[&account, &ip], 3, MINUTE).await);
    }
    for _ in 0..3 {
        assert_eq!(retry_after(&*th, &[&account, &ip], 3, MINUTE).await, 60);
    }
}

/// `check` answers what `attempt` would, and counts nothing.
pub async fn throttle_check_counts_nothing(th: Arc<dyn LoginThrottle>) {
    let (account, ip) = (key("account"), key("ip"));
    let both = [account.clone(), ip.clone()];
    for _ in 0..5 {
        assert_eq!(
            th.check(&both, 2, MINUTE).await,
            Ok(ThrottleDecision::Allowed)
        );
    }
    assert!(attempt(&*th, &[&account], 2, MINUTE).await);
    assert!(attempt(&*th, &[&account], 2, MINUTE).await);
    assert_eq!(
        th.check(&both, 2, MINUTE).await,
        Ok(ThrottleDecision::Throttled {
            retry_after_secs: 60
        })
    );
    assert_eq!(
        th.check(std::slice::from_ref(&ip), 2, MINUTE).await,
        Ok(ThrottleDecision::Allowed)
    );
    assert!(attempt(&*th, &[&ip], 2, MINUTE).await);
    assert!(attempt(&*th, &[&ip], 2, MINUTE).await);
    assert!(!attempt(&*th, &[&ip], 2, MINUTE).await);
}

/// An allowed attempt counts on every key of the call.
pub async fn throttle_counts_every_key(th: Arc<dyn LoginThrottle>) {
    let (a, b, c) = (key("a"), key("b"), key("c"));
    assert!(attempt(&*th, &[&a, &b], 2, MINUTE).await);
    assert!(attempt(&*th, &[&a, &b], 2, MINUTE).await);
    assert!(!attempt(&*th, &[&a], 2, MINUTE).await);
    assert!(!attempt(&*th, &[&b], 2, MINUTE).await);
    assert!(!attempt(&*th, &[&c, &b], 2, MINUTE).await);
    assert!(attempt(&*th, &[&c], 2, MINUTE).await);
}

/// One key over the limit refuses the attempt, and a refused attempt counts on no key.
pub async fn throttle_refusal_counts_nothing(th: Arc<dyn LoginThrottle>) {
    let (account, ip) = (key("account"), key("ip"));
    assert!(attempt(&*th, &[&account], 2, MINUTE).await);
    assert!(attempt(&*th, &[&account], 2, MINUTE).await);
    for _ in 0..5 {
        assert!(!attempt(&*th, &[&account, &ip], 2, MINUTE).await);
    }
    assert!(attempt(&*th, &[&ip], 2, MINUTE).await);
    assert!(attempt(&*th, &[&ip], 2, MINUTE).await);
    assert!(!attempt(&*th, &[&ip], 2, MINUTE).await);
}

/// Attempts leave one by one, a window after each was made; `retry_after_secs` says when.
pub async fn throttle_window_slides(th: Arc<dyn LoginThrottle>) {
    let k = key("slide");
    // t = 0: X; t = 0.5: Y fills the limit; X leaves at 2.0, Y at 2.5.
    assert!(attempt(&*th, &[&k], 2, WINDOW).await);
    wait(500).await;
    assert!(attempt(&*th, &[&k], 2, WINDOW).await);
    assert_eq!(retry_after(&*th, &[&k], 2, WINDOW).await, 2);
    // t = 1.5: still refused.
    wait(1_000).await;
    assert_eq!(retry_after(&*th, &[&k], 2, WINDOW).await, 1);
    // t = 2.25: X has left, so exactly one attempt goes through.
    wait(750).await;
    assert!(attempt(&*th, &[&k], 2, WINDOW).await);
    assert_eq!(retry_after(&*th, &[&k], 2, WINDOW).await, 1);
}

/// `reset` forgets one key and only that key.
pub async fn throttle_reset_forgets_a_key(th: Arc<dyn LoginThrottle>) {
    let (account, ip) = (key("account"), key("ip"));
    assert!(attempt(&*th, &[&account, &ip], 2, MINUTE).await);
    assert!(attempt(&*th, &[&account, &ip], 2, MINUTE).await);
    th.reset(&account).await.expect("reset");
    assert!(attempt(&*th, &[&account], 2, MINUTE).await);
    assert!(!attempt(&*th, &[&account, &ip], 2, MINUTE).await);
    th.reset(&ip).await.expect("reset");
    assert!(attempt(&*th, &[&account, &ip], 2, MINUTE).await);
    assert!(!attempt(&*th, &[&account], 2, MINUTE).await);
    th.reset(&key("never-seen"))
        .await
        .expect("reset of an unknown key");
}

/// `release` takes back the newest attempt of a key, and never credits a key beyond empty.
pub async fn throttle_release_takes_back_the_newest_attempt(th: Arc<dyn LoginThrottle>) {
    let k = key("release");
    // t = 0: X; t = 1: Y, released at once.
    assert!(attempt(&*th, &[&k], 2, WINDOW).await);
    wait(1_000).await;
    assert!(attempt(&*th, &[&k], 2, WINDOW).await);
    th.release(&k).await.expect("release");
    // One slot again; the limit is then bound by X, leaving at 2.0 (not Y, at 3.0).
    assert!(attempt(&*th, &[&k], 2, WINDOW).await);
    assert_eq!(retry_after(&*th, &[&k], 2, WINDOW).await, 1);

    let fresh = key("fresh");
    th.release(&fresh).await.expect("release of an unknown key");
    th.release(&fresh).await.expect("release of an unknown key");
    assert!(attempt(&*th, &[&fresh], 2, MINUTE).await);
    assert!(attempt(&*th, &[&fresh], 2, MINUTE).await);
    assert!(!attempt(&*th, &[&fresh], 2, MINUTE).await);
}

/// Parallel attempts sharing an account key allow exactly `limit`, whatever their IPs.
pub async fn throttle_parallel_attempts_cannot_exceed_the_limit(th: Arc<dyn LoginThrottle>) {
    let account = key("account");
    let ips: Vec<String> = (0..7).map(|n| key(&format!("ip{n}"))).collect();
    let barrier = Arc::new(Barrier::new(RACERS));
    let mut racers = JoinSet::new();
    for n in 0..RACERS {
        let keys = vec![account.clone(), ips[n % ips.len()].clone()];
        let (th, barrier) = (th.clone(), barrier.clone());
        racers.spawn(async move {
            barrier.wait().await;
            th.attempt(&keys, 10, MINUTE).await.expect("attempt") == ThrottleDecision::Allowed
        });
    }
    let allowed = racers
        .join_all()
        .await
        .into_iter()
        .filter(|allowed| *allowed)
        .count();
    assert_eq!(allowed, 10);
    assert!(!attempt(&*th, &[&account], 10, MINUTE).await);
}

fn in_millis(millis: i64) -> DateTime<Utc> {
    Utc::now() + TimeDelta::milliseconds(millis)
}

async fn revoked(rv: &dyn RevocationList, session: Uuid) -> bool {
    rv.is_session_revoked(session)
        .await
        .expect("is_session_revoked")
}

/// A revocation is visible to the very next check, and only for its session.
pub async fn revocation_is_visible_at_once(rv: Arc<dyn RevocationList>) {
    let (session, other) = (Uuid::new_v4(), Uuid::new_v4());
    assert!(!revoked(&*rv, session).await);
    rv.revoke_session(session, in_millis(3_600_000))
        .await
        .expect("revoke");
    assert!(revoked(&*rv, session).await);
    assert!(!revoked(&*rv, other).await);
}

/// A revocation ends at its `until`.
pub async fn revocation_expires_at_until(rv: Arc<dyn RevocationList>) {
    let session = Uuid::new_v4();
    rv.revoke_session(session, in_millis(300))
        .await
        .expect("revoke");
    assert!(revoked(&*rv, session).await);
    until(Duration::from_secs(2), "the revocation ends", || async {
        !revoked(&*rv, session).await
    })
    .await;
}

/// A revocation whose `until` is already past revokes nothing.
pub async fn revocation_past_until_revokes_nothing(rv: Arc<dyn RevocationList>) {
    let session = Uuid::new_v4();
    rv.revoke_session(session, in_millis(-1_000))
        .await
        .expect("revoke");
    assert!(!revoked(&*rv, session).await);
}

/// Revoking again with an earlier `until` never shortens a revocation.
pub async fn revocation_is_never_shortened(rv: Arc<dyn RevocationList>) {
    let session = Uuid::new_v4();
    rv.revoke_session(session, in_millis(3_600_000))
        .await
        .expect("revoke");
    rv.revoke_session(session, in_millis(-1_000))
        .await
        .expect("revoke again");
    assert!(revoked(&*rv, session).await);
}

/// Revoking again with a later `until` extends a revocation.
pub async fn revocation_can_be_extended(rv: Arc<dyn RevocationList>) {
    let session = Uuid::new_v4();
    rv.revoke_session(session, in_millis(300))
        .await
        .expect("revoke");
    rv.revoke_session(session, in_millis(3_600_000))
        .await
        .expect("revoke again");
    wait(500).await;
    assert!(revoked(&*rv, session).await);
}

/// Expands to one `#[tokio::test]` per case of this module.
///
/// Each argument is an expression (usually an `async` block) whose `.await` yields an
/// `Arc` of an implementation (coerced to `Arc<dyn Port>`); it is evaluated once per case,
/// so every case gets a fresh instance. The default form runs the window cases on a paused
/// Tokio clock (in-process implementations); start with `real_clock;` for implementations
/// whose clock Tokio does not control. See the [module documentation](crate::testkit::limits).
///
/// The calling crate needs `tokio` (with `macros`, `rt-multi-thread` and, for the default
/// form, `test-util`) as a dev-dependency. Invoke it once per module.
#[macro_export]
macro_rules! limits_contract {
    (rate_limiter: $rl:expr, throttle: $th:expr, revocations: $rv:expr $(,)?) => {
        $crate::__limits_cases!((start_paused = true); $rl; $th; $rv);
    };
    (real_clock; rate_limiter: $rl:expr, throttle: $th:expr, revocations: $rv:expr $(,)?) => {
        $crate::__limits_cases!((); $rl; $th; $rv);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __limits_cases {
    ($clock:tt; $rl:expr; $th:expr; $rv:expr) => {
        $crate::__limits_case_group!(
            $clock $rl => RateLimiter;
            rate_limiter_counts_down_to_the_limit,
            rate_limiter_peek_counts_nothing,
            rate_limiter_denied_requests_are_not_counted,
            rate_limiter_window_slides,
            rate_limiter_keys_are_independent,
        );
        $crate::__limits_case_group!(
            (flavor = "multi_thread", worker_threads = 4) $rl => RateLimiter;
            rate_limiter_parallel_checks_cannot_exceed_the_limit,
        );
        $crate::__limits_case_group!(
            $clock $th => LoginThrottle;
            throttle_allows_up_to_the_limit,
            throttle_check_counts_nothing,
            throttle_counts_every_key,
            throttle_refusal_counts_nothing,
            throttle_window_slides,
            throttle_reset_forgets_a_key,
            throttle_release_takes_back_the_newest_attempt,
        );
        $crate::__limits_case_group!(
            (flavor = "multi_thread", worker_threads = 4) $th => LoginThrottle;
            throttle_parallel_attempts_cannot_exceed_the_limit,
        );
        $crate::__limits_case_group!(
            () $rv => RevocationList;
            revocation_is_visible_at_once,
            revocation_expires_at_until,
            revocation_past_until_revokes_nothing,
            revocation_is_never_shortened,
            revocation_can_be_extended,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __limits_case_group {
    ($attr:tt $make:expr => $port:ident; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test $attr]
            async fn $case() {
                let port: ::std::sync::Arc<dyn $crate::$port> = $make.await;
                $crate::testkit::limits::$case(port).await;
            }
        )*
    };
}
