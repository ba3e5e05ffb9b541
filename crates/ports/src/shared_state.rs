//! Health of the shared-state backend (Redis or in-process).

use async_trait::async_trait;

/// What `/health` reports for the shared-state backend.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct SharedStateStatus {
    /// `redis` or `memory`: where rate limits, revocations and the cache live right now.
    pub backend: &'static str,
    /// `healthy`, `degraded` (Redis configured but unreachable; in-process fallback in use)
    /// or `disabled` (no Redis configured).
    pub status: &'static str,
    /// Round trip of the last probe, when Redis answered.
    pub latency_ms: Option<f64>,
}

/// Probe of the shared-state backend.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait SharedStateHealth: Send + Sync {
    /// Probes (at most one short round trip) and reports.
    async fn check(&self) -> SharedStateStatus;
}
