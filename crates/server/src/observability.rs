//! Samples the figures kept by the adapters and the gateway into the Prometheus registry at
//! every scrape.

use std::sync::Arc;

use ainative_adapters_redis::RedisMonitor;
use ainative_ai_gateway::llm::{LlmClient, LlmObserver, OUTCOMES};
use ainative_ai_gateway::GatewayFactory;
use ainative_http_api::{Metrics, ScrapeHook};
use ainative_jobs::{JobObserver, Outcome};
use ainative_ports::{DatabaseHealth, JobStats};

/// The server's scrape hook.
pub struct ServerScrapeHook {
    /// Pool figures.
    pub database: Arc<dyn DatabaseHealth>,
    /// LLM client statistics.
    pub llm: Arc<LlmClient>,
    /// Gateway statistics.
    pub gateways: Arc<GatewayFactory>,
    /// Redis monitor, when Redis is configured.
    pub redis: Option<Arc<RedisMonitor>>,
}

impl ScrapeHook for ServerScrapeHook {
    fn sample(&self, m: &Metrics) {
        let pool = self.database.pool_stats();
        m.db_pool
            .with_label_values(&["idle"])
            .set(i64::from(pool.idle));
        m.db_pool
            .with_label_values(&["in_use"])
            .set(i64::from(pool.size.saturating_sub(pool.idle)));
        m.db_pool
            .with_label_values(&["max"])
            .set(i64::from(pool.max));

        let llm = self.llm.stats();
        Metrics::set_counter(
            &m.cache_requests.with_label_values(&["llm", "hit"]),
            llm.cache_hits,
        );
        Metrics::set_counter(
            &m.cache_requests.with_label_values(&["llm", "miss"]),
            llm.cache_misses,
        );
        Metrics::set_counter(
            &m.cache_requests.with_label_values(&["llm", "coalesced"]),
            llm.coalesced_waiters,
        );
        Metrics::set_counter(&m.llm_tokens.with_label_values(&["prompt"]), llm.tokens_in);
        Metrics::set_counter(
            &m.llm_tokens.with_label_values(&["completion"]),
            llm.tokens_out,
        );

        let gateway = self.gateways.metrics();
        Metrics::set_counter(&m.traces_created, gateway.traces_created);
        for risk in gateway.risks {
            let counter = m
                .risks_detected
                .with_label_values(&[risk.dimension.as_str(), risk.level.as_str()]);
            Metrics::set_counter(&counter, risk.count);
        }

        if let Some(monitor) = &self.redis {
            m.shared_state_degraded
                .set(i64::from(monitor.is_degraded()));
            Metrics::set_counter(&m.shared_state_fallbacks, monitor.fallback_operations());
        }
    }
}

/// Records job outcomes into `jobs_total`, `job_duration_seconds` and `jobs_queued`.
pub struct JobMetrics {
    metrics: Arc<Metrics>,
    /// Kinds with a `jobs_queued` series: set back to zero when none is queued.
    kinds: parking_lot::Mutex<std::collections::BTreeSet<String>>,
}

impl JobMetrics {
    /// Records into `metrics`.
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self {
            metrics,
            kinds: parking_lot::Mutex::default(),
        }
    }
}

impl JobObserver for JobMetrics {
    fn register(&self, kinds: &[String]) {
        let outcomes = Outcome::ALL.map(|o| o.as_str());
        self.metrics.register_jobs(kinds, &outcomes);
        self.kinds.lock().extend(kinds.iter().cloned());
    }

    fn finished(&self, kind: &str, outcome: Outcome, elapsed: std::time::Duration) {
        self.metrics
            .jobs
            .with_label_values(&[kind, outcome.as_str()])
            .inc();
        if !matches!(outcome, Outcome::LeaseLost | Outcome::Released) {
            self.metrics
                .job_duration
                .with_label_values(&[kind])
                .observe(elapsed.as_secs_f64());
        }
    }

    fn sampled(&self, stats: &JobStats) {
        let mut kinds = self.kinds.lock();
        kinds.extend(stats.queued.keys().cloned());
        // Kinds with nothing queued are absent from the stats: their gauge goes to zero.
        for kind in kinds.iter() {
            let queued = stats.queued.get(kind).copied().unwrap_or(0);
            self.metrics
                .jobs_queued
                .with_label_values(&[kind.as_str()])
                .set(i64::try_from(queued).unwrap_or(i64::MAX));
        }
    }
}

/// Records every provider call into `llm_requests_total` and `llm_request_duration_seconds`.
pub struct LlmMetrics(pub Arc<Metrics>);

impl LlmObserver for LlmMetrics {
    fn register(&self, provider: &str, model: &str) {
        self.0.register_llm(provider, model, &OUTCOMES);
    }

    fn observe(
        &self,
        provider: &str,
        model: &str,
        outcome: &'static str,
        elapsed: std::time::Duration,
    ) {
        self.0
            .llm_requests
            .with_label_values(&[provider, model, outcome])
            .inc();
        self.0.llm_duration.observe(elapsed.as_secs_f64());
    }
}
