//! The sliding log shared by the in-process rate limiter and login throttle.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// The instants of the hits still inside a sliding window, oldest first.
///
/// A hit made at `t` counts while `now - t < window`: it leaves the window exactly one
/// window after it was made. Callers keep at most `limit` hits, so memory per key is bounded
/// by the limit, not by the traffic.
#[derive(Debug, Default)]
pub(crate) struct SlidingLog {
    hits: VecDeque<Instant>,
}

impl SlidingLog {
    /// An empty log.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Drops the hits that have left the window ending at `now`.
    pub(crate) fn prune(&mut self, now: Instant, window: Duration) {
        while self
            .hits
            .front()
            .is_some_and(|hit| now.saturating_duration_since(*hit) >= window)
        {
            self.hits.pop_front();
        }
    }

    /// Keeps only the newest `limit` hits (the limit may shrink between calls, say after a
    /// tier change). The older hits cannot matter: a slot frees only when the oldest of the
    /// newest `limit` leaves.
    pub(crate) fn truncate_to(&mut self, limit: u32) {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        while self.hits.len() > limit {
            self.hits.pop_front();
        }
    }

    /// Counts a hit at `now`.
    pub(crate) fn record(&mut self, now: Instant) {
        self.hits.push_back(now);
    }

    /// Takes back the newest hit, if any.
    pub(crate) fn take_newest(&mut self) {
        self.hits.pop_back();
    }

    /// The number of hits in the log.
    pub(crate) fn used(&self) -> u32 {
        u32::try_from(self.hits.len()).unwrap_or(u32::MAX)
    }

    /// True when the log holds no hit.
    pub(crate) fn is_empty(&self) -> bool {
        self.hits.is_empty()
    }

    /// Whole seconds (rounded up) until fewer than `limit` hits are in the window: 0 when that
    /// is already so, at least 1 otherwise. Call [`Self::prune`] first.
    pub(crate) fn secs_until_free(&self, limit: u32, now: Instant, window: Duration) -> u64 {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let Some(blocking) = self
            .hits
            .len()
            .checked_sub(limit)
            .and_then(|index| self.hits.get(index))
        else {
            return 0;
        };
        let age = now.saturating_duration_since(*blocking);
        ceil_secs(window.saturating_sub(age)).max(1)
    }
}

/// A duration in whole seconds, rounded up.
fn ceil_secs(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Duration = Duration::from_secs(10);

    #[test]
    fn ceil_secs_rounds_up() {
        assert_eq!(ceil_secs(Duration::ZERO), 0);
        assert_eq!(ceil_secs(Duration::from_millis(1)), 1);
        assert_eq!(ceil_secs(Duration::from_secs(2)), 2);
        assert_eq!(ceil_secs(Duration::from_millis(2001)), 3);
    }

    #[test]
    fn a_hit_leaves_exactly_one_window_later() {
        let start = Instant::now();
        let mut log = SlidingLog::new();
        log.record(start);
        log.prune(start + WINDOW - Duration::from_nanos(1), WINDOW);
        assert_eq!(log.used(), 1);
        log.prune(start + WINDOW, WINDOW);
        assert!(log.is_empty());
    }

    #[test]
    fn secs_until_free_waits_for_the_oldest_counted_hit() {
        let start = Instant::now();
        let mut log = SlidingLog::new();
        log.record(start);
        log.record(start + Duration::from_secs(4));
        let now = start + Duration::from_millis(5500);
        assert_eq!(log.secs_until_free(3, now, WINDOW), 0);
        assert_eq!(log.secs_until_free(2, now, WINDOW), 5);
        assert_eq!(log.secs_until_free(1, now, WINDOW), 9);
        assert_eq!(log.secs_until_free(0, now, WINDOW), 0);
    }

    #[test]
    fn secs_until_free_is_at_least_one_when_full() {
        let start = Instant::now();
        let mut log = SlidingLog::new();
        log.record(start);
        // Called without pruning at the very edge: still reports a positive wait.
        assert_eq!(log.secs_until_free(1, start + WINDOW, WINDOW), 1);
    }

    #[test]
    fn take_newest_takes_back_the_last_hit_only() {
        let start = Instant::now();
        let mut log = SlidingLog::new();
        log.take_newest();
        assert!(log.is_empty());
        log.record(start);
        log.record(start + Duration::from_secs(3));
        log.take_newest();
        assert_eq!(log.used(), 1);
        assert_eq!(log.secs_until_free(1, start, WINDOW), 10);
    }

    #[test]
    fn truncate_keeps_the_newest_hits() {
        let start = Instant::now();
        let mut log = SlidingLog::new();
        for second in 0..5 {
            log.record(start + Duration::from_secs(second));
        }
        log.truncate_to(2);
        assert_eq!(log.used(), 2);
        let now = start + Duration::from_secs(5);
        // The oldest kept hit was made at 3 s and leaves at 13 s.
        assert_eq!(log.secs_until_free(2, now, WINDOW), 8);
    }
}
