//! The durable job queue: work done off the request path, at least once.
//!
//! A producer [`JobQueue::enqueue`]s a [`NewJob`] (or writes it in the same transaction as
//! the row that needs it, which the SQL store offers to its own modules). A worker
//! [`JobQueue::claim`]s one with a per-job **lease**: the job is its own until
//! `lease_expires_at`, which [`JobQueue::heartbeat`] pushes forward while the handler runs.
//! A worker that dies stops heartbeating; once the lease has expired, any worker's next
//! claim takes the job again. Every change a worker makes afterwards names its [`Lease`],
//! whose `fence` grows with every claim, so a stale worker (one whose lease was taken over)
//! cannot overwrite the new owner's outcome: it gets [`Conflict::LeaseLost`](crate::Conflict::LeaseLost).
//!
//! A failed attempt is retried at the time the caller computed (exponential back-off with
//! jitter, [`Backoff`]) until `max_attempts`, then the job is **dead**: kept, listed and
//! retried only by an administrator.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use ainative_domain::{NewAuditEntry, Page, Paginated};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::PortResult;

/// Attempts a job gets unless its producer says otherwise.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for `run_at` and a worker (new, or waiting for a retry).
    Queued,
    /// Leased by a worker until `lease_expires_at`.
    Running,
    /// Its handler finished. Terminal.
    Succeeded,
    /// Every attempt failed. Kept for inspection until an administrator retries it.
    Dead,
}

impl JobState {
    /// Every state, in life order.
    pub const ALL: [Self; 4] = [Self::Queued, Self::Running, Self::Succeeded, Self::Dead];

    /// The stored (and JSON) name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Dead => "dead",
        }
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| format!("unknown job state {s:?}"))
    }
}

/// A job to enqueue. Build it with [`NewJob::new`] and the builder methods.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    /// Chosen by the producer.
    pub id: Uuid,
    /// Names the handler, e.g. `mail.send`, `material.process`, `report.build`.
    pub kind: String,
    /// The handler's input.
    pub payload: serde_json::Value,
    /// At most one job per `(kind, unique_key)` is ever stored: enqueueing a second is a
    /// no-op that answers the first one's id.
    pub unique_key: Option<String>,
    /// Not claimed before this time.
    pub run_at: DateTime<Utc>,
    /// Attempts before the job is dead (at least 1).
    pub max_attempts: u32,
    /// When it was enqueued.
    pub created_at: DateTime<Utc>,
}

impl NewJob {
    /// A job of `kind` with `payload`, enqueued at `at`, runnable at once, with a new id, no
    /// unique key and [`DEFAULT_MAX_ATTEMPTS`].
    pub fn new(kind: impl Into<String>, payload: serde_json::Value, at: DateTime<Utc>) -> Self {
        Self {
            id: Uuid::new_v4(),
            kind: kind.into(),
            payload,
            unique_key: None,
            run_at: at,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            created_at: at,
        }
    }

    /// Deduplicates on `key` (within the kind).
    pub fn unique(mut self, key: impl Into<String>) -> Self {
        self.unique_key = Some(key.into());
        self
    }

    /// Not before `at`.
    pub fn run_after(mut self, at: DateTime<Utc>) -> Self {
        self.run_at = at;
        self
    }

    /// At most `attempts` attempts (at least one is made).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }
}

/// What [`JobQueue::enqueue`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enqueued {
    /// The job's id: the new one, or the existing job's for a duplicate unique key.
    pub id: Uuid,
    /// False when a job with the same unique key existed (nothing was written).
    pub created: bool,
}

/// A stored job.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    /// Its id.
    pub id: Uuid,
    /// Names the handler.
    pub kind: String,
    /// The handler's input.
    pub payload: serde_json::Value,
    /// See [`NewJob::unique_key`].
    pub unique_key: Option<String>,
    /// Where it is.
    pub state: JobState,
    /// Attempts started (claims), including the running one.
    pub attempts: u32,
    /// Attempts before it is dead.
    pub max_attempts: u32,
    /// Not claimed before this time.
    pub run_at: DateTime<Utc>,
    /// The worker holding it (while running; the last one after).
    pub lease_owner: Option<String>,
    /// Until when the running attempt is leased.
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// The last failure, for people.
    pub last_error: Option<String>,
    /// When an attempt last failed.
    pub failed_at: Option<DateTime<Utc>>,
    /// Enqueued at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
    /// When it succeeded or died.
    pub finished_at: Option<DateTime<Utc>>,
}

/// A worker's hold on a running job: it names the claim, so only that claim can change the
/// job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The job.
    pub job_id: Uuid,
    /// The claiming worker's name.
    pub owner: String,
    /// Grows with every claim of the job (fencing token): an older claim's changes are
    /// refused.
    pub fence: i64,
    /// Until when the job is held unless heartbeats extend it.
    pub expires_at: DateTime<Utc>,
}

/// A job claimed by a worker.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedJob {
    /// The job, as claimed (`state` running, `attempts` counting this one).
    pub job: Job,
    /// The worker's hold on it.
    pub lease: Lease,
}

/// What [`JobQueue::fail`] did with the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOutcome {
    /// Queued again, to run at this time.
    Retry(DateTime<Utc>),
    /// That was the last attempt.
    Dead,
}

/// Which jobs [`JobQueue::list`] returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobFilter {
    /// Only in this state.
    pub state: Option<JobState>,
    /// Only of this kind.
    pub kind: Option<String>,
}

/// Counts for health and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobStats {
    /// Queued jobs (due or not) per kind; kinds with none are absent.
    pub queued: BTreeMap<String, u64>,
    /// Jobs running (leased, expired leases included until reclaimed).
    pub running: u64,
    /// Jobs whose last failure was within the hour before the `now` asked about.
    pub failed_last_hour: u64,
    /// Dead jobs.
    pub dead: u64,
}

impl JobStats {
    /// Queued jobs of every kind.
    pub fn queued_total(&self) -> u64 {
        self.queued.values().sum()
    }
}

/// Exponential back-off with jitter: attempt `n` (1-based) waits `base · 2^(n-1)`, at most
/// `max`, then a random part of up to a quarter of that is added or removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failure.
    pub base: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Backoff {
    /// The wait after failed attempt `attempt` (1-based), given `jitter` in `[-1, 1]`
    /// (clamped), which the caller draws at random.
    pub fn delay(&self, attempt: u32, jitter: f64) -> Duration {
        let exponent = attempt.saturating_sub(1).min(32);
        let plain = self
            .base
            .checked_mul(1u32 << exponent.min(31))
            .unwrap_or(self.max)
            .min(self.max);
        let jitter = if jitter.is_nan() {
            0.0
        } else {
            jitter.clamp(-1.0, 1.0)
        };
        let spread = plain.as_secs_f64() * 0.25 * jitter;
        Duration::from_secs_f64((plain.as_secs_f64() + spread).max(0.0))
    }
}

/// The durable queue.
///
/// Times are passed in (`now`), so that every instance and test decides with one clock;
/// stores compare them with stored times only.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait JobQueue: Send + Sync {
    /// Stores `job`. With a `unique_key` already used by a job of the same kind, stores
    /// nothing and answers that job's id with `created: false`.
    ///
    /// Errors: `Conflict(Duplicate("job"))` when the id exists; `Unavailable`.
    async fn enqueue(&self, job: NewJob) -> PortResult<Enqueued>;

    /// Takes the next job of one of `kinds` that is due (`run_at <= now`, oldest `run_at`
    /// first), or whose lease expired before `now`, and leases it to `worker` until
    /// `now + lease`: state running, `attempts` + 1, a new fence. Two concurrent claims never
    /// get the same job. A job whose lease expired on its last attempt is never claimed again
    /// (its worker died every time): a claim makes such jobs dead, at least once a second
    /// per store, so an implementation need not pay for that in every claim.
    ///
    /// `None` when nothing is due (or `kinds` is empty).
    ///
    /// Errors: `Unavailable`.
    async fn claim(
        &self,
        worker: &str,
        kinds: &[String],
        now: DateTime<Utc>,
        lease: Duration,
    ) -> PortResult<Option<ClaimedJob>>;

    /// Extends `lease` to `now + extend` and answers the new expiry.
    ///
    /// Errors: `Conflict(LeaseLost)` when the job is no longer held by this lease (it expired
    /// and another claim took it, or an administrator changed it); `Unavailable`.
    async fn heartbeat(
        &self,
        lease: &Lease,
        now: DateTime<Utc>,
        extend: Duration,
    ) -> PortResult<DateTime<Utc>>;

    /// Marks the job succeeded.
    ///
    /// Errors: `Conflict(LeaseLost)`; `Unavailable`.
    async fn complete(&self, lease: &Lease, now: DateTime<Utc>) -> PortResult<()>;

    /// Records a failed attempt with `error` (for people): queued again to run at `retry_at`
    /// while attempts remain, else dead. `retry_at: None` is a permanent failure (a retry
    /// cannot help, say a mail server's 5xx): dead at once, whatever attempts remain.
    ///
    /// Errors: `Conflict(LeaseLost)`; `Unavailable`.
    async fn fail(
        &self,
        lease: &Lease,
        error: &str,
        now: DateTime<Utc>,
        retry_at: Option<DateTime<Utc>>,
    ) -> PortResult<FailOutcome>;

    /// Gives the job back unfinished (a worker shutting down): queued, runnable at `now`,
    /// and the attempt does not count.
    ///
    /// Errors: `Conflict(LeaseLost)`; `Unavailable`.
    async fn release(&self, lease: &Lease, now: DateTime<Utc>) -> PortResult<()>;

    /// One job.
    ///
    /// Errors: `NotFound`; `Unavailable`.
    async fn get(&self, id: Uuid) -> PortResult<Job>;

    /// A page of jobs matching `filter`, newest first (by `created_at`, then id).
    ///
    /// Errors: `Unavailable`.
    async fn list(&self, filter: JobFilter, page: Page) -> PortResult<Paginated<Job>>;

    /// Queues a dead job again with its attempts reset, runnable at `now`, writing `audit`
    /// in the same transaction; answers the job as queued.
    ///
    /// Errors: `NotFound`; `Conflict(JobNotDead)` for a job in any other state (nothing is
    /// written); `Unavailable`.
    async fn retry_dead(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        audit: NewAuditEntry,
    ) -> PortResult<Job>;

    /// Counts for health and metrics, as of `now`.
    ///
    /// Errors: `Unavailable`.
    async fn stats(&self, now: DateTime<Utc>) -> PortResult<JobStats>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_max_and_jitters_a_quarter() {
        let backoff = Backoff {
            base: Duration::from_secs(2),
            max: Duration::from_secs(60),
        };
        assert_eq!(backoff.delay(1, 0.0), Duration::from_secs(2));
        assert_eq!(backoff.delay(2, 0.0), Duration::from_secs(4));
        assert_eq!(backoff.delay(4, 0.0), Duration::from_secs(16));
        assert_eq!(backoff.delay(6, 0.0), Duration::from_secs(60));
        assert_eq!(backoff.delay(u32::MAX, 0.0), Duration::from_secs(60));
        assert_eq!(backoff.delay(1, 1.0), Duration::from_millis(2500));
        assert_eq!(backoff.delay(1, -1.0), Duration::from_millis(1500));
        assert_eq!(backoff.delay(1, 7.0), Duration::from_millis(2500));
        assert_eq!(backoff.delay(0, f64::NAN), Duration::from_secs(2));
    }

    #[test]
    fn states_round_trip_their_names() {
        for state in JobState::ALL {
            assert_eq!(state.as_str().parse::<JobState>(), Ok(state));
            assert_eq!(
                serde_json::to_value(state).expect("json"),
                serde_json::json!(state.as_str())
            );
        }
        assert!("retry".parse::<JobState>().is_err());
    }
}
