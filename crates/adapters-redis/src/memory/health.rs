//! [`MemoryStateHealth`]: the health of the in-process shared state (no Redis configured).

use ainative_ports::{SharedStateHealth, SharedStateStatus};
use async_trait::async_trait;

/// Reports `{backend: "memory", status: "disabled", latency_ms: None}`: no Redis is
/// configured, so limits, revocations and the cache are per instance, by design.
#[derive(Debug, Clone, Copy, Default)]
pub struct MemoryStateHealth;

impl MemoryStateHealth {
    /// The status this probe always reports.
    pub const STATUS: SharedStateStatus = SharedStateStatus {
        backend: "memory",
        status: "disabled",
        latency_ms: None,
    };
}

#[async_trait]
impl SharedStateHealth for MemoryStateHealth {
    async fn check(&self) -> SharedStateStatus {
        Self::STATUS
    }
}
