//! Job workers: the handler registry of this binary, and the workers run by `serve` and by
//! `ainative worker` (same settings, same database).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ainative_adapters_postgres::JobListener;
use ainative_ai_gateway::tutoring::ReportService;
use ainative_auth::AccountMailer;
use ainative_http_api::Metrics;
use ainative_jobs::{sample_stats, JobError, Registry, WorkerConfig, WorkerDeps, WorkerPool};
use ainative_ports::{Backoff, Clock, Job, SystemClock};
use serde::Deserialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::database::Database;
use crate::materials::{material_parts, MaterialParts};
use crate::observability::JobMetrics;
use crate::settings::{DatabaseSettings, JobSettings, Settings};
use crate::startup::StartupError;
use crate::sweep::{SweepTargets, SWEEP_EVERY};

/// How often the queue's counts are sampled into `jobs_queued`.
const STATS_EVERY: Duration = Duration::from_secs(10);

/// The kind of the self-test job run when `JOB_DIAGNOSTICS_DIR` is set.
pub const DIAGNOSTICS_KIND: &str = "diagnostics.probe";

/// Every handler this binary runs. Features register their kinds here (`mail.send`,
/// `material.process`, `report.build`…).
pub fn registry(
    settings: &JobSettings,
    materials: &MaterialParts,
    mailer: &Arc<AccountMailer>,
    reports: Arc<ReportService>,
) -> Registry {
    let mut registry = Registry::new();
    crate::materials::register_jobs(&mut registry, materials);
    crate::mail::register_jobs(&mut registry, mailer);
    crate::reports::register_jobs(&mut registry, reports);
    if let Some(dir) = &settings.diagnostics_dir {
        let dir = Arc::new(dir.clone());
        registry.register_fn(DIAGNOSTICS_KIND, move |job| probe(dir.clone(), job));
    }
    registry
}

/// What a `diagnostics.probe` job does.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Probe {
    /// How long it runs.
    sleep_ms: u64,
    /// Its first this-many attempts fail.
    fail_attempts: u32,
    /// Its first this-many attempts never finish (until the worker dies or gives it back).
    hang_attempts: u32,
}

/// Appends `start`, then `end` (or `fail`), with the attempt, the process id and the time in
/// microseconds, to `<dir>/<job id>.log`: enough for a test to see which process ran which
/// attempt and whether two runs overlapped.
async fn probe(dir: Arc<PathBuf>, job: Job) -> Result<(), JobError> {
    let probe: Probe = serde_json::from_value(job.payload.clone())?;
    let file = dir.join(format!("{}.log", job.id));
    record(&file, "start", job.attempts).await?;
    if job.attempts <= probe.hang_attempts {
        std::future::pending::<()>().await;
    }
    tokio::time::sleep(Duration::from_millis(probe.sleep_ms)).await;
    if job.attempts <= probe.fail_attempts {
        record(&file, "fail", job.attempts).await?;
        return Err(JobError::msg(format!(
            "probe attempt {} failed on purpose",
            job.attempts
        )));
    }
    record(&file, "end", job.attempts).await
}

async fn record(file: &Path, event: &'static str, attempt: u32) -> Result<(), JobError> {
    let file = file.to_owned();
    let micros = chrono::Utc::now().timestamp_micros();
    let line = format!("{event} {attempt} {} {micros}\n", std::process::id());
    tokio::task::spawn_blocking(move || {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&file)
            .and_then(|mut f| f.write_all(line.as_bytes()))
    })
    .await
    .map_err(JobError::msg)?
    .map_err(JobError::msg)
}

/// `ainative worker`: connects (migrating when `AUTO_MIGRATE`), runs `WORKERS` workers (at
/// least one) until `shutdown` completes, then stops them gracefully and closes the pool.
pub async fn run_worker(
    settings: &Settings,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let metrics = Arc::new(Metrics::new().map_err(|e| StartupError::Metrics(e.to_string()))?);
    let db = Database::connect(&settings.database, None).await?;
    if settings.auto_migrate {
        db.schema.migrate_up().await?;
    }
    // The material pipeline, embeddings client and progress store, loaded once.
    let shared = crate::startup::shared_state(settings).await?;
    let materials = material_parts(settings, &db, &shared, Arc::new(SystemClock))?;
    let account_mailer = crate::mail::account_mailer(settings, &db)?;
    let workers = Workers::start(
        &settings.jobs,
        &settings.database,
        &db,
        &metrics,
        settings.jobs.workers.max(1),
        &materials,
        &account_mailer,
    )
    .await?;
    tracing::info!(workers = workers.workers(), "job worker process running");
    shutdown.await;
    tracing::info!("shutdown requested; finishing running jobs");
    workers.shutdown().await;
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Running workers, the stats sampler, the sweep of expired secrets and the PostgreSQL
/// listener.
pub struct Workers {
    pool: WorkerPool,
    stop: watch::Sender<bool>,
    sampler: JoinHandle<()>,
    sweeper: Option<JoinHandle<()>>,
    _listener: Option<JobListener>,
}

impl Workers {
    /// Starts `concurrency` workers on `db` (none when 0; the stats sampler runs anyway, so
    /// `jobs_queued` is exported by every instance).
    pub async fn start(
        settings: &JobSettings,
        database: &DatabaseSettings,
        db: &Database,
        metrics: &Arc<Metrics>,
        concurrency: usize,
        materials: &MaterialParts,
        mailer: &Arc<AccountMailer>,
    ) -> Result<Self, StartupError> {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let observer = Arc::new(JobMetrics::new(metrics.clone()));
        let listener = if concurrency > 0 {
            db.listen_for_jobs(database).await?
        } else {
            None
        };
        let config = WorkerConfig {
            lease: settings.lease,
            // Three heartbeats per lease: one lost heartbeat never loses the job.
            heartbeat: settings.lease / 3,
            poll: settings.poll,
            backoff: Backoff {
                base: settings.backoff_base,
                max: settings.backoff_max,
            },
            shutdown_grace: settings.shutdown_grace,
            ..WorkerConfig::new(ainative_http_api::instance_name(), concurrency)
        };
        let pool = WorkerPool::start(
            WorkerDeps {
                queue: db.jobs.clone(),
                registry: Arc::new(registry(
                    settings,
                    materials,
                    mailer,
                    crate::reports::report_service(db, clock.clone()),
                )),
                clock: clock.clone(),
                wakeup: db.job_wakeup.clone(),
                observer: observer.clone(),
            },
            config,
        );
        let (stop, stopped) = watch::channel(false);
        // Instances that run jobs also sweep expired one-time secrets.
        let sweeper = (concurrency > 0).then(|| {
            let targets = SweepTargets {
                oauth: db.oauth.clone(),
                account_tokens: db.account_tokens.clone(),
                clock: clock.clone(),
            };
            tokio::spawn(targets.run(SWEEP_EVERY, stopped.clone()))
        });
        let sampler = tokio::spawn(sample_stats(
            db.jobs.clone(),
            clock,
            observer,
            STATS_EVERY,
            stopped,
        ));
        Ok(Self {
            pool,
            stop,
            sampler,
            sweeper,
            _listener: listener,
        })
    }

    /// Worker loops running.
    pub fn workers(&self) -> usize {
        self.pool.workers()
    }

    /// Stops claiming, lets running jobs finish within the grace period (or gives them
    /// back) and stops the sampler.
    pub async fn shutdown(self) {
        self.pool.shutdown().await;
        let _ = self.stop.send(true);
        let _ = self.sampler.await;
        if let Some(sweeper) = self.sweeper {
            let _ = sweeper.await;
        }
    }
}

/// One line of a `diagnostics.probe` log: `start|end|fail <attempt> <pid> <micros>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeEvent {
    pub event: String,
    pub attempt: u32,
    pub pid: u32,
    pub micros: i64,
}

/// The events that probe job `job` logged under `dir` (none when it has not started);
/// lines that are cut short (being written) are skipped.
pub fn probe_events(dir: &Path, job: uuid::Uuid) -> Vec<ProbeEvent> {
    let text = std::fs::read_to_string(dir.join(format!("{job}.log"))).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let mut parts = line.split_whitespace();
            Some(ProbeEvent {
                event: parts.next()?.to_owned(),
                attempt: parts.next()?.parse().ok()?,
                pid: parts.next()?.parse().ok()?,
                micros: parts.next()?.parse().ok()?,
            })
        })
        .collect()
}
