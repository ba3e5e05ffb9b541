//! The worker pool against the real SQL store, on SQLite and PostgreSQL.

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ainative_adapters_postgres::PgStore;
use ainative_adapters_sqlite::SqliteStore;
use ainative_jobs::{
    JobError, JobObserver, Outcome, Registry, WorkerConfig, WorkerDeps, WorkerPool,
};
use ainative_ports::pool::PoolSettings;
use ainative_ports::{
    Backoff, Clock, JobQueue, JobState, JobStats, NewJob, SchemaManager, SystemClock,
};
use ainative_test_support::{wait_until, TestDatabase, TestSqlite};
use parking_lot::Mutex;
use serde_json::json;
use tokio::sync::Notify;
use uuid::Uuid;

const LIMIT: Duration = Duration::from_secs(30);

/// A queue on a fresh database, the store's wake-up and what keeps the database alive.
struct Queue {
    jobs: Arc<dyn JobQueue>,
    wakeup: Arc<Notify>,
    _guard: Box<dyn Any + Send>,
}

async fn sqlite() -> Queue {
    let db = TestSqlite::new();
    let settings = PoolSettings {
        max_connections: 8,
        acquire_timeout: Duration::from_secs(30),
        ..PoolSettings::new(format!("sqlite://{}", db.file().display()))
    };
    let store = SqliteStore::connect(&settings).await.expect("open");
    store.migrate_up().await.expect("migrate");
    Queue {
        wakeup: store.job_wakeup(),
        jobs: Arc::new(store),
        _guard: Box::new(db),
    }
}

async fn postgres() -> Queue {
    let db = TestDatabase::create().await;
    let settings = PoolSettings {
        max_connections: 8,
        acquire_timeout: Duration::from_secs(30),
        ..PoolSettings::new(db.url().to_owned())
    };
    let store = PgStore::connect(&settings).await.expect("connect");
    store.migrate_up().await.expect("migrate");
    Queue {
        wakeup: store.job_wakeup(),
        jobs: Arc::new(store),
        _guard: Box::new(db),
    }
}

/// Counts outcomes per kind.
#[derive(Default)]
struct Recorder {
    kinds: Mutex<Vec<String>>,
    outcomes: Mutex<HashMap<Outcome, usize>>,
}

impl Recorder {
    fn count(&self, outcome: Outcome) -> usize {
        self.outcomes.lock().get(&outcome).copied().unwrap_or(0)
    }
}

impl JobObserver for Recorder {
    fn register(&self, kinds: &[String]) {
        self.kinds.lock().extend_from_slice(kinds);
    }
    fn finished(&self, _kind: &str, outcome: Outcome, _elapsed: Duration) {
        *self.outcomes.lock().entry(outcome).or_default() += 1;
    }
    fn sampled(&self, _stats: &JobStats) {}
}

fn config(concurrency: usize) -> WorkerConfig {
    WorkerConfig {
        lease: Duration::from_secs(30),
        heartbeat: Duration::from_secs(5),
        poll: Duration::from_millis(200),
        backoff: Backoff {
            base: Duration::from_millis(20),
            max: Duration::from_millis(100),
        },
        shutdown_grace: Duration::from_secs(10),
        ..WorkerConfig::new(format!("test-{}", Uuid::new_v4().simple()), concurrency)
    }
}

fn start(
    q: &Queue,
    registry: Registry,
    recorder: &Arc<Recorder>,
    config: WorkerConfig,
) -> WorkerPool {
    WorkerPool::start(
        WorkerDeps {
            queue: q.jobs.clone(),
            registry: Arc::new(registry),
            clock: Arc::new(SystemClock),
            wakeup: q.wakeup.clone(),
            observer: recorder.clone(),
        },
        config,
    )
}

fn new_job(kind: &str) -> NewJob {
    NewJob::new(kind, json!({"n": 1}), SystemClock.now())
}

async fn state_of(q: &Queue, id: Uuid) -> JobState {
    q.jobs.get(id).await.expect("get").state
}

macro_rules! on_both {
    ($($case:ident),+ $(,)?) => {
        $(
            mod $case {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$case(super::sqlite().await).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$case(super::postgres().await).await;
                }
            }
        )+
    };
}

on_both!(
    every_job_runs_once,
    a_failing_job_retries_then_dies,
    a_permanent_failure_dies_without_retries,
    shutdown_gives_back_a_job_that_outlives_the_grace,
    shutdown_lets_a_short_job_finish,
    a_lost_lease_stops_the_handler,
    only_registered_kinds_are_claimed,
);

async fn every_job_runs_once(q: Queue) {
    let runs: Arc<Mutex<Vec<Uuid>>> = Arc::default();
    let mut registry = Registry::new();
    let seen = runs.clone();
    registry.register_fn("test.echo", move |job| {
        let seen = seen.clone();
        async move {
            seen.lock().push(job.id);
            Ok(())
        }
    });
    let recorder = Arc::new(Recorder::default());
    let pool = start(&q, registry, &recorder, config(3));
    assert_eq!(pool.workers(), 3);
    assert_eq!(*recorder.kinds.lock(), vec!["test.echo"]);

    let mut ids = Vec::new();
    for _ in 0..12 {
        ids.push(
            q.jobs
                .enqueue(new_job("test.echo"))
                .await
                .expect("enqueue")
                .id,
        );
    }
    wait_until(LIMIT, "every job succeeded", || async {
        recorder.count(Outcome::Succeeded) == ids.len()
    })
    .await;
    for id in &ids {
        assert_eq!(state_of(&q, *id).await, JobState::Succeeded);
    }
    pool.shutdown().await;
    let mut ran = runs.lock().clone();
    ran.sort();
    ids.sort();
    assert_eq!(ran, ids, "each job ran exactly once");
}

async fn a_failing_job_retries_then_dies(q: Queue) {
    let attempts = Arc::new(AtomicUsize::new(0));
    let mut registry = Registry::new();
    let counter = attempts.clone();
    registry.register_fn("test.fail", move |_job| {
        let counter = counter.clone();
        async move {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            Err(JobError::msg(format!("attempt {n} failed")))
        }
    });
    let recorder = Arc::new(Recorder::default());
    let pool = start(&q, registry, &recorder, config(2));
    let id = q
        .jobs
        .enqueue(new_job("test.fail").max_attempts(3))
        .await
        .expect("enqueue")
        .id;
    wait_until(LIMIT, "the job is dead", || async {
        state_of(&q, id).await == JobState::Dead
    })
    .await;
    pool.shutdown().await;
    let job = q.jobs.get(id).await.expect("get");
    assert_eq!(job.attempts, 3);
    assert_eq!(job.last_error.as_deref(), Some("attempt 3 failed"));
    assert_eq!(attempts.load(Ordering::SeqCst), 3);
    assert_eq!(recorder.count(Outcome::Retried), 2);
    assert_eq!(recorder.count(Outcome::Dead), 1);
}

async fn a_permanent_failure_dies_without_retries(q: Queue) {
    let attempts = Arc::new(AtomicUsize::new(0));
    let mut registry = Registry::new();
    let counter = attempts.clone();
    registry.register_fn("test.reject", move |_job| {
        counter.fetch_add(1, Ordering::SeqCst);
        async { Err(JobError::permanent("550 mailbox unavailable")) }
    });
    let recorder = Arc::new(Recorder::default());
    let pool = start(&q, registry, &recorder, config(1));
    let id = q
        .jobs
        .enqueue(new_job("test.reject").max_attempts(5))
        .await
        .expect("enqueue")
        .id;
    wait_until(LIMIT, "the job is dead", || async {
        state_of(&q, id).await == JobState::Dead
    })
    .await;
    pool.shutdown().await;
    let job = q.jobs.get(id).await.expect("get");
    assert_eq!(job.attempts, 1);
    assert_eq!(job.last_error.as_deref(), Some("550 mailbox unavailable"));
    assert_eq!(attempts.load(Ordering::SeqCst), 1);
    assert_eq!(recorder.count(Outcome::Retried), 0);
    assert_eq!(recorder.count(Outcome::Dead), 1);
}

async fn shutdown_gives_back_a_job_that_outlives_the_grace(q: Queue) {
    let started = Arc::new(AtomicBool::new(false));
    let mut registry = Registry::new();
    let flag = started.clone();
    registry.register_fn("test.forever", move |_job| {
        let flag = flag.clone();
        async move {
            flag.store(true, Ordering::SeqCst);
            std::future::pending::<()>().await;
            Ok(())
        }
    });
    let recorder = Arc::new(Recorder::default());
    let pool = start(
        &q,
        registry,
        &recorder,
        WorkerConfig {
            shutdown_grace: Duration::from_millis(200),
            ..config(1)
        },
    );
    let id = q
        .jobs
        .enqueue(new_job("test.forever"))
        .await
        .expect("enqueue")
        .id;
    wait_until(LIMIT, "the handler started", || async {
        started.load(Ordering::SeqCst)
    })
    .await;
    pool.shutdown().await;
    let job = q.jobs.get(id).await.expect("get");
    assert_eq!(job.state, JobState::Queued, "given back");
    assert_eq!(job.attempts, 0, "the interrupted attempt does not count");
    assert_eq!(recorder.count(Outcome::Released), 1);
}

async fn shutdown_lets_a_short_job_finish(q: Queue) {
    let release = Arc::new(Notify::new());
    let started = Arc::new(AtomicBool::new(false));
    let mut registry = Registry::new();
    let (gate, flag) = (release.clone(), started.clone());
    registry.register_fn("test.short", move |_job| {
        let (gate, flag) = (gate.clone(), flag.clone());
        async move {
            let opened = gate.notified();
            flag.store(true, Ordering::SeqCst);
            opened.await;
            Ok(())
        }
    });
    let recorder = Arc::new(Recorder::default());
    let pool = start(&q, registry, &recorder, config(1));
    let id = q
        .jobs
        .enqueue(new_job("test.short"))
        .await
        .expect("enqueue")
        .id;
    wait_until(LIMIT, "the handler started", || async {
        started.load(Ordering::SeqCst)
    })
    .await;
    // The handler finishes only after shutdown has begun.
    let shutdown = tokio::spawn(pool.shutdown());
    wait_until(LIMIT, "the handler is released", || async {
        release.notify_waiters();
        recorder.count(Outcome::Succeeded) == 1
    })
    .await;
    shutdown.await.expect("shutdown");
    assert_eq!(state_of(&q, id).await, JobState::Succeeded);
    assert_eq!(recorder.count(Outcome::Released), 0);
}

/// Set when dropped: tells that the handler's future was dropped (aborted).
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

async fn a_lost_lease_stops_the_handler(q: Queue) {
    let started = Arc::new(AtomicBool::new(false));
    let dropped = Arc::new(AtomicBool::new(false));
    let mut registry = Registry::new();
    let (flag, gone) = (started.clone(), dropped.clone());
    registry.register_fn("test.slow", move |_job| {
        let (flag, gone) = (flag.clone(), gone.clone());
        async move {
            let _guard = DropFlag(gone);
            flag.store(true, Ordering::SeqCst);
            std::future::pending::<()>().await;
            Ok(())
        }
    });
    let recorder = Arc::new(Recorder::default());
    let pool = start(
        &q,
        registry,
        &recorder,
        WorkerConfig {
            heartbeat: Duration::from_millis(50),
            ..config(1)
        },
    );
    let id = q
        .jobs
        .enqueue(new_job("test.slow"))
        .await
        .expect("enqueue")
        .id;
    wait_until(LIMIT, "the handler started", || async {
        started.load(Ordering::SeqCst)
    })
    .await;
    // Another worker whose clock is an hour ahead sees the lease expired and takes the job.
    let later = SystemClock.now() + chrono::Duration::hours(1);
    let thief = q
        .jobs
        .claim(
            "thief",
            &["test.slow".to_owned()],
            later,
            Duration::from_secs(7200),
        )
        .await
        .expect("claim")
        .expect("the expired job");
    assert_eq!(thief.job.id, id);
    wait_until(LIMIT, "the handler is stopped", || async {
        dropped.load(Ordering::SeqCst) && recorder.count(Outcome::LeaseLost) == 1
    })
    .await;
    pool.shutdown().await;
    let job = q.jobs.get(id).await.expect("get");
    assert_eq!(job.state, JobState::Running);
    assert_eq!(job.lease_owner.as_deref(), Some("thief"));
}

async fn only_registered_kinds_are_claimed(q: Queue) {
    let mut registry = Registry::new();
    registry.register_fn("test.mine", |_job| async { Ok(()) });
    let recorder = Arc::new(Recorder::default());
    let pool = start(&q, registry, &recorder, config(1));
    let other = q
        .jobs
        .enqueue(new_job("test.theirs"))
        .await
        .expect("enqueue")
        .id;
    let mine = q
        .jobs
        .enqueue(new_job("test.mine"))
        .await
        .expect("enqueue")
        .id;
    wait_until(LIMIT, "my job succeeded", || async {
        state_of(&q, mine).await == JobState::Succeeded
    })
    .await;
    pool.shutdown().await;
    assert_eq!(state_of(&q, other).await, JobState::Queued);

    // No handler at all: no worker loop.
    let idle = start(&q, Registry::new(), &recorder, config(4));
    assert_eq!(idle.workers(), 0);
    idle.shutdown().await;
}
