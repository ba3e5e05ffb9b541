//! `ainative worker` processes on one database (SPEC §10.5): a killed worker's job is taken
//! over after its lease, two workers never run a job at the same time, SIGTERM is graceful.
//!
//! Jobs are `diagnostics.probe` (enabled by `JOB_DIAGNOSTICS_DIR`): each attempt appends
//! `start|end|fail <attempt> <pid> <micros>` to `<dir>/<job id>.log`.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ainative_adapters_postgres::{PgStore, PoolSettings};
use ainative_adapters_sqlite::SqliteStore;
use ainative_ports::{Clock, JobQueue, JobState, NewJob, SchemaManager, SystemClock};
use ainative_server::workers::{probe_events as events, ProbeEvent as Event, DIAGNOSTICS_KIND};
use ainative_test_support::{wait_until, TempDir, TestDatabase};
use serde_json::{json, Value};
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_ainative");
const LIMIT: Duration = Duration::from_secs(60);

/// A running `ainative worker`; killed when dropped.
struct Worker {
    child: Child,
    ready: Arc<AtomicBool>,
}

impl Worker {
    fn start(
        database_url: &str,
        sandbox: &TempDir,
        diagnostics: &Path,
        extra: &[(&str, &str)],
    ) -> Self {
        let mut cmd = Command::new(BIN);
        cmd.arg("worker")
            .current_dir(sandbox.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("APP_ENV", "test")
            .env("DATABASE_URL", database_url)
            .env("JWT_SECRET_KEY", "worker-test-secret-0123456789-abcdefghij")
            .env("AUTO_MIGRATE", "false")
            .env("LOG_FORMAT", "json")
            .env("LOG_LEVEL", "info")
            .env("WORKERS", "2")
            .env("JOB_POLL_MS", "100")
            .env("JOB_DIAGNOSTICS_DIR", diagnostics)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("the worker starts");
        let ready = Arc::new(AtomicBool::new(false));
        let stdout = child.stdout.take().expect("piped stdout");
        let flag = ready.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains("job worker process running") {
                    flag.store(true, Ordering::SeqCst);
                }
            }
        });
        Self { child, ready }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    async fn wait_ready(&self) {
        wait_until(LIMIT, "the worker is running", || async {
            self.ready.load(Ordering::SeqCst)
        })
        .await;
    }

    /// SIGKILL: no shutdown, no release.
    fn kill(&mut self) {
        self.child.kill().expect("kill");
        let _ = self.child.wait();
    }

    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(status.success());
    }

    async fn exit_code(&mut self) -> Option<i32> {
        let mut code = None;
        wait_until(LIMIT, "the worker exits", || {
            let exited = self.child.try_wait().expect("try_wait");
            if let Some(status) = exited {
                code = status.code();
            }
            async move { exited.is_some() }
        })
        .await;
        code
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A migrated PostgreSQL database, a queue on it, a sandbox and the probe directory.
struct Fixture {
    db: TestDatabase,
    jobs: Arc<dyn JobQueue>,
    sandbox: TempDir,
}

impl Fixture {
    async fn postgres() -> Self {
        let db = TestDatabase::create().await;
        let store = PgStore::connect(&PoolSettings::new(db.url().to_owned()))
            .await
            .expect("connect");
        store.migrate_up().await.expect("migrate");
        Self {
            db,
            jobs: Arc::new(store),
            sandbox: TempDir::create("worker"),
        }
    }

    fn url(&self) -> &str {
        self.db.url()
    }

    fn probes(&self) -> std::path::PathBuf {
        let dir = self.sandbox.join("probes");
        std::fs::create_dir_all(&dir).expect("probe dir");
        dir
    }

    async fn enqueue(&self, payload: Value) -> Uuid {
        self.jobs
            .enqueue(NewJob::new(DIAGNOSTICS_KIND, payload, SystemClock.now()))
            .await
            .expect("enqueue")
            .id
    }

    async fn state(&self, id: Uuid) -> JobState {
        self.jobs.get(id).await.expect("get").state
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_workers_job_is_taken_over_after_its_lease() {
    let f = Fixture::postgres().await;
    let probes = f.probes();
    let lease = [("JOB_LEASE_SECS", "2")];
    let mut first = Worker::start(f.url(), &f.sandbox, &probes, &lease);
    first.wait_ready().await;
    // Its first attempt hangs: the worker is killed in the middle of it.
    let id = f.enqueue(json!({"hang_attempts": 1, "sleep_ms": 10})).await;
    wait_until(LIMIT, "the first worker started the job", || async {
        events(&probes, id).iter().any(|e| e.event == "start")
    })
    .await;
    let first_pid = first.pid();
    first.kill();
    assert_eq!(
        f.state(id).await,
        JobState::Running,
        "left running by the dead worker"
    );

    let second = Worker::start(f.url(), &f.sandbox, &probes, &lease);
    second.wait_ready().await;
    wait_until(
        LIMIT,
        "the job is completed by the second worker",
        || async { f.state(id).await == JobState::Succeeded },
    )
    .await;
    let log = events(&probes, id);
    let summary: Vec<(&str, u32, u32)> = log
        .iter()
        .map(|e| (e.event.as_str(), e.attempt, e.pid))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("start", 1, first_pid),
            ("start", 2, second.pid()),
            ("end", 2, second.pid()),
        ]
    );
    let job = f.jobs.get(id).await.expect("get");
    assert_eq!(job.attempts, 2);
    assert!(job.lease_owner.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_never_run_a_job_at_the_same_time() {
    let f = Fixture::postgres().await;
    let probes = f.probes();
    let a = Worker::start(f.url(), &f.sandbox, &probes, &[]);
    let b = Worker::start(f.url(), &f.sandbox, &probes, &[]);
    a.wait_ready().await;
    b.wait_ready().await;
    let mut ids = Vec::new();
    for _ in 0..40 {
        ids.push(f.enqueue(json!({"sleep_ms": 100})).await);
    }
    wait_until(LIMIT, "every job succeeded", || async {
        let page = f
            .jobs
            .list(
                ainative_ports::JobFilter {
                    state: Some(JobState::Succeeded),
                    kind: None,
                },
                ainative_domain::Page::default(),
            )
            .await
            .expect("list");
        page.total == 40
    })
    .await;
    let mut pids = HashSet::new();
    for id in &ids {
        let log = events(&probes, *id);
        let starts: Vec<&Event> = log.iter().filter(|e| e.event == "start").collect();
        let ends: Vec<&Event> = log.iter().filter(|e| e.event == "end").collect();
        assert_eq!(
            (starts.len(), ends.len()),
            (1, 1),
            "job {id} ran once: {log:?}"
        );
        assert_eq!(starts[0].pid, ends[0].pid);
        assert!(starts[0].micros <= ends[0].micros);
        pids.insert(starts[0].pid);
    }
    // With one run per job, no two runs of a job can overlap; both processes took work.
    let expected: HashSet<u32> = [a.pid(), b.pid()].into();
    assert_eq!(pids, expected, "both workers ran jobs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_a_short_job_and_gives_back_a_long_one() {
    let f = Fixture::postgres().await;
    let probes = f.probes();
    let grace = [("JOB_SHUTDOWN_GRACE_SECS", "2"), ("WORKERS", "2")];
    let mut worker = Worker::start(f.url(), &f.sandbox, &probes, &grace);
    worker.wait_ready().await;
    let short = f.enqueue(json!({"sleep_ms": 800})).await;
    let long = f.enqueue(json!({"hang_attempts": 1})).await;
    wait_until(LIMIT, "both jobs started", || async {
        !events(&probes, short).is_empty() && !events(&probes, long).is_empty()
    })
    .await;
    worker.terminate();
    assert_eq!(worker.exit_code().await, Some(0), "a clean exit");
    assert_eq!(f.state(short).await, JobState::Succeeded);
    let given_back = f.jobs.get(long).await.expect("get");
    assert_eq!(given_back.state, JobState::Queued);
    assert_eq!(
        given_back.attempts, 0,
        "the interrupted attempt does not count"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_on_sqlite_runs_jobs_by_polling() {
    let sandbox = TempDir::create("worker");
    let file = sandbox.join("jobs.db");
    let url = format!("sqlite://{}", file.display());
    let store = SqliteStore::connect(&PoolSettings::new(url.clone()))
        .await
        .expect("open");
    store.migrate_up().await.expect("migrate");
    let probes = sandbox.join("probes");
    std::fs::create_dir_all(&probes).expect("probe dir");
    let worker = Worker::start(&url, &sandbox, &probes, &[("JOB_BACKOFF_BASE_SECS", "1")]);
    worker.wait_ready().await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(
            store
                .enqueue(NewJob::new(
                    DIAGNOSTICS_KIND,
                    json!({"fail_attempts": 1}),
                    SystemClock.now(),
                ))
                .await
                .expect("enqueue")
                .id,
        );
    }
    let store = Arc::new(store);
    wait_until(
        LIMIT,
        "every job succeeded on its second attempt",
        || async {
            let mut done = 0;
            for id in &ids {
                if store.get(*id).await.expect("get").state == JobState::Succeeded {
                    done += 1;
                }
            }
            done == ids.len()
        },
    )
    .await;
    let mut by_attempt: HashMap<u32, usize> = HashMap::new();
    for id in &ids {
        for e in events(&probes, *id) {
            *by_attempt.entry(e.attempt).or_default() += 1;
        }
    }
    // Attempt 1: start + fail; attempt 2: start + end.
    assert_eq!(by_attempt.get(&1), Some(&10));
    assert_eq!(by_attempt.get(&2), Some(&10));
}
