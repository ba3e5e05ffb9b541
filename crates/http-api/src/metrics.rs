//! Prometheus metrics (SPEC §7), served on the internal `METRICS_ADDR` listener only.
//!
//! Request series are recorded by the request-context middleware; figures owned by other
//! layers (pool, LLM, gateway, shared state) are sampled at scrape time through a
//! [`ScrapeHook`], so no layer below depends on Prometheus.
//!
//! Every series exists from the start, at zero, for each of its known label values (the
//! documented operations and their statuses, every error code and failure reason, every risk
//! dimension and level…), so rates and alerts never see a missing series.

use std::sync::Arc;

use ainative_auth::AuthFailure;
use ainative_domain::{RiskDimension, RiskLevel};
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

/// Samples figures kept elsewhere into the registry, just before it is encoded.
pub trait ScrapeHook: Send + Sync {
    /// Updates `metrics` from the current state.
    fn sample(&self, metrics: &Metrics);
}

/// Every series the service exports.
pub struct Metrics {
    registry: Registry,
    hooks: parking_lot::RwLock<Vec<Arc<dyn ScrapeHook>>>,
    /// `http_requests_total{method,route,status}`.
    pub http_requests: IntCounterVec,
    /// `http_request_duration_seconds{method,route}`.
    pub http_duration: HistogramVec,
    /// `http_requests_in_flight`.
    pub in_flight: IntGauge,
    /// `http_errors_total{code}`.
    pub http_errors: IntCounterVec,
    /// `http_request_overhead_seconds`: time spent outside the handler.
    pub overhead: Histogram,
    /// `db_pool_connections{state}`.
    pub db_pool: IntGaugeVec,
    /// `db_query_duration_seconds{op}`.
    pub db_query: HistogramVec,
    /// `cache_requests_total{cache,result}`.
    pub cache_requests: IntCounterVec,
    /// `rate_limit_rejections_total{scope}`.
    pub rate_limit_rejections: IntCounterVec,
    /// `auth_failures_total{reason}`.
    pub auth_failures: IntCounterVec,
    /// `llm_requests_total{provider,model,outcome,credential}` (`credential`: `platform` or
    /// `own`, never an id).
    pub llm_requests: IntCounterVec,
    /// `llm_request_duration_seconds`.
    pub llm_duration: Histogram,
    /// `llm_tokens_total{kind}`.
    pub llm_tokens: IntCounterVec,
    /// `cognitive_traces_created_total`.
    pub traces_created: IntCounter,
    /// `gateway_overhead_seconds`: a stored turn's time in the AI gateway minus the time
    /// spent waiting for the language model.
    pub gateway_overhead: Histogram,
    /// `risks_detected_total{dimension,level}`.
    pub risks_detected: IntCounterVec,
    /// `shared_state_degraded`: 1 while Redis is configured but unreachable.
    pub shared_state_degraded: IntGauge,
    /// `shared_state_fallbacks_total`: operations answered in-process because of Redis.
    pub shared_state_fallbacks: IntCounter,
    /// `jobs_total{kind,outcome}`: job attempts of this process by how they ended.
    pub jobs: IntCounterVec,
    /// `job_duration_seconds{kind}`: how long attempts ran.
    pub job_duration: HistogramVec,
    /// `jobs_queued{kind}`: jobs waiting in the whole deployment, sampled.
    pub jobs_queued: IntGaugeVec,
}

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
const OVERHEAD_BUCKETS: &[f64] = &[
    0.000_005, 0.00001, 0.000_025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.005,
];
const GATEWAY_OVERHEAD_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];
const LLM_BUCKETS: &[f64] = &[0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
const JOB_BUCKETS: &[f64] = &[
    0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
];

/// `rate_limit_rejections_total{scope}`: per IP, per user, failed-login throttling, social
/// sign-in steps per IP.
pub const RATE_LIMIT_SCOPES: [&str; 4] = ["ip", "user", "login", "oauth"];
/// `cache_requests_total{cache="llm",result}`: answered from the cache, called the provider,
/// shared an identical call in flight.
pub const CACHE_RESULTS: [&str; 3] = ["hit", "miss", "coalesced"];
/// `llm_tokens_total{kind}`.
pub const TOKEN_KINDS: [&str; 2] = ["prompt", "completion"];
/// `db_pool_connections{state}`.
pub const POOL_STATES: [&str; 3] = ["idle", "in_use", "max"];

fn counter_vec(
    registry: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> Result<IntCounterVec, prometheus::Error> {
    let metric = IntCounterVec::new(Opts::new(name, help), labels)?;
    registry.register(Box::new(metric.clone()))?;
    Ok(metric)
}

fn histogram_vec(
    registry: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
    buckets: &[f64],
) -> Result<HistogramVec, prometheus::Error> {
    let metric = HistogramVec::new(
        HistogramOpts::new(name, help).buckets(buckets.to_vec()),
        labels,
    )?;
    registry.register(Box::new(metric.clone()))?;
    Ok(metric)
}

fn histogram(
    registry: &Registry,
    name: &str,
    help: &str,
    buckets: &[f64],
) -> Result<Histogram, prometheus::Error> {
    let metric = Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets.to_vec()))?;
    registry.register(Box::new(metric.clone()))?;
    Ok(metric)
}

fn gauge(registry: &Registry, name: &str, help: &str) -> Result<IntGauge, prometheus::Error> {
    let metric = IntGauge::new(name, help)?;
    registry.register(Box::new(metric.clone()))?;
    Ok(metric)
}

fn counter(registry: &Registry, name: &str, help: &str) -> Result<IntCounter, prometheus::Error> {
    let metric = IntCounter::new(name, help)?;
    registry.register(Box::new(metric.clone()))?;
    Ok(metric)
}

impl Metrics {
    /// A fresh registry with every series (and the process collector on Linux).
    pub fn new() -> Result<Self, prometheus::Error> {
        let r = Registry::new();
        #[cfg(target_os = "linux")]
        r.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))?;
        let db_pool = IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database pool connections by state"),
            &["state"],
        )?;
        r.register(Box::new(db_pool.clone()))?;
        let jobs_queued = IntGaugeVec::new(
            Opts::new("jobs_queued", "Background jobs waiting, by kind"),
            &["kind"],
        )?;
        r.register(Box::new(jobs_queued.clone()))?;
        Ok(Self {
            http_requests: counter_vec(
                &r,
                "http_requests_total",
                "HTTP requests",
                &["method", "route", "status"],
            )?,
            http_duration: histogram_vec(
                &r,
                "http_request_duration_seconds",
                "HTTP request latency",
                &["method", "route"],
                LATENCY_BUCKETS,
            )?,
            in_flight: gauge(&r, "http_requests_in_flight", "HTTP requests being served")?,
            http_errors: counter_vec(
                &r,
                "http_errors_total",
                "Error responses by code",
                &["code"],
            )?,
            overhead: histogram(
                &r,
                "http_request_overhead_seconds",
                "Time spent in middleware outside the handler",
                OVERHEAD_BUCKETS,
            )?,
            db_pool,
            db_query: histogram_vec(
                &r,
                "db_query_duration_seconds",
                "Database probe latency",
                &["op"],
                LATENCY_BUCKETS,
            )?,
            cache_requests: counter_vec(
                &r,
                "cache_requests_total",
                "Cache lookups",
                &["cache", "result"],
            )?,
            rate_limit_rejections: counter_vec(
                &r,
                "rate_limit_rejections_total",
                "Requests refused by a limit",
                &["scope"],
            )?,
            auth_failures: counter_vec(
                &r,
                "auth_failures_total",
                "Failed authentications",
                &["reason"],
            )?,
            llm_requests: counter_vec(
                &r,
                "llm_requests_total",
                "Language-model calls",
                &["provider", "model", "outcome", "credential"],
            )?,
            llm_duration: histogram(
                &r,
                "llm_request_duration_seconds",
                "Language-model call latency",
                LLM_BUCKETS,
            )?,
            llm_tokens: counter_vec(&r, "llm_tokens_total", "Language-model tokens", &["kind"])?,
            traces_created: counter(
                &r,
                "cognitive_traces_created_total",
                "Cognitive traces stored",
            )?,
            gateway_overhead: histogram(
                &r,
                "gateway_overhead_seconds",
                "AI gateway time of a stored turn minus the time waiting for the language model",
                GATEWAY_OVERHEAD_BUCKETS,
            )?,
            risks_detected: counter_vec(
                &r,
                "risks_detected_total",
                "Risks raised",
                &["dimension", "level"],
            )?,
            shared_state_degraded: gauge(
                &r,
                "shared_state_degraded",
                "1 while Redis is configured but unreachable",
            )?,
            shared_state_fallbacks: counter(
                &r,
                "shared_state_fallbacks_total",
                "Operations answered in-process because Redis failed",
            )?,
            jobs: counter_vec(
                &r,
                "jobs_total",
                "Background job attempts by outcome",
                &["kind", "outcome"],
            )?,
            job_duration: histogram_vec(
                &r,
                "job_duration_seconds",
                "Background job attempt duration",
                &["kind"],
                JOB_BUCKETS,
            )?,
            jobs_queued,
            hooks: parking_lot::RwLock::new(Vec::new()),
            registry: r,
        }
        .with_known_series())
    }

    /// Creates every series whose label values are known at start, at zero.
    fn with_known_series(self) -> Self {
        for (method, route, statuses) in crate::openapi::operations() {
            self.http_duration.with_label_values(&[method, &route]);
            for status in statuses {
                self.http_requests
                    .with_label_values(&[method, &route, &status]);
            }
        }
        for code in crate::error::ApiError::CODES {
            self.http_errors.with_label_values(&[code]);
        }
        for reason in AuthFailure::ALL {
            self.auth_failures.with_label_values(&[reason.as_str()]);
        }
        for scope in RATE_LIMIT_SCOPES {
            self.rate_limit_rejections.with_label_values(&[scope]);
        }
        for result in CACHE_RESULTS {
            self.cache_requests.with_label_values(&["llm", result]);
        }
        for kind in TOKEN_KINDS {
            self.llm_tokens.with_label_values(&[kind]);
        }
        for dimension in RiskDimension::ALL {
            for level in RiskLevel::ALL {
                self.risks_detected
                    .with_label_values(&[dimension.as_str(), level.as_str()]);
            }
        }
        for state in POOL_STATES {
            self.db_pool.with_label_values(&[state]);
        }
        self.db_query.with_label_values(&["ping"]);
        self
    }

    /// Creates the `llm_requests_total` series of a provider, model and credential kind,
    /// one per outcome.
    pub fn register_llm(&self, provider: &str, model: &str, credential: &str, outcomes: &[&str]) {
        for outcome in outcomes {
            self.llm_requests
                .with_label_values(&[provider, model, outcome, credential]);
        }
    }

    /// Creates the job series of `kinds` at zero: one `jobs_total` per outcome, the duration
    /// and the queued gauge.
    pub fn register_jobs(&self, kinds: &[String], outcomes: &[&str]) {
        for kind in kinds {
            for outcome in outcomes {
                self.jobs.with_label_values(&[kind.as_str(), outcome]);
            }
            self.job_duration.with_label_values(&[kind.as_str()]);
            self.jobs_queued.with_label_values(&[kind.as_str()]);
        }
    }

    /// Adds a source sampled at every scrape.
    pub fn add_hook(&self, hook: Arc<dyn ScrapeHook>) {
        self.hooks.write().push(hook);
    }

    /// Samples the hooks and encodes every series in the Prometheus text format.
    pub fn render(&self) -> String {
        for hook in self.hooks.read().iter() {
            hook.sample(self);
        }
        let mut buffer = Vec::new();
        if let Err(err) = TextEncoder::new().encode(&self.registry.gather(), &mut buffer) {
            tracing::error!(error = %err, "metrics encoding failed");
        }
        String::from_utf8(buffer).unwrap_or_default()
    }

    /// Sets a monotonic counter to a value sampled from elsewhere.
    pub fn set_counter(counter: &IntCounter, value: u64) {
        let current = counter.get();
        if value >= current {
            counter.inc_by(value - current);
        } else {
            counter.reset();
            counter.inc_by(value);
        }
    }
}

/// The `/metrics` application, for the internal listener.
pub fn metrics_app(
    metrics: Arc<Metrics>,
) -> actix_web::App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    actix_web::App::new()
        .app_data(actix_web::web::Data::from(metrics))
        .route(
            "/metrics",
            actix_web::web::get().to(|m: actix_web::web::Data<Metrics>| async move {
                actix_web::HttpResponse::Ok()
                    .content_type("text/plain; version=0.0.4")
                    .body(m.render())
            }),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spec_series_is_exported() {
        let m = Metrics::new().unwrap();
        m.http_requests
            .with_label_values(&["GET", "/x", "200"])
            .inc();
        m.http_duration
            .with_label_values(&["GET", "/x"])
            .observe(0.01);
        m.http_errors.with_label_values(&["NOT_FOUND"]).inc();
        m.db_pool.with_label_values(&["idle"]).set(1);
        m.db_query.with_label_values(&["ping"]).observe(0.001);
        m.cache_requests.with_label_values(&["llm", "hit"]).inc();
        m.rate_limit_rejections.with_label_values(&["ip"]).inc();
        m.auth_failures.with_label_values(&["expired"]).inc();
        m.llm_requests
            .with_label_values(&["offline", "m", "success", "platform"])
            .inc();
        m.llm_tokens.with_label_values(&["prompt"]).inc();
        m.risks_detected
            .with_label_values(&["cognitive", "high"])
            .inc();
        let text = m.render();
        for name in [
            "http_requests_total",
            "http_request_duration_seconds_bucket",
            "http_requests_in_flight",
            "http_errors_total",
            "http_request_overhead_seconds_bucket",
            "db_pool_connections",
            "db_query_duration_seconds_bucket",
            "cache_requests_total",
            "rate_limit_rejections_total",
            "auth_failures_total",
            "llm_requests_total",
            "llm_request_duration_seconds_bucket",
            "llm_tokens_total",
            "cognitive_traces_created_total",
            "risks_detected_total",
            "shared_state_degraded",
            "shared_state_fallbacks_total",
        ] {
            assert!(text.contains(name), "{name} missing");
        }
    }

    #[test]
    fn known_series_exist_at_zero_before_any_event() {
        let m = Metrics::new().unwrap();
        m.register_llm("openai", "m-1", "platform", &["success", "timeout"]);
        let text = m.render();
        for series in [
            r#"http_requests_total{method="GET",route="/api/v1/auth/me",status="200"} 0"#,
            r#"http_requests_total{method="POST",route="/api/v1/sessions/{id}/interactions",status="201"} 0"#,
            r#"http_request_duration_seconds_count{method="POST",route="/api/v1/risks/{id}/resolve"} 0"#,
            r#"http_errors_total{code="INTERNAL"} 0"#,
            r#"auth_failures_total{reason="replayed"} 0"#,
            r#"auth_failures_total{reason="missing_token"} 0"#,
            r#"rate_limit_rejections_total{scope="login"} 0"#,
            r#"cache_requests_total{cache="llm",result="coalesced"} 0"#,
            r#"llm_tokens_total{kind="completion"} 0"#,
            r#"risks_detected_total{dimension="governance",level="critical"} 0"#,
            r#"db_pool_connections{state="in_use"} 0"#,
            r#"db_query_duration_seconds_count{op="ping"} 0"#,
            r#"llm_requests_total{credential="platform",model="m-1",outcome="timeout",provider="openai"} 0"#,
        ] {
            assert!(text.contains(series), "{series} missing");
        }
    }

    #[test]
    fn sampled_counters_follow_their_source() {
        let m = Metrics::new().unwrap();
        Metrics::set_counter(&m.traces_created, 5);
        Metrics::set_counter(&m.traces_created, 7);
        assert_eq!(m.traces_created.get(), 7);
    }
}
