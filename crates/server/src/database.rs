//! Chooses the database backend from the URL and exposes it through the ports.

use std::sync::Arc;
use std::time::Duration;

use ainative_adapters_postgres::PgStore;
use ainative_adapters_sqlite::SqliteStore;
use ainative_http_api::Metrics;
use ainative_ports::pool::PoolSettings;
use ainative_ports::{
    AccountTokenRepository, ActivityRepository, ApiKeyRepository, AuditLog, AuthSessionRepository,
    DatabaseHealth, InteractionRepository, JobQueue, MaterialCorpus, MaterialProgress,
    MaterialStore, OAuthStore, PortError, QueryObserver, ReportRepository, RiskRepository,
    SchemaManager, ServerErrorLog, StudySessionRepository, UserRepository,
};
use secrecy::ExposeSecret;
use tokio::sync::Notify;

use crate::settings::DatabaseSettings;

#[derive(Clone)]
enum Backend {
    Postgres(PgStore),
    Sqlite(SqliteStore),
}

/// The persistence ports, backed by one pool. Every call of the persistence ports (not the
/// health and schema probes) is bounded by the store's deadline, `DB_POOL_TIMEOUT_SECS` +
/// 0.5 s (SPEC §9: 503, never a hang).
#[derive(Clone)]
pub struct Database {
    /// Users.
    pub users: Arc<dyn UserRepository>,
    /// Sessions and refresh tokens.
    pub sessions: Arc<dyn AuthSessionRepository>,
    /// Audit log.
    pub audit: Arc<dyn AuditLog>,
    /// API keys.
    pub api_keys: Arc<dyn ApiKeyRepository>,
    /// Health probes.
    pub health: Arc<dyn DatabaseHealth>,
    /// Migrations.
    pub schema: Arc<dyn SchemaManager>,
    /// Activities.
    pub activities: Arc<dyn ActivityRepository>,
    /// Study sessions and evaluations.
    pub study_sessions: Arc<dyn StudySessionRepository>,
    /// Interactions and traces.
    pub interactions: Arc<dyn InteractionRepository>,
    /// Risks.
    pub risks: Arc<dyn RiskRepository>,
    /// Server errors of every instance.
    pub errors: Arc<dyn ServerErrorLog>,
    /// Course material.
    pub materials: Arc<dyn MaterialStore>,
    /// The processed material retrieval reads.
    pub material_corpus: Arc<dyn MaterialCorpus>,
    /// Stage progress in the database.
    pub material_progress: Arc<dyn MaterialProgress>,
    /// Course reports.
    pub reports: Arc<dyn ReportRepository>,
    /// The durable job queue.
    pub jobs: Arc<dyn JobQueue>,
    /// Woken when this process enqueues a job.
    pub job_wakeup: Arc<Notify>,
    /// Social-login links, flows and login codes.
    pub oauth: Arc<dyn OAuthStore>,
    /// Users' model credentials.
    pub credentials: Arc<dyn ainative_ports::LlmCredentialRepository>,
    /// One-time account tokens (verification and reset links).
    pub account_tokens: Arc<dyn AccountTokenRepository>,
    backend: Backend,
}

fn ports<S>(store: S, job_wakeup: Arc<Notify>, backend: Backend) -> Database
where
    S: UserRepository
        + ApiKeyRepository
        + AuthSessionRepository
        + AuditLog
        + DatabaseHealth
        + SchemaManager
        + ActivityRepository
        + StudySessionRepository
        + InteractionRepository
        + RiskRepository
        + ServerErrorLog
        + MaterialStore
        + MaterialCorpus
        + MaterialProgress
        + ReportRepository
        + JobQueue
        + OAuthStore
        + ainative_ports::LlmCredentialRepository
        + AccountTokenRepository
        + Clone
        + 'static,
{
    Database {
        users: Arc::new(store.clone()),
        sessions: Arc::new(store.clone()),
        audit: Arc::new(store.clone()),
        api_keys: Arc::new(store.clone()),
        health: Arc::new(store.clone()),
        schema: Arc::new(store.clone()),
        activities: Arc::new(store.clone()),
        study_sessions: Arc::new(store.clone()),
        interactions: Arc::new(store.clone()),
        risks: Arc::new(store.clone()),
        errors: Arc::new(store.clone()),
        jobs: Arc::new(store.clone()),
        materials: Arc::new(store.clone()),
        material_corpus: Arc::new(store.clone()),
        material_progress: Arc::new(store.clone()),
        reports: Arc::new(store.clone()),
        job_wakeup,
        oauth: Arc::new(store.clone()),
        credentials: Arc::new(store.clone()),
        account_tokens: Arc::new(store),
        backend,
    }
}

/// Records the duration of every persistence call in `db_query_duration_seconds{op}`.
pub struct QueryMetrics(pub Arc<Metrics>);

impl QueryObserver for QueryMetrics {
    fn query_finished(&self, operation: &'static str, elapsed: Duration) {
        self.0
            .db_query
            .with_label_values(&[operation])
            .observe(elapsed.as_secs_f64());
    }
}

impl Database {
    /// Connects to the configured database; the duration of every persistence call is told
    /// to `observer` when one is given.
    pub async fn connect(
        settings: &DatabaseSettings,
        observer: Option<Arc<dyn QueryObserver>>,
    ) -> Result<Self, PortError> {
        let pool = PoolSettings {
            url: settings.url.expose_secret().to_owned(),
            max_connections: settings.pool_size,
            min_connections: settings.min_idle,
            acquire_timeout: settings.pool_timeout,
            max_lifetime: settings.recycle,
            idle_timeout: settings.idle_timeout,
            test_before_acquire: settings.pre_ping,
            pre_ping_after_idle: ainative_ports::pool::PRE_PING_AFTER_IDLE,
        };
        if settings.is_sqlite() {
            let mut store = SqliteStore::connect(&pool).await?;
            if let Some(observer) = observer {
                store = store.observed_by(observer);
            }
            Ok(ports(
                store.clone(),
                store.job_wakeup(),
                Backend::Sqlite(store),
            ))
        } else {
            let mut store = PgStore::connect(&pool).await?;
            if let Some(observer) = observer {
                store = store.observed_by(observer);
            }
            Ok(ports(
                store.clone(),
                store.job_wakeup(),
                Backend::Postgres(store),
            ))
        }
    }

    /// On PostgreSQL, listens for jobs enqueued by any process and wakes this process's
    /// workers (`None` on SQLite: workers of other processes poll).
    pub async fn listen_for_jobs(
        &self,
        settings: &DatabaseSettings,
    ) -> Result<Option<ainative_adapters_postgres::JobListener>, PortError> {
        match &self.backend {
            Backend::Postgres(_) => ainative_adapters_postgres::listen_for_jobs(
                settings.url.expose_secret(),
                self.job_wakeup.clone(),
            )
            .await
            .map(Some),
            Backend::Sqlite(_) => Ok(None),
        }
    }

    /// Closes the store: its writer's connection (SQLite) and its pool, waiting for
    /// checked-out connections to return.
    pub async fn close(&self) {
        match &self.backend {
            Backend::Postgres(store) => store.close().await,
            Backend::Sqlite(store) => store.close().await,
        }
    }
}
