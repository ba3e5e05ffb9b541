//! The job queue (SPEC §10.5, issue targets): enqueue-to-start latency with idle workers
//! (p50 ≤ 50 ms) and trivial jobs per second through the queue on PostgreSQL (≥ 500/s), on
//! the real SQL store, worker pool and wake-up; SQLite for comparison.
//!
//! `cargo bench -p ainative-benches --bench jobs` (part of `make bench`) runs the full
//! measurement; under `cargo test --all-targets` (no `--bench` argument) it runs a few jobs
//! as a smoke test. A custom harness: the figures are distributions and rates over many
//! jobs, not one closure timed in a loop. It never asserts speed; it prints `met:`/`MISS:`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ainative_adapters_postgres::PgStore;
use ainative_adapters_sqlite::SqliteStore;
use ainative_jobs::{NoObserver, Registry, WorkerConfig, WorkerDeps, WorkerPool};
use ainative_ports::pool::PoolSettings;
use ainative_ports::{Clock, JobQueue, NewJob, SchemaManager, SystemClock};
use ainative_test_support::{TestDatabase, TestSqlite};
use tokio::sync::{mpsc, Notify};

struct Queue {
    name: &'static str,
    jobs: Arc<dyn JobQueue>,
    wakeup: Arc<Notify>,
}

fn settings(url: String) -> PoolSettings {
    PoolSettings {
        max_connections: 16,
        acquire_timeout: Duration::from_secs(30),
        ..PoolSettings::new(url)
    }
}

fn pool(q: &Queue, registry: Registry, workers: usize) -> WorkerPool {
    WorkerPool::start(
        WorkerDeps {
            queue: q.jobs.clone(),
            registry: Arc::new(registry),
            clock: Arc::new(SystemClock),
            wakeup: q.wakeup.clone(),
            observer: Arc::new(NoObserver),
        },
        WorkerConfig::new("bench", workers),
    )
}

fn job() -> NewJob {
    NewJob::new("bench.noop", serde_json::json!({}), SystemClock.now())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

/// Enqueues `n` jobs one at a time, each after the previous one started, and returns the
/// sorted enqueue-to-start latencies (idle workers, woken by the enqueue).
async fn latency(q: &Queue, n: usize) -> Vec<Duration> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Instant>();
    let mut registry = Registry::new();
    registry.register_fn("bench.noop", move |_job| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(Instant::now());
            Ok(())
        }
    });
    let workers = pool(q, registry, 2);
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        // Let the workers go idle (waiting on the wake-up) before the next enqueue.
        tokio::time::sleep(Duration::from_millis(5)).await;
        let enqueued = Instant::now();
        q.jobs.enqueue(job()).await.expect("enqueue");
        let started = rx.recv().await.expect("started");
        samples.push(started.saturating_duration_since(enqueued));
    }
    workers.shutdown().await;
    samples.sort();
    samples
}

/// Runs `n` queued trivial jobs with `workers` workers; returns jobs per second.
async fn throughput(q: &Queue, n: usize, workers: usize) -> f64 {
    for _ in 0..n {
        q.jobs.enqueue(job()).await.expect("enqueue");
    }
    let done = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(Notify::new());
    let mut registry = Registry::new();
    let (count, all) = (done.clone(), finished.clone());
    registry.register_fn("bench.noop", move |_job| {
        let (count, all) = (count.clone(), all.clone());
        async move {
            if count.fetch_add(1, Ordering::SeqCst) + 1 == n {
                all.notify_one();
            }
            Ok(())
        }
    });
    let started = Instant::now();
    let pool = pool(q, registry, workers);
    finished.notified().await;
    let elapsed = started.elapsed();
    pool.shutdown().await;
    n as f64 / elapsed.as_secs_f64()
}

async fn measure(q: Queue, full: bool) {
    let (latency_jobs, throughput_jobs) = if full { (300, 3000) } else { (5, 20) };
    let samples = latency(&q, latency_jobs).await;
    let p50 = percentile(&samples, 0.5);
    let p95 = percentile(&samples, 0.95);
    println!(
        "jobs/{}/enqueue_to_start: p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms ({} jobs, 2 idle workers)",
        q.name,
        p50.as_secs_f64() * 1e3,
        p95.as_secs_f64() * 1e3,
        samples.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        samples.len()
    );
    for workers in [4, 8] {
        let rate = throughput(&q, throughput_jobs, workers).await;
        println!(
            "jobs/{}/throughput: {rate:.0} trivial jobs/s ({throughput_jobs} jobs, {workers} workers)",
            q.name
        );
        if q.name == "postgres" && workers == 8 {
            let verdict = if rate >= 500.0 { "met" } else { "MISS" };
            println!("{verdict}: ≥ 500 trivial jobs/s on PostgreSQL ({rate:.0})");
        }
    }
    let verdict = if p50 <= Duration::from_millis(50) {
        "met"
    } else {
        "MISS"
    };
    println!(
        "{verdict}: enqueue-to-start p50 ≤ 50 ms on {} ({:.2} ms)",
        q.name,
        p50.as_secs_f64() * 1e3
    );
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let db = TestDatabase::create().await;
        let store = PgStore::connect(&settings(db.url().to_owned()))
            .await
            .expect("connect");
        store.migrate_up().await.expect("migrate");
        let wakeup = store.job_wakeup();
        measure(
            Queue {
                name: "postgres",
                jobs: Arc::new(store),
                wakeup,
            },
            full,
        )
        .await;

        let file = TestSqlite::new();
        let store = SqliteStore::connect(&settings(format!("sqlite://{}", file.file().display())))
            .await
            .expect("open");
        store.migrate_up().await.expect("migrate");
        let wakeup = store.job_wakeup();
        measure(
            Queue {
                name: "sqlite",
                jobs: Arc::new(store),
                wakeup,
            },
            full,
        )
        .await;
    });
}
