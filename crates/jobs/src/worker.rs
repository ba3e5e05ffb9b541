//! The worker pool: N loops that claim a job, run its handler while heartbeating the lease,
//! and record the outcome.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ainative_ports::{
    Backoff, ClaimedJob, Clock, Conflict, FailOutcome, JobQueue, Lease, PortError,
};
use chrono::{DateTime, Utc};
use rand::Rng;
use tokio::sync::{watch, Notify};
use tokio::task::{JoinError, JoinHandle};
use tokio::time::Instant;
use tracing::Instrument;

use crate::handler::{JobError, Registry};
use crate::observe::{JobObserver, Outcome};

/// Longest error message stored on a job.
const MAX_ERROR_CHARS: usize = 2000;

/// How the workers behave.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Concurrent worker loops (each runs one job at a time).
    pub concurrency: usize,
    /// Prefix of the workers' names (loop `i` is `<name>-<i>`), stored as the lease owner;
    /// unique per process.
    pub name: String,
    /// How long a claim holds a job without a heartbeat (the visibility timeout).
    pub lease: Duration,
    /// How often a running job's lease is extended (well under `lease`).
    pub heartbeat: Duration,
    /// How long an idle worker waits before looking again when nothing woke it.
    pub poll: Duration,
    /// The wait before a failed job's next attempt.
    pub backoff: Backoff,
    /// On shutdown, how long a running handler may take to finish before its job is given
    /// back.
    pub shutdown_grace: Duration,
}

impl WorkerConfig {
    /// `concurrency` workers named `<name>-<i>`, with a 30 s lease heartbeated every 10 s,
    /// a 1 s poll, back-off from 5 s to 10 min and a 10 s shutdown grace.
    pub fn new(name: impl Into<String>, concurrency: usize) -> Self {
        Self {
            concurrency,
            name: name.into(),
            lease: Duration::from_secs(30),
            heartbeat: Duration::from_secs(10),
            poll: Duration::from_secs(1),
            backoff: Backoff {
                base: Duration::from_secs(5),
                max: Duration::from_secs(600),
            },
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// What the workers need.
#[derive(Clone)]
pub struct WorkerDeps {
    /// The queue.
    pub queue: Arc<dyn JobQueue>,
    /// The handlers; workers claim only their kinds.
    pub registry: Arc<Registry>,
    /// The time used for leases and retries.
    pub clock: Arc<dyn Clock>,
    /// Woken when a job is enqueued (in this process, or by a database notification).
    pub wakeup: Arc<Notify>,
    /// Told every outcome.
    pub observer: Arc<dyn JobObserver>,
}

/// Running worker loops. Dropping it stops them as [`WorkerPool::shutdown`] does, without
/// waiting for them.
pub struct WorkerPool {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    running: Arc<AtomicUsize>,
}

impl std::fmt::Debug for WorkerPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerPool")
            .field("workers", &self.tasks.len())
            .field("running", &self.running())
            .finish()
    }
}

impl WorkerPool {
    /// Starts `config.concurrency` worker loops on the current runtime. With no handler
    /// registered, starts none.
    pub fn start(deps: WorkerDeps, config: WorkerConfig) -> Self {
        let (stop, _) = watch::channel(false);
        let running = Arc::new(AtomicUsize::new(0));
        let kinds = deps.registry.kinds();
        deps.observer.register(&kinds);
        let count = if kinds.is_empty() {
            0
        } else {
            config.concurrency
        };
        let tasks = (0..count)
            .map(|i| {
                let worker = Worker {
                    name: format!("{}-{i}", config.name),
                    kinds: kinds.clone(),
                    deps: deps.clone(),
                    config: config.clone(),
                    stop: stop.subscribe(),
                    running: running.clone(),
                };
                tokio::spawn(worker.run())
            })
            .collect::<Vec<_>>();
        tracing::info!(workers = tasks.len(), kinds = ?kinds, name = %config.name, "job workers started");
        Self {
            stop,
            tasks,
            running,
        }
    }

    /// Worker loops started.
    pub fn workers(&self) -> usize {
        self.tasks.len()
    }

    /// Jobs this process is running now.
    pub fn running(&self) -> usize {
        self.running.load(Ordering::Relaxed)
    }

    /// Stops claiming, lets running handlers finish within the grace period (their jobs are
    /// given back otherwise) and waits for every loop to end.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            if let Err(err) = task.await {
                tracing::error!(error = %err, "a job worker ended abnormally");
            }
        }
        tracing::info!("job workers stopped");
    }
}

/// One worker loop.
struct Worker {
    name: String,
    kinds: Vec<String>,
    deps: WorkerDeps,
    config: WorkerConfig,
    stop: watch::Receiver<bool>,
    running: Arc<AtomicUsize>,
}

impl Worker {
    async fn run(mut self) {
        // A dropped pool stops its workers too.
        while !*self.stop.borrow() && self.stop.has_changed().is_ok() {
            // Registered before the claim, so an enqueue between the claim and the wait
            // still wakes this worker.
            let wakeup = self.deps.wakeup.clone();
            let woken = wakeup.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let now = self.deps.clock.now();
            match self
                .deps
                .queue
                .claim(&self.name, &self.kinds, now, self.config.lease)
                .await
            {
                Ok(Some(claimed)) => {
                    self.running.fetch_add(1, Ordering::Relaxed);
                    let span = tracing::info_span!(
                        "job",
                        job.id = %claimed.job.id,
                        job.kind = %claimed.job.kind,
                        attempt = claimed.job.attempts,
                    );
                    self.process(claimed).instrument(span).await;
                    self.running.fetch_sub(1, Ordering::Relaxed);
                }
                Ok(None) => {
                    tokio::select! {
                        () = woken => {}
                        () = tokio::time::sleep(self.config.poll) => {}
                        () = stopped(&mut self.stop) => {}
                    }
                }
                Err(err) => {
                    tracing::warn!(worker = %self.name, error = %err, "claiming a job failed");
                    tokio::select! {
                        () = tokio::time::sleep(self.config.poll) => {}
                        () = stopped(&mut self.stop) => {}
                    }
                }
            }
        }
    }

    /// Runs one claimed job to its outcome.
    async fn process(&mut self, claimed: ClaimedJob) {
        let ClaimedJob { job, lease } = claimed;
        let kind = job.kind.clone();
        let attempt = job.attempts;
        let Some(handler) = self.deps.registry.get(&kind) else {
            // Claimed only for registered kinds; give it back if the registry changed.
            let _ = self.deps.queue.release(&lease, self.deps.clock.now()).await;
            return;
        };
        let started = Instant::now();
        // A task of its own: a panic fails the attempt instead of the worker, and the work
        // can be aborted when the lease is lost or the grace period ends.
        let mut work = tokio::spawn(async move { handler.run(job).await });
        let heartbeat = keep_leased(
            self.deps.queue.clone(),
            self.deps.clock.clone(),
            lease.clone(),
            self.config.heartbeat,
            self.config.lease,
        );
        tokio::pin!(heartbeat);

        let finished = tokio::select! {
            result = &mut work => Some(result),
            () = &mut heartbeat => None,
            () = stopped(&mut self.stop) => {
                tokio::select! {
                    result = &mut work => Some(result),
                    () = &mut heartbeat => None,
                    () = tokio::time::sleep(self.config.shutdown_grace) => {
                        work.abort();
                        let released = self.deps.queue.release(&lease, self.deps.clock.now()).await;
                        let outcome = match released {
                            Err(PortError::Conflict(Conflict::LeaseLost)) => Outcome::LeaseLost,
                            Err(err) => {
                                tracing::warn!(job.id = %lease.job_id, error = %err, "giving a job back failed; it runs again once its lease expires");
                                Outcome::Released
                            }
                            Ok(()) => Outcome::Released,
                        };
                        tracing::info!(job.id = %lease.job_id, job.kind = %kind, "shutting down: job given back unfinished");
                        self.deps.observer.finished(&kind, outcome, started.elapsed());
                        return;
                    }
                }
            }
        };
        let Some(result) = finished else {
            work.abort();
            tracing::warn!(job.id = %lease.job_id, job.kind = %kind, "lease lost: another worker took the job over; result dropped");
            self.deps
                .observer
                .finished(&kind, Outcome::LeaseLost, started.elapsed());
            return;
        };
        let outcome = self.record(&lease, attempt, result).await;
        if let Some(outcome) = outcome {
            self.deps
                .observer
                .finished(&kind, outcome, started.elapsed());
        }
    }

    /// Stores the result of an attempt; `None` when the store could not be told (the lease
    /// then expires and the job runs again).
    async fn record(
        &self,
        lease: &Lease,
        attempt: u32,
        result: Result<Result<(), JobError>, JoinError>,
    ) -> Option<Outcome> {
        let now = self.deps.clock.now();
        let (error, permanent) = match result {
            Ok(Ok(())) => {
                return match self.deps.queue.complete(lease, now).await {
                    Ok(()) => Some(Outcome::Succeeded),
                    Err(err) => self.unrecorded(lease, err),
                };
            }
            Ok(Err(err)) => (err.to_string(), err.is_permanent()),
            Err(join) if join.is_panic() => ("the handler panicked".to_owned(), false),
            Err(_) => ("the handler was cancelled".to_owned(), false),
        };
        let error = truncate(&error);
        let jitter = rand::thread_rng().gen_range(-1.0..=1.0);
        let retry_at = (!permanent).then(|| after(now, self.config.backoff.delay(attempt, jitter)));
        match self.deps.queue.fail(lease, &error, now, retry_at).await {
            Ok(FailOutcome::Retry(at)) => {
                tracing::warn!(job.id = %lease.job_id, attempt, retry_at = %at, error = %error, "job failed; will retry");
                Some(Outcome::Retried)
            }
            Ok(FailOutcome::Dead) => {
                tracing::error!(job.id = %lease.job_id, attempt, error = %error, "job failed on its last attempt; dead");
                Some(Outcome::Dead)
            }
            Err(err) => self.unrecorded(lease, err),
        }
    }

    fn unrecorded(&self, lease: &Lease, err: PortError) -> Option<Outcome> {
        if matches!(err, PortError::Conflict(Conflict::LeaseLost)) {
            tracing::warn!(job.id = %lease.job_id, "lease lost before the result was stored; result dropped");
            return Some(Outcome::LeaseLost);
        }
        tracing::warn!(job.id = %lease.job_id, error = %err, "storing a job's result failed; it runs again once its lease expires");
        None
    }
}

/// Resolves once the pool is stopping (or was dropped).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    // The guard `wait_for` answers is dropped here, not held across the caller's awaits.
    let _ = stop.wait_for(|stop| *stop).await.map(|_| ());
}

/// Extends `lease` every `every` by `extend`; returns only when the lease is lost. A failed
/// heartbeat (database unreachable) is retried at the next tick: the lease may still hold.
async fn keep_leased(
    queue: Arc<dyn JobQueue>,
    clock: Arc<dyn Clock>,
    lease: Lease,
    every: Duration,
    extend: Duration,
) {
    loop {
        tokio::time::sleep(every).await;
        match queue.heartbeat(&lease, clock.now(), extend).await {
            Ok(_) => {}
            Err(PortError::Conflict(Conflict::LeaseLost)) => return,
            Err(err) => {
                tracing::warn!(job.id = %lease.job_id, error = %err, "lease heartbeat failed");
            }
        }
    }
}

fn after(now: DateTime<Utc>, delay: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(delay)
        .ok()
        .and_then(|delay| now.checked_add_signed(delay))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn truncate(message: &str) -> String {
    match message.char_indices().nth(MAX_ERROR_CHARS) {
        Some((cut, _)) => format!("{}…", &message[..cut]),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_errors_are_cut_on_a_char_boundary() {
        let long = "é".repeat(MAX_ERROR_CHARS + 10);
        let cut = truncate(&long);
        assert_eq!(cut.chars().count(), MAX_ERROR_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(truncate("short"), "short");
    }
}
