//! [`InMemoryRateLimiter`]: a sliding-log request limiter held in this process.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ainative_ports::{PortResult, RateDecision, RateLimiter};
use async_trait::async_trait;
use moka::sync::Cache;
use moka::Expiry;
use parking_lot::Mutex;
use tokio::time::Instant;

use super::window::SlidingLog;

/// How many keys the limiter tracks by default before evicting the least useful ones.
pub const DEFAULT_MAX_KEYS: u64 = 100_000;

/// Extra idle time, beyond the window, before an idle key is dropped (absorbs clock jitter).
const IDLE_GRACE: Duration = Duration::from_secs(1);

/// A true sliding-window limiter: each key keeps the instants of its last `limit` allowed
/// requests, and a request is allowed while fewer than `limit` of them lie within the window.
///
/// - `check` counts allowed requests only; a denied request leaves no trace, so a client that
///   keeps hammering is not locked out for longer than the window.
/// - There is no fixed-window boundary, so no double burst: at most `limit` requests are
///   allowed in *any* interval of one window.
/// - `reset_secs` is 0 while a slot is free (`remaining > 0`), otherwise the whole seconds,
///   rounded up and at least 1, until the oldest counted request leaves the window.
/// - `limit == 0` means *unlimited* to callers and should not reach the limiter; if it does,
///   the request is allowed with `remaining == 0` and nothing is counted.
/// - Each key's check-and-count runs under that key's mutex, so it is atomic.
/// - Keys idle for longer than their window are dropped, and at most `max_keys` keys are kept
///   (least recently and least frequently used evicted first), so rotating keys cannot
///   exhaust memory. Evicting a live key forgets its requests: under such a flood a key may
///   get up to one extra window's worth of requests.
/// - Time is read from [`tokio::time::Instant`], so tests can pause and advance it.
/// - The limit holds per process only; a Redis limiter makes it global. Clones share their
///   keys.
#[derive(Clone)]
pub struct InMemoryRateLimiter {
    keys: Cache<String, Arc<KeyState>>,
}

/// One key: its sliding log and how long it may stay idle.
struct KeyState {
    /// Idle time before the key is dropped, in milliseconds: the largest window seen plus
    /// [`IDLE_GRACE`]. Read by the cache's expiry policy without taking the log's lock.
    idle_millis: AtomicU64,
    log: Mutex<SlidingLog>,
}

impl KeyState {
    fn new(window: Duration) -> Self {
        Self {
            idle_millis: AtomicU64::new(idle_millis(window)),
            log: Mutex::new(SlidingLog::new()),
        }
    }

    fn idle(&self) -> Duration {
        Duration::from_millis(self.idle_millis.load(Ordering::Relaxed))
    }
}

fn idle_millis(window: Duration) -> u64 {
    u64::try_from(window.saturating_add(IDLE_GRACE).as_millis()).unwrap_or(u64::MAX)
}

/// Drops a key once it has been idle for longer than its window.
struct IdleForWindow;

impl Expiry<String, Arc<KeyState>> for IdleForWindow {
    fn expire_after_create(
        &self,
        _key: &String,
        value: &Arc<KeyState>,
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        Some(value.idle())
    }

    fn expire_after_read(
        &self,
        _key: &String,
        value: &Arc<KeyState>,
        _read_at: std::time::Instant,
        _duration_until_expiry: Option<Duration>,
        _last_modified_at: std::time::Instant,
    ) -> Option<Duration> {
        Some(value.idle())
    }

    fn expire_after_update(
        &self,
        _key: &String,
        value: &Arc<KeyState>,
        _updated_at: std::time::Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.idle())
    }
}

impl InMemoryRateLimiter {
    /// A limiter tracking at most [`DEFAULT_MAX_KEYS`] keys.
    pub fn new() -> Self {
        Self::with_max_keys(DEFAULT_MAX_KEYS)
    }

    /// A limiter tracking at most `max_keys` keys.
    pub fn with_max_keys(max_keys: u64) -> Self {
        Self {
            keys: Cache::builder()
                .name("rate_limiter")
                .max_capacity(max_keys)
                .expire_after(IdleForWindow)
                .build(),
        }
    }

    /// The state of `key`, created on first use; remembers the largest window seen.
    fn state(&self, key: &str, window: Duration) -> Arc<KeyState> {
        let state = match self.keys.get(key) {
            Some(state) => state,
            None => self
                .keys
                .get_with(key.to_owned(), || Arc::new(KeyState::new(window))),
        };
        state
            .idle_millis
            .fetch_max(idle_millis(window), Ordering::Relaxed);
        state
    }
}

impl Default for InMemoryRateLimiter {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for InMemoryRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemoryRateLimiter")
            .field("keys", &self.keys.entry_count())
            .finish_non_exhaustive()
    }
}

/// The answer for `limit == 0` (unlimited): allowed, nothing counted.
fn unlimited() -> RateDecision {
    RateDecision {
        allowed: true,
        limit: 0,
        remaining: 0,
        reset_secs: 0,
    }
}

/// The view of a pruned log after a (possibly counted) request.
fn decision(
    log: &SlidingLog,
    allowed: bool,
    limit: u32,
    now: Instant,
    window: Duration,
) -> RateDecision {
    RateDecision {
        allowed,
        limit,
        remaining: limit.saturating_sub(log.used()),
        reset_secs: log.secs_until_free(limit, now, window),
    }
}

#[async_trait]
impl RateLimiter for InMemoryRateLimiter {
    async fn check(&self, key: &str, limit: u32, window: Duration) -> PortResult<RateDecision> {
        if limit == 0 {
            return Ok(unlimited());
        }
        let state = self.state(key, window);
        let now = Instant::now();
        let mut log = state.log.lock();
        log.prune(now, window);
        log.truncate_to(limit);
        let allowed = log.used() < limit;
        if allowed {
            log.record(now);
        }
        Ok(decision(&log, allowed, limit, now, window))
    }

    async fn peek(&self, key: &str, limit: u32, window: Duration) -> PortResult<RateDecision> {
        if limit == 0 {
            return Ok(unlimited());
        }
        let now = Instant::now();
        let Some(state) = self.keys.get(key) else {
            return Ok(decision(&SlidingLog::new(), true, limit, now, window));
        };
        let mut log = state.log.lock();
        log.prune(now, window);
        log.truncate_to(limit);
        let allowed = log.used() < limit;
        Ok(decision(&log, allowed, limit, now, window))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[tokio::test(start_paused = true)]
    async fn zero_limit_is_allowed_and_counts_nothing() {
        let limiter = InMemoryRateLimiter::new();
        for _ in 0..3 {
            let decision = limiter.check("k", 0, MINUTE).await.expect("check");
            assert_eq!(decision, unlimited());
        }
        assert_eq!(
            limiter.peek("k", 0, MINUTE).await.expect("peek"),
            unlimited()
        );
        limiter.keys.run_pending_tasks();
        assert_eq!(limiter.keys.entry_count(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn peek_does_not_create_a_key() {
        let limiter = InMemoryRateLimiter::new();
        let decision = limiter.peek("k", 5, MINUTE).await.expect("peek");
        assert_eq!(
            decision,
            RateDecision {
                allowed: true,
                limit: 5,
                remaining: 5,
                reset_secs: 0
            }
        );
        limiter.keys.run_pending_tasks();
        assert_eq!(limiter.keys.entry_count(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_shrunk_limit_applies_at_once() {
        let limiter = InMemoryRateLimiter::new();
        for _ in 0..5 {
            limiter.check("k", 10, MINUTE).await.expect("check");
            tokio::time::advance(Duration::from_secs(1)).await;
        }
        let decision = limiter.check("k", 3, MINUTE).await.expect("check");
        assert!(!decision.allowed);
        assert_eq!(decision.remaining, 0);
        // The oldest of the newest three was made at 2 s; it leaves at 62 s; now is 5 s.
        assert_eq!(decision.reset_secs, 57);
    }

    #[tokio::test(start_paused = true)]
    async fn the_log_never_holds_more_than_the_limit() {
        let limiter = InMemoryRateLimiter::new();
        for _ in 0..50 {
            limiter.check("k", 4, MINUTE).await.expect("check");
        }
        let state = limiter.state("k", MINUTE);
        assert_eq!(state.log.lock().used(), 4);
    }

    #[tokio::test]
    async fn idle_time_follows_the_largest_window() {
        let limiter = InMemoryRateLimiter::new();
        let window = Duration::from_millis(10);
        limiter.check("k", 1, window).await.expect("check");
        let state = limiter.state("k", window);
        assert_eq!(state.idle(), window + IDLE_GRACE);
        limiter.check("k", 1, MINUTE).await.expect("check");
        assert_eq!(state.idle(), MINUTE + IDLE_GRACE);
    }

    #[tokio::test]
    async fn the_number_of_keys_is_bounded() {
        let limiter = InMemoryRateLimiter::with_max_keys(100);
        for n in 0..1_000 {
            limiter
                .check(&format!("key-{n}"), 1, MINUTE)
                .await
                .expect("check");
        }
        limiter.keys.run_pending_tasks();
        assert!(limiter.keys.entry_count() <= 100);
    }
}
