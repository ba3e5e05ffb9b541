//! Chooses the database backend from the URL and exposes it through the ports.

use std::sync::Arc;

use ainative_adapters_postgres::PgStore;
use ainative_adapters_sqlite::SqliteStore;
use ainative_ports::pool::PoolSettings;
use ainative_ports::{
    ActivityRepository, AuditLog, AuthSessionRepository, DatabaseHealth, InteractionRepository,
    PortError, RiskRepository, SchemaManager, StudySessionRepository, UserRepository,
};
use secrecy::ExposeSecret;

use crate::deadline::Deadline;
use crate::settings::DatabaseSettings;

#[derive(Clone)]
enum Backend {
    Postgres(PgStore),
    Sqlite(SqliteStore),
}

/// The persistence ports, backed by one pool.
#[derive(Clone)]
pub struct Database {
    /// Users.
    pub users: Arc<dyn UserRepository>,
    /// Sessions and refresh tokens.
    pub sessions: Arc<dyn AuthSessionRepository>,
    /// Audit log.
    pub audit: Arc<dyn AuditLog>,
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
    backend: Backend,
}

fn ports<S>(store: S, backend: Backend) -> Database
where
    S: UserRepository
        + AuthSessionRepository
        + AuditLog
        + DatabaseHealth
        + SchemaManager
        + ActivityRepository
        + StudySessionRepository
        + InteractionRepository
        + RiskRepository
        + Clone
        + 'static,
{
    Database {
        users: Arc::new(store.clone()),
        sessions: Arc::new(store.clone()),
        audit: Arc::new(store.clone()),
        health: Arc::new(store.clone()),
        schema: Arc::new(store.clone()),
        activities: Arc::new(store.clone()),
        study_sessions: Arc::new(store.clone()),
        interactions: Arc::new(store.clone()),
        risks: Arc::new(store),
        backend,
    }
}

impl Database {
    /// Bounds every persistence call by `limit` (SPEC §9: 503, never a hang). Health and
    /// schema probes keep their own timeouts.
    pub fn with_deadline(
        self,
        limit: std::time::Duration,
        metrics: Option<Arc<ainative_http_api::Metrics>>,
    ) -> Self {
        Self {
            users: Arc::new(Deadline::new(self.users, limit, metrics.clone())),
            sessions: Arc::new(Deadline::new(self.sessions, limit, metrics.clone())),
            audit: Arc::new(Deadline::new(self.audit, limit, metrics.clone())),
            activities: Arc::new(Deadline::new(self.activities, limit, metrics.clone())),
            study_sessions: Arc::new(Deadline::new(self.study_sessions, limit, metrics.clone())),
            interactions: Arc::new(Deadline::new(self.interactions, limit, metrics.clone())),
            risks: Arc::new(Deadline::new(self.risks, limit, metrics.clone())),
            ..self
        }
    }

    /// Connects to the configured database.
    pub async fn connect(settings: &DatabaseSettings) -> Result<Self, PortError> {
        let pool = PoolSettings {
            url: settings.url.expose_secret().to_owned(),
            max_connections: settings.pool_size,
            min_connections: settings.min_idle,
            acquire_timeout: settings.pool_timeout,
            max_lifetime: settings.recycle,
            idle_timeout: settings.idle_timeout,
            test_before_acquire: settings.pre_ping,
        };
        if settings.is_sqlite() {
            let store = SqliteStore::connect(&pool).await?;
            Ok(ports(store.clone(), Backend::Sqlite(store)))
        } else {
            let store = PgStore::connect(&pool).await?;
            Ok(ports(store.clone(), Backend::Postgres(store)))
        }
    }

    /// Closes the pool, waiting for checked-out connections to return.
    pub async fn close(&self) {
        match &self.backend {
            Backend::Postgres(store) => store.pool().close().await,
            Backend::Sqlite(store) => store.pool().close().await,
        }
    }
}
