//! [`InMemoryLoginThrottle`]: failed-login throttling held in this process.

use std::collections::HashMap;
use std::time::Duration;

use ainative_ports::{LoginThrottle, PortResult, ThrottleDecision};
use async_trait::async_trait;
use parking_lot::Mutex;
use tokio::time::Instant;

use super::window::SlidingLog;

/// Below this many keys the map is never swept.
const MIN_SWEEP_AT: usize = 1_024;

/// Sliding-log login throttling per key (account, IP, …).
///
/// - `attempt` takes one lock covering every key of the call, so checking all keys and
///   counting on all of them is one atomic step: parallel attempts cannot slip past the limit.
/// - When any key already has `limit` attempts within the window, the attempt is refused
///   with the seconds (rounded up, at least 1) until the last of the blocking keys frees a
///   slot, and nothing is counted on any key. Otherwise it is counted once on every distinct
///   key (a key named twice in one call counts once).
/// - `limit == 0` is not a meaningful throttle; it allows the attempt and counts nothing.
/// - `reset` forgets a key at once; `release` takes back its newest attempt (a key with no
///   attempt in the log is left as it is, never credited).
/// - Memory: each key keeps at most `limit` instants; keys whose attempts have all left
///   their window are swept when the map has doubled since the last sweep. No live key is
///   ever evicted for space, so an attacker cannot reset a counter by flooding other keys;
///   the map is bounded by the number of keys attempted within one window.
/// - Time is read from [`tokio::time::Instant`], so tests can pause and advance it.
/// - The throttle holds per process only; a Redis throttle makes it global.
#[derive(Debug, Default)]
pub struct InMemoryLoginThrottle {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    keys: HashMap<String, KeyLog>,
    /// Sweep expired keys once the map reaches this size.
    sweep_at: usize,
}

/// One key's attempts, with the window they were counted under (used by sweeps).
#[derive(Debug)]
struct KeyLog {
    log: SlidingLog,
    window: Duration,
}

impl State {
    /// Drops keys whose attempts have all left their window, at most once per doubling.
    fn sweep_if_due(&mut self, now: Instant) {
        if self.keys.len() < self.sweep_at.max(MIN_SWEEP_AT) {
            return;
        }
        self.keys.retain(|_, key| {
            key.log.prune(now, key.window);
            !key.log.is_empty()
        });
        self.sweep_at = self.keys.len().saturating_mul(2);
    }
}

impl InMemoryLoginThrottle {
    /// An empty throttle.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl LoginThrottle for InMemoryLoginThrottle {
    async fn attempt(
        &self,
        keys: &[String],
        limit: u32,
        window: Duration,
    ) -> PortResult<ThrottleDecision> {
        if limit == 0 {
            return Ok(ThrottleDecision::Allowed);
        }
        let mut distinct: Vec<&str> = keys.iter().map(String::as_str).collect();
        distinct.sort_unstable();
        distinct.dedup();

        let now = Instant::now();
        let mut state = self.state.lock();
        state.sweep_if_due(now);

        let mut retry_after_secs = 0;
        for key in &distinct {
            if let Some(entry) = state.keys.get_mut(*key) {
                entry.log.prune(now, window);
                retry_after_secs =
                    retry_after_secs.max(entry.log.secs_until_free(limit, now, window));
            }
        }
        if retry_after_secs > 0 {
            return Ok(ThrottleDecision::Throttled { retry_after_secs });
        }

        for key in distinct {
            let entry = state.keys.entry(key.to_owned()).or_insert_with(|| KeyLog {
                log: SlidingLog::new(),
                window,
            });
            entry.window = entry.window.max(window);
            entry.log.record(now);
        }
        Ok(ThrottleDecision::Allowed)
    }

    async fn check(
        &self,
        keys: &[String],
        limit: u32,
        window: Duration,
    ) -> PortResult<ThrottleDecision> {
        if limit == 0 {
            return Ok(ThrottleDecision::Allowed);
        }
        let now = Instant::now();
        let mut state = self.state.lock();
        let mut retry_after_secs = 0;
        for key in keys {
            if let Some(entry) = state.keys.get_mut(key.as_str()) {
                entry.log.prune(now, window);
                retry_after_secs =
                    retry_after_secs.max(entry.log.secs_until_free(limit, now, window));
            }
        }
        Ok(match retry_after_secs {
            0 => ThrottleDecision::Allowed,
            retry_after_secs => ThrottleDecision::Throttled { retry_after_secs },
        })
    }

    async fn reset(&self, key: &str) -> PortResult<()> {
        self.state.lock().keys.remove(key);
        Ok(())
    }

    async fn release(&self, key: &str) -> PortResult<()> {
        let mut state = self.state.lock();
        if let Some(entry) = state.keys.get_mut(key) {
            entry.log.take_newest();
            if entry.log.is_empty() {
                state.keys.remove(key);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn keys(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn a_key_named_twice_counts_once() {
        let throttle = InMemoryLoginThrottle::new();
        let twice = keys(&["a", "a"]);
        for _ in 0..2 {
            let decision = throttle.attempt(&twice, 2, MINUTE).await.expect("attempt");
            assert_eq!(decision, ThrottleDecision::Allowed);
        }
        let decision = throttle.attempt(&twice, 2, MINUTE).await.expect("attempt");
        assert!(matches!(decision, ThrottleDecision::Throttled { .. }));
    }

    #[tokio::test(start_paused = true)]
    async fn zero_limit_and_no_keys_are_allowed_without_counting() {
        let throttle = InMemoryLoginThrottle::new();
        let one = keys(&["a"]);
        for _ in 0..3 {
            let decision = throttle.attempt(&one, 0, MINUTE).await.expect("attempt");
            assert_eq!(decision, ThrottleDecision::Allowed);
            let decision = throttle.attempt(&[], 1, MINUTE).await.expect("attempt");
            assert_eq!(decision, ThrottleDecision::Allowed);
        }
        assert!(throttle.state.lock().keys.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_waits_for_the_slowest_blocking_key() {
        let throttle = InMemoryLoginThrottle::new();
        throttle
            .attempt(&keys(&["a"]), 1, MINUTE)
            .await
            .expect("attempt");
        tokio::time::advance(Duration::from_secs(20)).await;
        throttle
            .attempt(&keys(&["b"]), 1, MINUTE)
            .await
            .expect("attempt");
        let decision = throttle
            .attempt(&keys(&["a", "b"]), 1, MINUTE)
            .await
            .expect("attempt");
        assert_eq!(
            decision,
            ThrottleDecision::Throttled {
                retry_after_secs: 60
            }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn expired_keys_are_swept_but_live_ones_kept() {
        let throttle = InMemoryLoginThrottle::new();
        let live = keys(&["live"]);
        throttle
            .attempt(&live, 5, Duration::from_secs(3_600))
            .await
            .expect("attempt");
        // One key short of the sweep threshold, so the trigger attempt below sweeps.
        for n in 1..MIN_SWEEP_AT {
            throttle
                .attempt(&[format!("stale-{n}")], 5, MINUTE)
                .await
                .expect("attempt");
        }
        tokio::time::advance(MINUTE).await;
        throttle
            .attempt(&keys(&["trigger"]), 5, MINUTE)
            .await
            .expect("attempt");
        let state = throttle.state.lock();
        assert_eq!(state.keys.len(), 2, "only `live` and `trigger` remain");
        assert!(state.keys.contains_key("live"));
    }

    #[test]
    fn parallel_threads_cannot_slip_past_the_limit() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .expect("runtime");
        let throttle = std::sync::Arc::new(InMemoryLoginThrottle::new());
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(100));
        let threads: Vec<_> = (0..100)
            .map(|n| {
                let throttle = throttle.clone();
                let barrier = barrier.clone();
                let handle = runtime.handle().clone();
                std::thread::spawn(move || {
                    let keys = vec!["account".to_owned(), format!("ip-{}", n % 7)];
                    barrier.wait();
                    handle.block_on(throttle.attempt(&keys, 10, MINUTE))
                })
            })
            .collect();
        let allowed = threads
            .into_iter()
            .map(|thread| thread.join().expect("thread").expect("attempt"))
            .filter(|decision| *decision == ThrottleDecision::Allowed)
            .count();
        assert_eq!(allowed, 10);
    }
}
