//! Waiting on a condition instead of sleeping: poll with a short interval until it holds,
//! and fail the test with a message naming the condition when a deadline passes.
//!
//! These are the only place a test waits in real time for something it can observe. Where
//! time itself is what is tested, use Tokio's paused clock (`#[tokio::test(start_paused =
//! true)]`, `tokio::time::advance`) instead.

use std::future::Future;
use std::time::Duration;

// Tokio's clock, so that the helpers also work (instantly) on a paused clock.
use tokio::time::Instant;

/// How often a condition is polled.
pub const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Polls `check` until it returns `true`; panics with `what` once `limit` has passed.
/// Returns how long it took. The condition is evaluated at least once, and once more at
/// the deadline, so a slow check is never cut short by the clock alone.
///
/// ```ignore
/// wait_until(Duration::from_secs(5), "the server answers /live", || async {
///     client.get(&url).send().await.is_ok_and(|r| r.status() == 200)
/// })
/// .await;
/// ```
pub async fn wait_until<F, Fut>(limit: Duration, what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let ((), took) = wait_for_timed(limit, what, || {
        let fut = check();
        async move { fut.await.then_some(()) }
    })
    .await;
    took
}

/// Polls `probe` until it returns `Some`; returns the value. Panics with `what` once `limit`
/// has passed.
pub async fn wait_for<T, F, Fut>(limit: Duration, what: &str, probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    wait_for_timed(limit, what, probe).await.0
}

/// [`wait_for`], also returning how long the wait took.
pub async fn wait_for_timed<T, F, Fut>(limit: Duration, what: &str, mut probe: F) -> (T, Duration)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = Instant::now();
    let deadline = started + limit;
    let mut polls = 0_u32;
    loop {
        polls += 1;
        if let Some(value) = probe().await {
            return (value, started.elapsed());
        }
        let now = Instant::now();
        if now >= deadline {
            panic!(
                "timed out after {:?} ({polls} polls) waiting until {what}",
                now - started
            );
        }
        // Never sleep past the deadline: the last poll happens at it.
        tokio::time::sleep(POLL_INTERVAL.min(deadline - now)).await;
    }
}

/// Runs `fut`, failing the test when it does not complete within `limit` (it hangs);
/// returns its output and how long it took.
pub async fn within<T>(limit: Duration, what: &str, fut: impl Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    match tokio::time::timeout(limit, fut).await {
        Ok(value) => (value, started.elapsed()),
        Err(_) => panic!("{what} did not complete within {limit:?}: it hangs"),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test]
    async fn returns_once_the_condition_holds() {
        let calls = AtomicU32::new(0);
        let value = wait_for(Duration::from_secs(5), "the third call", || async {
            let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
            (n >= 3).then_some(n)
        })
        .await;
        assert_eq!(value, 3);
    }

    #[tokio::test(start_paused = true)]
    #[should_panic(expected = "waiting until the impossible happens")]
    async fn names_the_condition_when_the_deadline_passes() {
        wait_until(Duration::from_secs(1), "the impossible happens", || async {
            false
        })
        .await;
    }

    #[tokio::test(start_paused = true)]
    #[should_panic(expected = "it hangs")]
    async fn within_fails_a_hang() {
        within(
            Duration::from_secs(1),
            "pending",
            std::future::pending::<()>(),
        )
        .await;
    }
}
