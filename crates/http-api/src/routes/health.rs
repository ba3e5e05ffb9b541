//! `/api/v1/health`, `/health/live` and `/health/ready`.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use ainative_ports::PoolStats;
use serde::Serialize;
use utoipa::ToSchema;

use super::resource;
use crate::envelope;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::state::HealthState;

/// A probe that takes longer than this counts as failed, so readiness answers quickly.
const PROBE_TIMEOUT: Duration = Duration::from_millis(1500);

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/health", "GET").route(web::get().to(health)))
        .service(resource("/health/live", "GET").route(web::get().to(live)))
        .service(resource("/health/ready", "GET").route(web::get().to(ready)));
}

#[derive(Serialize, ToSchema)]
pub struct DatabaseComponent {
    pub status: &'static str,
    pub latency_ms: Option<f64>,
    #[schema(value_type = Object)]
    pub pool: PoolStats,
}

#[derive(Serialize, ToSchema)]
pub struct StatusOnly {
    pub status: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct RedisComponent {
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
}

#[derive(Serialize, ToSchema)]
pub struct CacheComponent {
    pub backend: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct LlmComponent {
    pub provider: String,
    pub status: &'static str,
}

/// The background job queue: `running`, `queued` and `failed_last_hour` count the whole
/// deployment; `workers` the worker loops of this process.
#[derive(Serialize, ToSchema)]
pub struct WorkersComponent {
    pub status: &'static str,
    pub workers: usize,
    pub running: u64,
    pub queued: u64,
    pub failed_last_hour: u64,
}

#[derive(Serialize, ToSchema)]
pub struct Components {
    pub database: DatabaseComponent,
    pub redis: RedisComponent,
    pub cache: CacheComponent,
    pub llm: LlmComponent,
    pub workers: WorkersComponent,
}

/// The health report. Never contains hostnames, URLs, dependency versions or error strings.
#[derive(Serialize, ToSchema)]
pub struct HealthReport {
    /// healthy, degraded or unhealthy.
    pub status: &'static str,
    pub version: &'static str,
    pub uptime_secs: u64,
    pub components: Components,
}

/// Overall status: the database is required; a Redis outage or a failing language model
/// only degrades (SPEC §5, §9).
fn overall(database_ok: bool, dependency_degraded: bool) -> &'static str {
    match (database_ok, dependency_degraded) {
        (false, _) => "unhealthy",
        (true, true) => "degraded",
        (true, false) => "healthy",
    }
}

/// Pings the database within the probe timeout, recording the latency.
async fn ping(state: &HealthState, metrics: Option<&Metrics>) -> Option<Duration> {
    let started = std::time::Instant::now();
    let result = tokio::time::timeout(PROBE_TIMEOUT, state.database.ping()).await;
    if let Some(m) = metrics {
        m.db_query
            .with_label_values(&["ping"])
            .observe(started.elapsed().as_secs_f64());
    }
    match result {
        Ok(Ok(latency)) => Some(latency),
        _ => None,
    }
}

/// Component health. 200 when healthy or degraded, 503 when unhealthy.
#[utoipa::path(get, path = "/api/v1/health", tag = "health",
    responses((status = 200, description = "Healthy or degraded", body = HealthReport),
              (status = 503, description = "Unhealthy", body = HealthReport)))]
pub async fn health(
    state: web::Data<HealthState>,
    metrics: Option<web::Data<Metrics>>,
) -> HttpResponse {
    // The probes run at once, so a lost database costs one probe timeout, not one per probe.
    let (latency, shared, workers) = tokio::join!(
        ping(&state, metrics.as_ref().map(|m| m.get_ref())),
        state.shared_state.check(),
        tokio::time::timeout(PROBE_TIMEOUT, state.workers.health()),
    );
    let (db_status, latency_ms) = match latency {
        Some(latency) => ("healthy", Some(latency.as_secs_f64() * 1000.0)),
        None => ("unhealthy", None),
    };
    let llm_status = (state.llm_status)();
    let workers = workers.unwrap_or_else(|_| state.workers.unreachable());
    let status = overall(
        db_status == "healthy",
        shared.status == "degraded" || llm_status != "healthy",
    );
    let report = HealthReport {
        status,
        version: env!("CARGO_PKG_VERSION"),
        uptime_secs: state.lifecycle.uptime_secs(),
        components: Components {
            database: DatabaseComponent {
                status: db_status,
                latency_ms,
                pool: state.database.pool_stats(),
            },
            redis: RedisComponent {
                status: shared.status,
                latency_ms: shared.latency_ms,
            },
            cache: CacheComponent {
                backend: shared.backend,
            },
            llm: LlmComponent {
                provider: state.llm_provider.clone(),
                status: llm_status,
            },
            workers: WorkersComponent {
                status: workers.status,
                workers: workers.workers,
                running: workers.running,
                queued: workers.queued,
                failed_last_hour: workers.failed_last_hour,
            },
        },
    };
    let code = if status == "unhealthy" {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    envelope::with_status(code, &report, None)
}

/// The process is up.
#[utoipa::path(get, path = "/api/v1/health/live", tag = "health", responses((status = 200, description = "Alive", body = StatusOnly)))]
pub async fn live() -> HttpResponse {
    envelope::ok(&StatusOnly { status: "alive" })
}

/// Ready for traffic: database reachable, migrations applied, not shutting down.
#[utoipa::path(get, path = "/api/v1/health/ready", tag = "health",
    responses((status = 200, description = "Ready", body = StatusOnly), (status = 503, description = "Not ready")))]
pub async fn ready(
    state: web::Data<HealthState>,
    metrics: Option<web::Data<Metrics>>,
) -> Result<HttpResponse, ApiError> {
    if state.lifecycle.is_shutting_down() {
        return Err(ApiError::unavailable("shutting down"));
    }
    if ping(&state, metrics.as_ref().map(|m| m.get_ref()))
        .await
        .is_none()
    {
        return Err(ApiError::unavailable("database unreachable"));
    }
    let migrated = tokio::time::timeout(PROBE_TIMEOUT, state.database.migrations_applied()).await;
    if !matches!(migrated, Ok(Ok(true))) {
        return Err(ApiError::unavailable("migrations not applied"));
    }
    Ok(envelope::ok(&StatusOnly { status: "ready" }))
}

#[cfg(test)]
mod tests {
    use super::overall;

    #[test]
    fn status_aggregation() {
        assert_eq!(overall(true, false), "healthy");
        assert_eq!(overall(true, true), "degraded");
        assert_eq!(overall(false, false), "unhealthy");
        assert_eq!(overall(false, true), "unhealthy");
    }
}
