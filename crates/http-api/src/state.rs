//! What the HTTP layer is built from.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use ainative_ai_gateway::tutoring::{
    ActivityService, MaterialService, ReportService, RiskService, SessionService,
};
use ainative_auth::{AccountService, AdminService, ApiKeyService, AuthService, OAuthService};
use ainative_ports::{DatabaseHealth, RateLimiter};
use ipnet::IpNet;

use crate::error_log::ErrorLog;

/// Requests per minute by caller kind; 0 means unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Per client IP, for unauthenticated requests.
    pub anonymous: u32,
    /// Per user of the free tier.
    pub free: u32,
    /// Per user of the premium tier.
    pub premium: u32,
    /// Per user of the admin tier.
    pub admin: u32,
    /// Per client IP, on the social sign-in steps (authorize, callback, exchange, link).
    pub oauth: u32,
}

/// HTTP behaviour settings.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Larger bodies get 413.
    pub max_body_bytes: usize,
    /// Larger material uploads get 413 (their route reads bodies up to base64 of this).
    pub max_material_bytes: usize,
    /// Origins allowed cross-origin access; empty = none.
    pub cors_origins: Vec<String>,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Adds HSTS.
    pub production: bool,
    /// Request limits.
    pub rate_limits: RateLimits,
    /// `Cache-Control: max-age` of `/.well-known/jwks.json`.
    pub jwks_max_age_secs: u64,
}

/// Process lifecycle: start time and whether shutdown has begun (readiness turns 503).
#[derive(Debug, Clone)]
pub struct Lifecycle {
    started: Instant,
    shutting_down: Arc<AtomicBool>,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            shutting_down: Arc::new(AtomicBool::new(false)),
        }
    }
}

impl Lifecycle {
    /// Marks the start of shutdown.
    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
    }

    /// True once shutdown has begun.
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    /// Seconds since start.
    pub fn uptime_secs(&self) -> u64 {
        self.started.elapsed().as_secs()
    }
}

/// Health probes and facts reported by `/health`.
#[derive(Clone)]
pub struct HealthState {
    /// The database probe.
    pub database: Arc<dyn DatabaseHealth>,
    /// Lifecycle flags.
    pub lifecycle: Lifecycle,
    /// Redis or in-process shared state.
    pub shared_state: Arc<dyn ainative_ports::SharedStateHealth>,
    /// Configured LLM provider name.
    pub llm_provider: String,
    /// The LLM's state: `healthy`, `degraded` (recovering) or `unhealthy` (circuit open).
    pub llm_status: Arc<dyn Fn() -> &'static str + Send + Sync>,
    /// The job queue and this process's workers.
    pub workers: Arc<ainative_jobs::JobAdmin>,
}

/// Everything the HTTP layer needs, built by the composition root.
#[derive(Clone)]
pub struct ApiState {
    /// Identity use cases.
    pub auth: Arc<AuthService>,
    /// User administration.
    pub admin: Arc<AdminService>,
    /// Social login.
    pub oauth: Arc<OAuthService>,
    /// API keys.
    pub api_keys: Arc<ApiKeyService>,
    /// E-mail verification and password reset.
    pub accounts: Arc<AccountService>,
    /// Tutoring use cases.
    pub tutoring: TutoringServices,
    /// Users' own model credentials.
    pub credentials: Arc<ainative_ai_gateway::credentials::CredentialService>,
    /// Request limiter.
    pub limiter: Arc<dyn RateLimiter>,
    /// Health probes.
    pub health: HealthState,
    /// The job queue, for administrators.
    pub jobs: Arc<ainative_jobs::JobAdmin>,
    /// Server errors of every instance (recorded in the background, read from the database).
    pub errors: ErrorLog,
    /// Prometheus series.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// HTTP settings.
    pub settings: Arc<HttpSettings>,
}

/// The tutoring use cases.
#[derive(Clone)]
pub struct TutoringServices {
    /// Activities.
    pub activities: Arc<ActivityService>,
    /// Sessions and interactions.
    pub sessions: Arc<SessionService>,
    /// Risks.
    pub risks: Arc<RiskService>,
    /// Course material.
    pub materials: Arc<MaterialService>,
    /// Course reports.
    pub reports: Arc<ReportService>,
}
