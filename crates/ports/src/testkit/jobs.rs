//! Contract cases of [`JobQueue`].
//!
//! Each case is a plain `async fn` taking a fresh [`JobStores`] (an empty, migrated store).
//! An adapter runs them all with one line:
//!
//! ```ignore
//! async fn make() -> ainative_ports::testkit::jobs::JobStores { /* … */ }
//! ainative_ports::jobs_contract!(make());
//! ```
//!
//! Times are explicit and truncated to milliseconds; cases move time forward by passing a
//! later `now`, never by sleeping.

use std::any::Any;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use ainative_domain::{AuditAction, NewAuditEntry, Page};
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::fixtures::{now, plus_secs};
use crate::{
    AuditLog, ClaimedJob, Conflict, FailOutcome, JobFilter, JobQueue, JobState, NewJob, PortError,
};

/// The job queue of one backend, with the audit log to observe admin retries.
pub struct JobStores {
    /// The queue.
    pub jobs: Arc<dyn JobQueue>,
    /// Where `retry_dead` writes its audit row.
    pub audit: Arc<dyn AuditLog>,
    /// See [`super::Stores::guard`]. Declared last, so it is dropped after the stores.
    pub guard: Option<Box<dyn Any + Send + Sync>>,
}

impl JobStores {
    /// Uses one value that implements both ports.
    pub fn from_store<S>(store: S) -> Self
    where
        S: JobQueue + AuditLog + 'static,
    {
        let store = Arc::new(store);
        Self {
            jobs: store.clone(),
            audit: store,
            guard: None,
        }
    }

    /// [`JobStores::from_store`] keeping the fixture's guard alive.
    pub fn guarded<S, G>((store, guard): (S, G)) -> Self
    where
        S: JobQueue + AuditLog + 'static,
        G: Any + Send + Sync,
    {
        Self::from_store(store).with_guard(guard)
    }

    /// Keeps `guard` alive until the stores are dropped.
    pub fn with_guard(mut self, guard: impl Any + Send + Sync) -> Self {
        self.guard = Some(Box::new(guard));
        self
    }
}

/// Expands to one `#[tokio::test]` per job queue contract case.
#[macro_export]
macro_rules! jobs_contract {
    ($make:expr) => {
        $crate::__jobs_cases!(
            $make;
            jobs_enqueue_claim_complete_once,
            jobs_claim_respects_run_at_kinds_and_order,
            jobs_unique_key_enqueues_once,
            jobs_duplicate_id_conflicts,
            jobs_fail_retries_then_dead,
            jobs_permanent_failure_is_dead_at_once,
            jobs_expired_lease_is_reclaimed_and_fenced,
            jobs_heartbeat_extends_the_lease,
            jobs_expired_last_attempt_goes_dead,
            jobs_expired_last_attempt_is_never_claimed_again,
            jobs_release_gives_the_attempt_back,
            jobs_list_filters_and_pages,
            jobs_retry_dead_is_audited,
            jobs_stats_count_queued_running_failed,
            jobs_concurrent_claims_never_share_a_job,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __jobs_cases {
    ($make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let stores = $make.await;
                $crate::testkit::jobs::$case(stores).await;
            }
        )*
    };
}

const LEASE: Duration = Duration::from_secs(30);

fn kinds(names: &[&str]) -> Vec<String> {
    names.iter().map(|k| (*k).to_owned()).collect()
}

fn job(kind: &str, at: DateTime<Utc>) -> NewJob {
    NewJob::new(kind, json!({"to": "ada@example.com", "n": 1, "ü": "✓"}), at)
}

async fn claim(s: &JobStores, worker: &str, kind: &str, at: DateTime<Utc>) -> Option<ClaimedJob> {
    s.jobs
        .claim(worker, &kinds(&[kind]), at, LEASE)
        .await
        .expect("claim")
}

fn lease_lost<T: std::fmt::Debug>(result: Result<T, PortError>) {
    assert!(
        matches!(result, Err(PortError::Conflict(Conflict::LeaseLost))),
        "{result:?}"
    );
}

/// A job is claimed once, with every field, and is done after `complete`.
pub async fn jobs_enqueue_claim_complete_once(s: JobStores) {
    let at = now();
    let new = job("mail.send", at).max_attempts(3);
    let enqueued = s.jobs.enqueue(new.clone()).await.expect("enqueue");
    assert_eq!((enqueued.id, enqueued.created), (new.id, true));

    let queued = s.jobs.get(new.id).await.expect("get");
    assert_eq!(queued.state, JobState::Queued);
    assert_eq!(queued.payload, new.payload);
    assert_eq!((queued.attempts, queued.max_attempts), (0, 3));
    assert_eq!((queued.run_at, queued.created_at), (at, at));
    assert_eq!(queued.lease_owner, None);

    let claimed = claim(&s, "w1", "mail.send", plus_secs(at, 1))
        .await
        .expect("a due job");
    assert_eq!(claimed.job.id, new.id);
    assert_eq!(claimed.job.kind, "mail.send");
    assert_eq!(claimed.job.payload, new.payload);
    assert_eq!(claimed.job.state, JobState::Running);
    assert_eq!(claimed.job.attempts, 1);
    assert_eq!(claimed.lease.owner, "w1");
    assert_eq!(claimed.lease.job_id, new.id);
    assert_eq!(claimed.lease.expires_at, plus_secs(at, 31));
    assert_eq!(claimed.job.lease_expires_at, Some(plus_secs(at, 31)));

    assert_eq!(claim(&s, "w2", "mail.send", plus_secs(at, 2)).await, None);
    s.jobs
        .complete(&claimed.lease, plus_secs(at, 3))
        .await
        .expect("complete");
    let done = s.jobs.get(new.id).await.expect("get");
    assert_eq!(done.state, JobState::Succeeded);
    assert_eq!(done.finished_at, Some(plus_secs(at, 3)));
    assert_eq!(done.attempts, 1);
    // Long after the lease: a finished job is never claimed again.
    assert_eq!(
        claim(&s, "w2", "mail.send", plus_secs(at, 3600)).await,
        None
    );
    lease_lost(s.jobs.complete(&claimed.lease, plus_secs(at, 4)).await);
    assert_eq!(s.jobs.get(Uuid::new_v4()).await, Err(PortError::NotFound));
}

/// Jobs wait for `run_at`, only the asked kinds are claimed, the oldest `run_at` first.
pub async fn jobs_claim_respects_run_at_kinds_and_order(s: JobStores) {
    let at = now();
    let later = job("report.build", at).run_after(plus_secs(at, 60));
    let sooner = job("report.build", plus_secs(at, 1)).run_after(plus_secs(at, 10));
    let other = job("mail.send", at);
    for new in [&later, &sooner, &other] {
        s.jobs.enqueue(new.clone()).await.expect("enqueue");
    }
    assert_eq!(claim(&s, "w", "report.build", plus_secs(at, 5)).await, None);
    assert_eq!(
        s.jobs.claim("w", &[], plus_secs(at, 100), LEASE).await,
        Ok(None)
    );
    let both = kinds(&["report.build", "material.process"]);
    let first = s
        .jobs
        .claim("w", &both, plus_secs(at, 100), LEASE)
        .await
        .expect("claim")
        .expect("due");
    assert_eq!(first.job.id, sooner.id);
    let second = s
        .jobs
        .claim("w", &both, plus_secs(at, 100), LEASE)
        .await
        .expect("claim")
        .expect("due");
    assert_eq!(second.job.id, later.id);
    assert_eq!(
        s.jobs.claim("w", &both, plus_secs(at, 100), LEASE).await,
        Ok(None)
    );
    let mail = claim(&s, "w", "mail.send", plus_secs(at, 100))
        .await
        .expect("mail is due");
    assert_eq!(mail.job.id, other.id);
}

/// A second job with the same kind and unique key is not stored, whatever the first one's
/// state; another kind may use the same key.
pub async fn jobs_unique_key_enqueues_once(s: JobStores) {
    let at = now();
    let first = job("mail.send", at).unique("verify:42");
    let again = job("mail.send", at).unique("verify:42");
    assert!(
        s.jobs
            .enqueue(first.clone())
            .await
            .expect("enqueue")
            .created
    );
    let dup = s.jobs.enqueue(again.clone()).await.expect("enqueue again");
    assert_eq!((dup.id, dup.created), (first.id, false));
    assert_eq!(s.jobs.get(again.id).await, Err(PortError::NotFound));

    let claimed = claim(&s, "w", "mail.send", at).await.expect("due");
    s.jobs.complete(&claimed.lease, at).await.expect("complete");
    let after = s
        .jobs
        .enqueue(job("mail.send", at).unique("verify:42"))
        .await
        .expect("enqueue after success");
    assert_eq!((after.id, after.created), (first.id, false));

    let other_kind = job("report.build", at).unique("verify:42");
    let created = s.jobs.enqueue(other_kind.clone()).await.expect("enqueue");
    assert_eq!((created.id, created.created), (other_kind.id, true));
    let total = s
        .jobs
        .list(JobFilter::default(), Page::default())
        .await
        .expect("list");
    assert_eq!(total.total, 2);
}

/// Enqueueing the same id twice is a conflict, not a second job.
pub async fn jobs_duplicate_id_conflicts(s: JobStores) {
    let at = now();
    let new = job("mail.send", at);
    s.jobs.enqueue(new.clone()).await.expect("enqueue");
    let again = s.jobs.enqueue(new).await;
    assert_eq!(again, Err(PortError::Conflict(Conflict::Duplicate("job"))));
}

/// A failed attempt queues the job at the given retry time; the last one makes it dead.
pub async fn jobs_fail_retries_then_dead(s: JobStores) {
    let at = now();
    let new = job("material.process", at).max_attempts(2);
    s.jobs.enqueue(new.clone()).await.expect("enqueue");

    let first = claim(&s, "w", "material.process", at).await.expect("due");
    let outcome = s
        .jobs
        .fail(
            &first.lease,
            "parse error",
            plus_secs(at, 1),
            Some(plus_secs(at, 10)),
        )
        .await
        .expect("fail");
    assert_eq!(outcome, FailOutcome::Retry(plus_secs(at, 10)));
    let waiting = s.jobs.get(new.id).await.expect("get");
    assert_eq!(waiting.state, JobState::Queued);
    assert_eq!(waiting.run_at, plus_secs(at, 10));
    assert_eq!(waiting.last_error.as_deref(), Some("parse error"));
    assert_eq!(waiting.failed_at, Some(plus_secs(at, 1)));
    assert_eq!(waiting.attempts, 1);
    lease_lost(
        s.jobs
            .heartbeat(&first.lease, plus_secs(at, 2), LEASE)
            .await,
    );

    assert_eq!(
        claim(&s, "w", "material.process", plus_secs(at, 9)).await,
        None
    );
    let second = claim(&s, "w", "material.process", plus_secs(at, 10))
        .await
        .expect("due again");
    assert_eq!(second.job.attempts, 2);
    assert!(second.lease.fence > first.lease.fence);
    let outcome = s
        .jobs
        .fail(
            &second.lease,
            "still broken",
            plus_secs(at, 11),
            Some(plus_secs(at, 99)),
        )
        .await
        .expect("fail");
    assert_eq!(outcome, FailOutcome::Dead);
    let dead = s.jobs.get(new.id).await.expect("get");
    assert_eq!(dead.state, JobState::Dead);
    assert_eq!(dead.last_error.as_deref(), Some("still broken"));
    assert_eq!(dead.finished_at, Some(plus_secs(at, 11)));
    assert_eq!(
        claim(&s, "w", "material.process", plus_secs(at, 1000)).await,
        None
    );
}

/// A failure without a retry time is permanent: dead at once, attempts left or not.
pub async fn jobs_permanent_failure_is_dead_at_once(s: JobStores) {
    let at = now();
    let new = job("mail.send", at).max_attempts(5);
    s.jobs.enqueue(new.clone()).await.expect("enqueue");
    let first = claim(&s, "w", "mail.send", at).await.expect("due");
    let outcome = s
        .jobs
        .fail(&first.lease, "550 no such user", plus_secs(at, 1), None)
        .await
        .expect("fail");
    assert_eq!(outcome, FailOutcome::Dead);
    let dead = s.jobs.get(new.id).await.expect("get");
    assert_eq!(dead.state, JobState::Dead);
    assert_eq!(dead.attempts, 1);
    assert_eq!(dead.last_error.as_deref(), Some("550 no such user"));
    assert_eq!(dead.finished_at, Some(plus_secs(at, 1)));
    assert_eq!(claim(&s, "w", "mail.send", plus_secs(at, 1000)).await, None);
}

/// A job whose lease expired is claimed by another worker with a larger fence; the first
/// worker can no longer heartbeat, complete, fail or release it.
pub async fn jobs_expired_lease_is_reclaimed_and_fenced(s: JobStores) {
    let at = now();
    let new = job("material.process", at);
    s.jobs.enqueue(new.clone()).await.expect("enqueue");
    let first = claim(&s, "w1", "material.process", at).await.expect("due");
    // Not before the lease expires.
    assert_eq!(
        claim(&s, "w2", "material.process", plus_secs(at, 29)).await,
        None
    );
    let second = claim(&s, "w2", "material.process", plus_secs(at, 31))
        .await
        .expect("reclaimed");
    assert_eq!(second.job.id, new.id);
    assert_eq!(second.job.attempts, 2);
    assert_eq!(second.lease.owner, "w2");
    assert!(second.lease.fence > first.lease.fence);

    let late = plus_secs(at, 32);
    lease_lost(s.jobs.heartbeat(&first.lease, late, LEASE).await);
    lease_lost(s.jobs.complete(&first.lease, late).await);
    lease_lost(s.jobs.fail(&first.lease, "x", late, Some(late)).await);
    lease_lost(s.jobs.release(&first.lease, late).await);
    // A forged lease with the right fence but another owner is refused too.
    let mut forged = second.lease.clone();
    forged.owner = "w1".to_owned();
    lease_lost(s.jobs.complete(&forged, late).await);

    s.jobs
        .complete(&second.lease, late)
        .await
        .expect("complete");
    let done = s.jobs.get(new.id).await.expect("get");
    assert_eq!(done.state, JobState::Succeeded);
    assert_eq!(done.lease_owner.as_deref(), Some("w2"));
}

/// A heartbeat pushes the expiry forward, so the job is not reclaimed while it runs.
pub async fn jobs_heartbeat_extends_the_lease(s: JobStores) {
    let at = now();
    s.jobs
        .enqueue(job("material.process", at))
        .await
        .expect("enqueue");
    let claimed = claim(&s, "w1", "material.process", at).await.expect("due");
    let expires = s
        .jobs
        .heartbeat(&claimed.lease, plus_secs(at, 20), LEASE)
        .await
        .expect("heartbeat");
    assert_eq!(expires, plus_secs(at, 50));
    assert_eq!(
        claim(&s, "w2", "material.process", plus_secs(at, 40)).await,
        None
    );
    let job = s.jobs.get(claimed.job.id).await.expect("get");
    assert_eq!(job.lease_expires_at, Some(plus_secs(at, 50)));
    assert!(claim(&s, "w2", "material.process", plus_secs(at, 51))
        .await
        .is_some());
}

/// A job whose lease expires on its last attempt is made dead, not run again.
pub async fn jobs_expired_last_attempt_goes_dead(s: JobStores) {
    let at = now();
    let new = job("material.process", at).max_attempts(1);
    s.jobs.enqueue(new.clone()).await.expect("enqueue");
    claim(&s, "w1", "material.process", at).await.expect("due");
    assert_eq!(
        claim(&s, "w2", "material.process", plus_secs(at, 60)).await,
        None
    );
    let dead = s.jobs.get(new.id).await.expect("get");
    assert_eq!(dead.state, JobState::Dead);
    assert!(dead.last_error.is_some());
    assert_eq!(dead.finished_at, Some(plus_secs(at, 60)));
}

/// A job whose lease expired on its last attempt is not claimed again, however soon after
/// the expiry the next claim comes (before any sweep has made it dead).
pub async fn jobs_expired_last_attempt_is_never_claimed_again(s: JobStores) {
    let at = now();
    let new = job("material.process", at).max_attempts(1);
    s.jobs.enqueue(new.clone()).await.expect("enqueue");
    let short = Duration::from_millis(100);
    let kind = kinds(&["material.process"]);
    let first = s.jobs.claim("w1", &kind, at, short).await.expect("claim");
    assert!(first.is_some(), "due");
    let soon = at + chrono::Duration::milliseconds(300);
    let again = s.jobs.claim("w2", &kind, soon, LEASE).await.expect("claim");
    assert_eq!(again, None);
    assert_eq!(s.jobs.get(new.id).await.expect("get").attempts, 1);
}

/// A released job is queued at once and its attempt is not counted.
pub async fn jobs_release_gives_the_attempt_back(s: JobStores) {
    let at = now();
    let new = job("report.build", at).run_after(at).max_attempts(1);
    s.jobs.enqueue(new.clone()).await.expect("enqueue");
    let first = claim(&s, "w1", "report.build", at).await.expect("due");
    s.jobs
        .release(&first.lease, plus_secs(at, 5))
        .await
        .expect("release");
    let queued = s.jobs.get(new.id).await.expect("get");
    assert_eq!(queued.state, JobState::Queued);
    assert_eq!(queued.attempts, 0);
    assert_eq!(queued.run_at, plus_secs(at, 5));
    let again = claim(&s, "w2", "report.build", plus_secs(at, 5))
        .await
        .expect("claimed again");
    assert_eq!(again.job.attempts, 1);
    assert!(again.lease.fence > first.lease.fence);
    lease_lost(s.jobs.complete(&first.lease, plus_secs(at, 6)).await);
}

/// Lists filter by state and kind, newest first, paged with the total.
pub async fn jobs_list_filters_and_pages(s: JobStores) {
    let at = now();
    let mut ids = Vec::new();
    for i in 0..5 {
        let kind = if i % 2 == 0 {
            "mail.send"
        } else {
            "report.build"
        };
        let new = job(kind, plus_secs(at, i));
        ids.push(new.id);
        s.jobs.enqueue(new).await.expect("enqueue");
    }
    let running = claim(&s, "w", "report.build", plus_secs(at, 10))
        .await
        .expect("due");
    assert_eq!(running.job.id, ids[1]);

    let all = s
        .jobs
        .list(JobFilter::default(), Page::default())
        .await
        .expect("list");
    assert_eq!(all.total, 5);
    let order: Vec<Uuid> = all.items.iter().map(|j| j.id).collect();
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(order, newest_first);

    let page = Page::new(Some(2), Some(1)).expect("page");
    let queued = s
        .jobs
        .list(
            JobFilter {
                state: Some(JobState::Queued),
                kind: None,
            },
            page,
        )
        .await
        .expect("list");
    assert_eq!(queued.total, 4);
    let order: Vec<Uuid> = queued.items.iter().map(|j| j.id).collect();
    assert_eq!(order, vec![ids[3], ids[2]]);
    assert!(queued.items.iter().all(|j| j.state == JobState::Queued));

    let running_list = s
        .jobs
        .list(
            JobFilter {
                state: Some(JobState::Running),
                kind: Some("report.build".to_owned()),
            },
            Page::default(),
        )
        .await
        .expect("list");
    assert_eq!(running_list.total, 1);
    assert_eq!(running_list.items[0].id, ids[1]);
    assert_eq!(running_list.items[0].lease_owner.as_deref(), Some("w"));

    let past_end = s
        .jobs
        .list(
            JobFilter {
                state: Some(JobState::Queued),
                kind: Some("mail.send".to_owned()),
            },
            Page::new(Some(10), Some(10)).expect("page"),
        )
        .await
        .expect("list");
    assert!(past_end.items.is_empty());
    assert_eq!(past_end.total, 3);
    let none = s
        .jobs
        .list(
            JobFilter {
                state: Some(JobState::Dead),
                kind: None,
            },
            Page::default(),
        )
        .await
        .expect("list");
    assert_eq!((none.total, none.items.len()), (0, 0));
}

/// A dead job is queued again with its attempts reset, and the audit row is written; any
/// other state is a conflict that writes nothing.
pub async fn jobs_retry_dead_is_audited(s: JobStores) {
    let at = now();
    let new = job("mail.send", at).max_attempts(1);
    s.jobs.enqueue(new.clone()).await.expect("enqueue");
    let audit = |at| NewAuditEntry {
        actor_id: Some(Uuid::new_v4()),
        action: AuditAction::JobRetried,
        target_type: "job".to_owned(),
        target_id: new.id,
        details: json!({"kind": "mail.send"}),
        at,
    };
    assert_eq!(
        s.jobs.retry_dead(new.id, at, audit(at)).await,
        Err(PortError::Conflict(Conflict::JobNotDead))
    );
    assert_eq!(
        s.jobs.retry_dead(Uuid::new_v4(), at, audit(at)).await,
        Err(PortError::NotFound)
    );
    assert_eq!(s.audit.list(Page::default()).await.expect("audit").total, 0);

    let claimed = claim(&s, "w", "mail.send", at).await.expect("due");
    let outcome = s
        .jobs
        .fail(&claimed.lease, "smtp refused", at, Some(plus_secs(at, 5)))
        .await
        .expect("fail");
    assert_eq!(outcome, FailOutcome::Dead);

    let retried_at = plus_secs(at, 100);
    let retried = s
        .jobs
        .retry_dead(new.id, retried_at, audit(retried_at))
        .await
        .expect("retry");
    assert_eq!(retried.state, JobState::Queued);
    assert_eq!(retried.attempts, 0);
    assert_eq!(retried.run_at, retried_at);
    assert_eq!(retried.finished_at, None);
    assert_eq!(retried.last_error.as_deref(), Some("smtp refused"));
    assert_eq!(s.jobs.get(new.id).await.expect("get"), retried);

    let rows = s.audit.list(Page::default()).await.expect("audit");
    assert_eq!(rows.total, 1);
    assert_eq!(rows.items[0].action, AuditAction::JobRetried);
    assert_eq!(rows.items[0].target_id, new.id);

    let again = claim(&s, "w", "mail.send", retried_at)
        .await
        .expect("due again");
    assert_eq!(again.job.attempts, 1);
    assert!(again.lease.fence > claimed.lease.fence);
}

/// Stats count queued jobs per kind, running jobs, failures of the last hour and dead jobs.
pub async fn jobs_stats_count_queued_running_failed(s: JobStores) {
    let at = now();
    assert_eq!(s.jobs.stats(at).await.expect("stats"), Default::default());
    for kind in ["mail.send", "mail.send", "report.build", "material.process"] {
        s.jobs
            .enqueue(job(kind, at).max_attempts(2))
            .await
            .expect("enqueue");
    }
    // A future job counts as queued too.
    s.jobs
        .enqueue(job("mail.send", at).run_after(plus_secs(at, 3600)))
        .await
        .expect("enqueue");
    let running = claim(&s, "w", "report.build", at).await.expect("due");
    let failing = claim(&s, "w", "material.process", at).await.expect("due");
    s.jobs
        .fail(
            &failing.lease,
            "boom",
            plus_secs(at, 1),
            Some(plus_secs(at, 7200)),
        )
        .await
        .expect("fail");

    let stats = s.jobs.stats(plus_secs(at, 2)).await.expect("stats");
    let queued: BTreeMap<String, u64> = [
        ("mail.send".to_owned(), 3),
        ("material.process".to_owned(), 1),
    ]
    .into();
    assert_eq!(stats.queued, queued);
    assert_eq!(stats.queued_total(), 4);
    assert_eq!(stats.running, 1);
    assert_eq!(stats.failed_last_hour, 1);
    assert_eq!(stats.dead, 0);

    s.jobs
        .complete(&running.lease, plus_secs(at, 3))
        .await
        .expect("complete");
    let later = s.jobs.stats(plus_secs(at, 3602)).await.expect("stats");
    assert_eq!(later.running, 0);
    assert_eq!(later.failed_last_hour, 0);
}

/// Many claims at once hand every job to exactly one claimer.
pub async fn jobs_concurrent_claims_never_share_a_job(s: JobStores) {
    let at = now();
    let jobs = 24;
    for i in 0..jobs {
        s.jobs
            .enqueue(job("mail.send", plus_secs(at, i)))
            .await
            .expect("enqueue");
    }
    let claim_at = plus_secs(at, 100);
    let mut tasks = Vec::new();
    for worker in 0..6 {
        let queue = s.jobs.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            let kinds = kinds(&["mail.send"]);
            while let Some(claimed) = queue
                .claim(&format!("w{worker}"), &kinds, claim_at, LEASE)
                .await
                .expect("claim")
            {
                mine.push(claimed.job.id);
            }
            mine
        }));
    }
    let mut seen = HashSet::new();
    let mut count = 0;
    for task in tasks {
        for id in task.await.expect("claimer") {
            count += 1;
            assert!(seen.insert(id), "job {id} claimed twice");
        }
    }
    assert_eq!(count, jobs);
    let stats = s.jobs.stats(claim_at).await.expect("stats");
    assert_eq!(stats.running, u64::try_from(jobs).expect("small"));
}
