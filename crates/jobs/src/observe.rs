//! What the workers tell the outside (metrics), without depending on a metrics library.

use std::sync::Arc;
use std::time::Duration;

use ainative_ports::{Clock, JobQueue, JobStats};
use tokio::sync::watch;

/// How an attempt ended, as `jobs_total{outcome}` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The handler finished; the job is done.
    Succeeded,
    /// The handler failed; the job will run again after its back-off.
    Retried,
    /// The handler failed on the last attempt; the job is dead.
    Dead,
    /// Another worker took the job over (this one's lease expired); the result was dropped.
    LeaseLost,
    /// The worker shut down before the handler finished and gave the job back.
    Released,
}

impl Outcome {
    /// Every outcome, for series that must exist from the start.
    pub const ALL: [Self; 5] = [
        Self::Succeeded,
        Self::Retried,
        Self::Dead,
        Self::LeaseLost,
        Self::Released,
    ];

    /// The label value.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Retried => "retried",
            Self::Dead => "dead",
            Self::LeaseLost => "lease_lost",
            Self::Released => "released",
        }
    }
}

/// Receives what workers do; the server records it as Prometheus series.
pub trait JobObserver: Send + Sync {
    /// The kinds this process runs, once at start, so their series exist at zero.
    fn register(&self, kinds: &[String]);
    /// An attempt of a `kind` job ended with `outcome` after `elapsed`.
    fn finished(&self, kind: &str, outcome: Outcome, elapsed: Duration);
    /// The queue's counts, sampled periodically.
    fn sampled(&self, stats: &JobStats);
}

/// Observes nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoObserver;

impl JobObserver for NoObserver {
    fn register(&self, _kinds: &[String]) {}
    fn finished(&self, _kind: &str, _outcome: Outcome, _elapsed: Duration) {}
    fn sampled(&self, _stats: &JobStats) {}
}

/// Samples the queue's counts into `observer` every `every` until `stop` turns true (or its
/// sender is gone). A failed sample is logged at debug and skipped: the health endpoint
/// reports an unreachable database already.
pub async fn sample_stats(
    queue: Arc<dyn JobQueue>,
    clock: Arc<dyn Clock>,
    observer: Arc<dyn JobObserver>,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        match queue.stats(clock.now()).await {
            Ok(stats) => observer.sampled(&stats),
            Err(err) => tracing::debug!(error = %err, "job stats sample failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
    }
}
