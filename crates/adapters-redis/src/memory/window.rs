//! The sliding log shared by the in-process rate limiter and login throttle.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// Hits made within this long of the first hit of a run are stored as one run.
const RUN_SPAN: Duration = Duration::from_millis(1);

/// Hits counted together: `count` hits, the first made at `first`, the others within
/// [`RUN_SPAN`] after it.
#[derive(Debug, Clone, Copy)]
struct Run {
    first: Instant,
    count: u32,
}

/// The hits still inside a sliding window, oldest first.
///
/// A hit made at `t` counts while `now - t < window`: it leaves the window exactly one
/// window after it was made. Hits made within a millisecond of each other are kept as one
/// run and leave together with the first of them, so memory per key is bounded by the
/// limit (callers keep at most `limit` hits) and by one run per millisecond of the window,
/// whichever is smaller, not by the traffic. At most one hit per millisecond — every
/// realistic client — is counted exactly.
#[derive(Debug, Default)]
pub(crate) struct SlidingLog {
    runs: VecDeque<Run>,
    hits: u32,
}

impl SlidingLog {
    /// An empty log.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Drops the hits that have left the window ending at `now`.
    pub(crate) fn prune(&mut self, now: Instant, window: Duration) {
        while let Some(run) = self.runs.front() {
            if now.saturating_duration_since(run.first) < window {
                break;
            }
            self.hits -= run.count;
            self.runs.pop_front();
        }
        // Give back the memory of a burst once it has left the window.
        if self.runs.capacity() > 64 && self.runs.len() < self.runs.capacity() / 4 {
            self.runs.shrink_to(self.runs.len() * 2);
        }
    }

    /// Keeps only the newest `limit` hits (the limit may shrink between calls, say after a
    /// tier change). The older hits cannot matter: a slot frees only when the oldest of the
    /// newest `limit` leaves.
    pub(crate) fn truncate_to(&mut self, limit: u32) {
        while self.hits > limit {
            let excess = self.hits - limit;
            let Some(front) = self.runs.front_mut() else {
                break;
            };
            if front.count > excess {
                front.count -= excess;
                self.hits -= excess;
            } else {
                self.hits -= front.count;
                self.runs.pop_front();
            }
        }
    }

    /// Counts a hit at `now`.
    pub(crate) fn record(&mut self, now: Instant) {
        self.hits = self.hits.saturating_add(1);
        match self.runs.back_mut() {
            Some(run) if now.saturating_duration_since(run.first) < RUN_SPAN => run.count += 1,
            _ => self.runs.push_back(Run {
                first: now,
                count: 1,
            }),
        }
    }

    /// Takes back the newest hit, if any.
    pub(crate) fn take_newest(&mut self) {
        if let Some(run) = self.runs.back_mut() {
            run.count -= 1;
            self.hits -= 1;
            if run.count == 0 {
                self.runs.pop_back();
            }
        }
    }

    /// The number of hits in the log.
    pub(crate) fn used(&self) -> u32 {
        self.hits
    }

    /// True when the log holds no hit.
    pub(crate) fn is_empty(&self) -> bool {
        self.hits == 0
    }

    /// Whole seconds (rounded up) until fewer than `limit` hits are in the window: 0 when that
    /// is already so, at least 1 otherwise. Call [`Self::prune`] first.
    pub(crate) fn secs_until_free(&self, limit: u32, now: Instant, window: Duration) -> u64 {
        if self.hits < limit || limit == 0 {
            return 0;
        }
        // A slot frees when the `limit`-th newest hit leaves: walk back to its run.
        let mut newer = 0u32;
        let blocking = self.runs.iter().rev().find(|run| {
            newer = newer.saturating_add(run.count);
            newer >= limit
        });
        let Some(blocking) = blocking else {
            return 0;
        };
        let age = now.saturating_duration_since(blocking.first);
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
    fn hits_within_a_millisecond_share_one_run() {
        let start = Instant::now();
        let mut log = SlidingLog::new();
        for micros in 0..1000 {
            log.record(start + Duration::from_micros(micros));
        }
        log.record(start + RUN_SPAN);
        assert_eq!(log.used(), 1001);
        assert_eq!(log.runs.len(), 2);
        // The run leaves with its first hit; the next one a millisecond later.
        log.prune(start + WINDOW, WINDOW);
        assert_eq!(log.used(), 1);
        log.prune(start + WINDOW + RUN_SPAN, WINDOW);
        assert!(log.is_empty());
    }

    #[test]
    fn a_steady_stream_does_not_drift_into_one_run() {
        let start = Instant::now();
        let mut log = SlidingLog::new();
        for step in 0..40 {
            log.record(start + Duration::from_micros(250 * step));
        }
        // Forty hits 0.25 ms apart span 10 ms: ten runs of four, not one.
        assert_eq!(log.runs.len(), 10);
        assert_eq!(log.used(), 40);
    }

    #[test]
    fn truncate_and_take_back_split_runs() {
        let start = Instant::now();
        let mut log = SlidingLog::new();
        for _ in 0..5 {
            log.record(start);
        }
        log.record(start + Duration::from_secs(2));
        log.truncate_to(3);
        assert_eq!(log.used(), 3);
        assert_eq!(log.runs.len(), 2);
        // Two of the newest three were made at `start`: the slot frees when they leave.
        let now = start + Duration::from_secs(2);
        assert_eq!(log.secs_until_free(3, now, WINDOW), 8);
        assert_eq!(log.secs_until_free(1, now, WINDOW), 10);
        assert_eq!(log.secs_until_free(4, now, WINDOW), 0);
        log.take_newest();
        log.take_newest();
        assert_eq!(log.used(), 1);
        assert_eq!(log.runs.len(), 1);
    }

    #[test]
    fn memory_is_given_back_after_a_burst() {
        let start = Instant::now();
        let mut log = SlidingLog::new();
        for ms in 0..10_000 {
            log.record(start + Duration::from_millis(ms));
        }
        assert!(log.runs.capacity() >= 10_000);
        log.prune(start + Duration::from_secs(100), WINDOW);
        assert!(log.is_empty());
        assert!(log.runs.capacity() < 1_000, "{}", log.runs.capacity());
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
