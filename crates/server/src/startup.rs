//! The composition root: builds every adapter, wires the services and returns a runnable
//! server bound to its port. Used by `main` and by the end-to-end tests alike.

use std::future::Future;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::HttpServer;
use ainative_adapters_redis::{RedisSettings as RedisConfig, SharedState};
use ainative_ai_gateway::credentials::{
    CredentialRouter, CredentialService, CredentialSettings as RouterSettings, Keyring, RouterParts,
};
use ainative_ai_gateway::llm::{
    build_language_model, CircuitState, LlmClient, LlmConfig, LlmConfigError,
};
use ainative_ai_gateway::tutoring::{ActivityService, RiskService, SessionService};
use ainative_ai_gateway::GatewayFactory;
use ainative_auth::{
    AccountDeps, AccountService, AdminService, ApiKeyDeps, ApiKeyLimits, ApiKeyService, AuthConfig,
    AuthDeps, AuthService, BcryptHasher, JwtSettings, Pepper, RevocationSync, UserCache,
};
use ainative_domain::PasswordPolicy;
use ainative_http_api::{
    instance_name, metrics_app, ApiState, ErrorLog, ErrorLogWriter, HealthState, HttpSettings,
    Lifecycle, Metrics, RateLimits, TutoringServices,
};
use ainative_ports::{Clock, LoginThrottle, RateLimiter, RevocationList, SystemClock};
use secrecy::ExposeSecret;
use tokio::sync::watch;

use crate::database::{Database, QueryMetrics};
use crate::materials::{material_parts, MaterialParts};
use crate::observability::{LlmMetrics, ServerScrapeHook, TurnMetrics};
use crate::settings::Settings;
use crate::workers::Workers;

/// Start-up failures.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The database could not be reached or migrated.
    #[error("database: {0}")]
    Database(#[from] ainative_ports::PortError),
    /// Redis settings are invalid (an unreachable Redis is not an error: it degrades).
    #[error("redis: {0}")]
    Redis(String),
    /// The LLM provider is misconfigured.
    #[error("LLM_PROVIDER: {0}")]
    Llm(#[from] LlmConfigError),
    /// The embeddings endpoint is misconfigured.
    #[error("EMBEDDING_BASE_URL: {0}")]
    Embedding(String),
    /// The mail settings are unusable (`SMTP_URL`, `MAIL_FROM`).
    #[error("mail: {0}")]
    Mail(String),
    /// The metrics registry could not be built.
    #[error("metrics: {0}")]
    Metrics(String),
    /// A sign-in provider is misconfigured.
    #[error("social login: {0}")]
    OAuth(String),
    /// The model credentials cannot be set up (bad keys, or rows sealed with a key that is
    /// not configured).
    #[error("credentials: {0}")]
    Credentials(String),
    /// The listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Address.
        addr: String,
        /// Cause.
        source: std::io::Error,
    },
}

/// How often revocations made elsewhere are pulled in (SPEC: enforced within one second).
const REVOCATION_POLL: Duration = Duration::from_millis(500);

/// How long shutdown waits for the server errors still queued to be stored.
const ERROR_LOG_FLUSH: Duration = Duration::from_secs(2);

/// The token settings of the identity core.
pub fn jwt_settings(settings: &Settings) -> JwtSettings {
    JwtSettings {
        secret: settings.jwt.secret.clone(),
        signing_key: settings.jwt.signing_key.clone(),
        previous_keys: settings.jwt.previous_keys.clone(),
        issuer: settings.jwt.issuer.clone(),
        audience: settings.jwt.audience.clone(),
        access_ttl: settings.jwt.access_ttl,
        refresh_ttl: settings.jwt.refresh_ttl,
    }
}

/// The identity services built from settings and a database.
pub fn auth_services(
    settings: &Settings,
    db: &Database,
    revocations: Arc<dyn RevocationList>,
    throttle: Arc<dyn LoginThrottle>,
) -> (Arc<AuthService>, Arc<AdminService>, Arc<ApiKeyService>) {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let parallelism = std::thread::available_parallelism().map_or(2, usize::from);
    let user_cache = UserCache::default();
    let deps = AuthDeps {
        users: db.users.clone(),
        sessions: db.sessions.clone(),
        revocations: revocations.clone(),
        throttle,
        hasher: Arc::new(BcryptHasher::new(settings.bcrypt_cost, parallelism)),
        clock: clock.clone(),
        user_cache: user_cache.clone(),
    };
    let config = AuthConfig {
        jwt: jwt_settings(settings),
        password_policy: PasswordPolicy::new(settings.password_min_length),
        refresh_reuse_grace: settings.refresh_reuse_grace,
        login_attempts_limit: settings.rate_limits.login,
    };
    let auth = Arc::new(AuthService::new(deps, config));
    let api_keys = Arc::new(ApiKeyService::new(
        ApiKeyDeps {
            keys: db.api_keys.clone(),
            users: db.users.clone(),
            user_cache: user_cache.clone(),
            revocations: revocations.clone(),
            clock: clock.clone(),
        },
        Pepper::new(&settings.api_key_pepper),
        ApiKeyLimits::default(),
    ));
    let admin = Arc::new(AdminService::new(
        db.users.clone(),
        db.audit.clone(),
        revocations,
        clock,
        settings.jwt.refresh_ttl,
        user_cache,
    ));
    (auth, admin, api_keys)
}

/// E-mail verification and password reset, queueing `mail.send` jobs.
pub fn account_service(
    settings: &Settings,
    db: &Database,
    auth: Arc<AuthService>,
    limiter: Arc<dyn RateLimiter>,
) -> Arc<AccountService> {
    Arc::new(AccountService::new(
        auth,
        AccountDeps {
            tokens: db.account_tokens.clone(),
            jobs: db.jobs.clone(),
            limiter,
        },
        crate::mail::account_config(settings),
    ))
}

/// Rate limits, throttling, revocations and the response cache: on Redis when configured
/// (degrading to in-process while it is unreachable), else in-process.
pub async fn shared_state(settings: &Settings) -> Result<SharedState, StartupError> {
    match &settings.redis {
        None => Ok(SharedState::in_memory(settings.cache_max_entries)),
        Some(redis) => {
            let config = RedisConfig::new(redis.url.expose_secret().to_owned())
                .with_pool_size(redis.pool_size as usize)
                .with_timeout(redis.timeout)
                .with_key_prefix(redis.key_prefix.clone());
            SharedState::redis(&config, settings.cache_max_entries)
                .await
                .map_err(|e| StartupError::Redis(e.to_string()))
        }
    }
}

/// The keys of users' model credentials, from the settings.
pub fn keyring(settings: &Settings) -> Result<Keyring, StartupError> {
    let previous = settings
        .credentials
        .previous
        .as_ref()
        .map_or("", |p| p.expose_secret());
    Keyring::from_base64(settings.credentials.key.expose_secret(), previous)
        .map_err(|e| StartupError::Credentials(e.to_string()))
}

/// Refuses to start when stored credentials are sealed with a key that is not configured
/// (they could never be opened); skipped while the schema is not migrated yet.
async fn check_credential_keys(settings: &Settings, db: &Database) -> Result<(), StartupError> {
    let keys = keyring(settings)?;
    match db.credentials.key_ids_in_use().await {
        Ok(ids) => {
            let missing: Vec<String> = ids.into_iter().filter(|id| !keys.knows(id)).collect();
            if missing.is_empty() {
                Ok(())
            } else {
                Err(StartupError::Credentials(format!(
                    "stored credentials are sealed with key(s) {} that neither \
                     CREDENTIALS_ENCRYPTION_KEY nor CREDENTIALS_PREVIOUS_KEYS provides",
                    missing.join(", ")
                )))
            }
        }
        Err(e) if e.is_unavailable() => Err(e.into()),
        // No table yet (migrations pending): nothing is sealed.
        Err(e) => {
            tracing::debug!(error = %e, "credential keys not checked");
            Ok(())
        }
    }
}

/// What [`tutoring_services`] builds: the services, the gateway factory and LLM client (for
/// metrics), and the model credentials service.
pub type TutoringParts = (
    TutoringServices,
    Arc<GatewayFactory>,
    Arc<LlmClient>,
    Arc<CredentialService>,
);

/// The tutoring use cases, with the gateway factory and LLM client (for metrics), and the
/// model credentials service.
pub fn tutoring_services(
    settings: &Settings,
    db: &Database,
    shared: &SharedState,
    metrics: &Arc<Metrics>,
    materials: &MaterialParts,
) -> Result<TutoringParts, StartupError> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let router = Arc::new(
        CredentialRouter::new(
            RouterParts {
                repo: db.credentials.clone(),
                keyring: Arc::new(keyring(settings)?),
                limiter: shared.limiter.clone(),
                cache: shared.cache.clone(),
                observer: Some(Arc::new(LlmMetrics(metrics.clone()))),
                clock: clock.clone(),
            },
            RouterSettings {
                default_rpm: settings.credentials.default_rpm,
                default_concurrency: settings.credentials.default_concurrency,
                allow_private: settings.credentials.allow_private,
                timeout: settings.llm.timeout,
                max_retries: settings.llm.max_retries,
                cache_ttl: settings.cache_ttl,
            },
        )
        .map_err(StartupError::Credentials)?,
    );
    let credentials = Arc::new(CredentialService::new(
        db.credentials.clone(),
        router.clone(),
        clock.clone(),
    ));
    let llm = build_language_model(
        LlmConfig {
            provider: settings.llm.provider.clone(),
            base_url: settings.llm.base_url.clone(),
            api_key: settings
                .llm
                .api_key
                .as_ref()
                .map(|k| k.expose_secret().to_owned()),
            model: settings.llm.model.clone(),
            timeout: settings.llm.timeout,
            max_retries: settings.llm.max_retries,
        },
        shared.cache.clone(),
        shared.flights.clone(),
        settings.cache_ttl,
        Some(Arc::new(LlmMetrics(metrics.clone()))),
    )?;
    let mut gateways = GatewayFactory::new(llm.clone(), db.interactions.clone(), clock.clone())
        .with_observer(Arc::new(TurnMetrics(metrics.clone())))
        .with_credentials(router);
    if let Some(budget) = materials.budget {
        gateways = gateways.with_retriever(materials.retriever.clone(), budget);
    }
    let gateways = Arc::new(gateways);
    let services = TutoringServices {
        activities: Arc::new(
            ActivityService::new(db.activities.clone(), clock.clone())
                .with_credentials(db.credentials.clone()),
        ),
        sessions: Arc::new(
            SessionService::new(
                db.study_sessions.clone(),
                db.activities.clone(),
                db.interactions.clone(),
                db.risks.clone(),
                gateways.clone(),
                clock.clone(),
            )
            .with_credentials(db.credentials.clone()),
        ),
        risks: Arc::new(RiskService::new(
            db.risks.clone(),
            db.study_sessions.clone(),
            db.activities.clone(),
            clock.clone(),
        )),
        materials: materials.service.clone(),
        reports: crate::reports::report_service(db, clock),
    };
    Ok((services, gateways, llm, credentials))
}

fn bind(addr: &str) -> Result<(TcpListener, u16), StartupError> {
    let bind_error = |source| StartupError::Bind {
        addr: addr.to_owned(),
        source,
    };
    let listener = TcpListener::bind(addr).map_err(bind_error)?;
    let port = listener.local_addr().map_err(bind_error)?.port();
    Ok((listener, port))
}

/// Everything wired, nothing bound: the state the HTTP application is built from, and what
/// must be stopped with it. [`Application::build`] binds it to its listeners; benchmarks and
/// tests can serve it in process (`actix_web::test`).
pub struct Composition {
    /// The HTTP layer's state; `ainative_http_api::app(state)` builds the application.
    pub state: ApiState,
    /// The metrics registry (served on `METRICS_ADDR`).
    pub metrics: Arc<Metrics>,
    /// Course material: the processor the workers run.
    pub materials: MaterialParts,
    lifecycle: Lifecycle,
    db: Database,
    error_writer: ErrorLogWriter,
    stop_background: watch::Sender<bool>,
    background: tokio::task::JoinHandle<()>,
    workers: Workers,
}

impl Composition {
    /// Connects, migrates (when `AUTO_MIGRATE`), loads revocations, starts the revocation
    /// sync and wires every service.
    pub async fn build(settings: &Settings) -> Result<Self, StartupError> {
        let metrics = Arc::new(Metrics::new().map_err(|e| StartupError::Metrics(e.to_string()))?);
        // Every persistence call is bounded by the store's deadline and timed into
        // `db_query_duration_seconds{op}`.
        let db = Database::connect(
            &settings.database,
            Some(Arc::new(QueryMetrics(metrics.clone()))),
        )
        .await?;
        if settings.auto_migrate {
            let applied = db.schema.migrate_up().await?;
            if !applied.is_empty() {
                tracing::info!(?applied, "migrations applied");
            }
        }
        check_credential_keys(settings, &db).await?;
        let shared = shared_state(settings).await?;
        let (auth, admin, api_keys) = auth_services(
            settings,
            &db,
            shared.revocations.clone(),
            shared.throttle.clone(),
        );
        // Mail leaves as `mail.send` jobs on the durable queue, never on the request path.
        let accounts = account_service(settings, &db, auth.clone(), shared.limiter.clone());
        let account_mailer = crate::mail::account_mailer(settings, &db)?;
        let oauth = crate::oauth::oauth_service(settings, &db, auth.clone())?;
        let materials = material_parts(settings, &db, &shared, Arc::new(SystemClock))?;
        let (tutoring, gateways, llm, credentials) =
            tutoring_services(settings, &db, &shared, &metrics, &materials)?;
        let llm_for_health = llm.clone();
        metrics.add_hook(Arc::new(ServerScrapeHook {
            database: db.health.clone(),
            llm,
            gateways,
            redis: shared.monitor.clone(),
        }));

        let sync = RevocationSync::new(
            db.sessions.clone(),
            shared.revocations.clone(),
            Arc::new(SystemClock),
            REVOCATION_POLL,
        );
        let loaded = sync.sync(None).await?;
        tracing::debug!(loaded, "revocations loaded");
        let (stop_background, mut stopped) = watch::channel(false);
        let background = tokio::spawn(sync.run(async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        }));

        // `WORKERS` job workers in this process (0: jobs run in `ainative worker` processes).
        let workers = Workers::start(
            &settings.jobs,
            &settings.database,
            &db,
            &metrics,
            settings.jobs.workers,
            &materials,
            &account_mailer,
        )
        .await?;
        let jobs = Arc::new(ainative_jobs::JobAdmin::new(
            db.jobs.clone(),
            Arc::new(SystemClock),
            workers.workers(),
        ));

        let lifecycle = Lifecycle::default();
        let (errors, error_writer) = ErrorLog::spawn(db.errors.clone(), instance_name());
        let state = ApiState {
            auth,
            admin,
            oauth,
            api_keys,
            accounts,
            tutoring,
            credentials,
            limiter: shared.limiter.clone(),
            health: HealthState {
                database: db.health.clone(),
                lifecycle: lifecycle.clone(),
                shared_state: shared.health.clone(),
                llm_provider: settings.llm.provider.clone(),
                llm_status: Arc::new(move || match llm_for_health.circuit_state() {
                    CircuitState::Closed => "healthy",
                    CircuitState::HalfOpen => "degraded",
                    CircuitState::Open => "unhealthy",
                }),
                workers: jobs.clone(),
            },
            jobs,
            errors,
            metrics: metrics.clone(),
            settings: Arc::new(HttpSettings {
                max_body_bytes: settings.max_body_bytes,
                max_material_bytes: settings.materials.max_bytes,
                cors_origins: settings.cors_origins.clone(),
                trusted_proxies: settings.trusted_proxies.clone(),
                production: settings.env == crate::settings::AppEnv::Production,
                jwks_max_age_secs: settings.jwt.jwks_max_age.as_secs(),
                rate_limits: RateLimits {
                    anonymous: settings.rate_limits.anonymous,
                    free: settings.rate_limits.free,
                    premium: settings.rate_limits.premium,
                    admin: settings.rate_limits.admin,
                    oauth: settings.rate_limits.oauth,
                },
            }),
        };
        Ok(Self {
            state,
            metrics,
            materials,
            lifecycle,
            db,
            error_writer,
            stop_background,
            background,
            workers,
        })
    }

    /// Stops the background work (job workers, storing the server errors still queued) and
    /// closes the pool.
    pub async fn shutdown(self) {
        self.workers.shutdown().await;
        let _ = self.stop_background.send(true);
        let _ = self.background.await;
        self.error_writer.finish(ERROR_LOG_FLUSH).await;
        self.db.close().await;
    }
}

/// A built, not yet running, application.
pub struct Application {
    port: u16,
    metrics_port: u16,
    server: Server,
    metrics_server: Server,
    lifecycle: Lifecycle,
    db: Database,
    error_writer: ErrorLogWriter,
    stop_background: watch::Sender<bool>,
    background: tokio::task::JoinHandle<()>,
    workers: Workers,
}

impl Application {
    /// Builds the [`Composition`] and binds the public and the internal metrics listeners.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let Composition {
            state,
            metrics,
            materials: _materials,
            lifecycle,
            db,
            error_writer,
            stop_background,
            background,
            workers,
        } = Composition::build(&settings).await?;
        let addr = format!("{}:{}", settings.host, settings.port);
        let (listener, port) = bind(&addr)?;
        let server = HttpServer::new(move || ainative_http_api::app(state.clone()))
            .listen(listener)
            .map_err(|source| StartupError::Bind { addr, source })?
            .disable_signals()
            .shutdown_timeout(settings.shutdown_timeout.as_secs())
            .run();
        let metrics_addr = settings.metrics_addr.to_string();
        let (metrics_listener, metrics_port) = bind(&metrics_addr)?;
        let metrics_server = HttpServer::new(move || metrics_app(metrics.clone()))
            .workers(1)
            .listen(metrics_listener)
            .map_err(|source| StartupError::Bind {
                addr: metrics_addr,
                source,
            })?
            .disable_signals()
            .shutdown_timeout(1)
            .run();
        Ok(Self {
            port,
            metrics_port,
            server,
            metrics_server,
            lifecycle,
            db,
            error_writer,
            stop_background,
            background,
            workers,
        })
    }

    /// The bound public port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The bound port of the internal metrics listener.
    pub fn metrics_port(&self) -> u16 {
        self.metrics_port
    }

    /// A handle that can stop the public server.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until `shutdown` completes, then: readiness turns 503, the listener stops
    /// accepting, in-flight requests finish (up to the shutdown timeout), background work
    /// stops, the server errors still queued are stored and the pool closes.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let handle = self.server.handle();
        let metrics_handle = self.metrics_server.handle();
        let lifecycle = self.lifecycle.clone();
        tokio::spawn(async move {
            shutdown.await;
            lifecycle.begin_shutdown();
            tracing::info!("shutdown requested; finishing in-flight requests");
            handle.stop(true).await;
        });
        let metrics_task = tokio::spawn(self.metrics_server);
        let result = self.server.await;
        metrics_handle.stop(true).await;
        let _ = metrics_task.await;
        // Running jobs get their grace period; unfinished ones go back to the queue.
        self.workers.shutdown().await;
        let _ = self.stop_background.send(true);
        let _ = self.background.await;
        self.error_writer.finish(ERROR_LOG_FLUSH).await;
        self.db.close().await;
        tracing::info!("stopped");
        result
    }
}

/// Completes on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
