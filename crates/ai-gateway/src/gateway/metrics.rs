//! Counters of the gateway, read by the metrics endpoint as snapshots.

use std::sync::atomic::{AtomicU64, Ordering};

use ainative_domain::{RiskDimension, RiskLevel};
use ainative_ports::InteractionRecord;

const DIMENSIONS: usize = 5;
const LEVELS: usize = 5;

/// Process-wide counters of the gateway (owned by the factory, shared by its gateways).
#[derive(Debug, Default)]
pub struct GatewayMetrics {
    interactions: AtomicU64,
    blocked: AtomicU64,
    traces_created: AtomicU64,
    risks: [[AtomicU64; LEVELS]; DIMENSIONS],
}

/// Risks detected for one (dimension, level).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RiskCount {
    /// Dimension.
    pub dimension: RiskDimension,
    /// Level.
    pub level: RiskLevel,
    /// Risks stored since start.
    pub count: u64,
}

/// The counters at one instant.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GatewayMetricsSnapshot {
    /// Interactions stored.
    pub interactions: u64,
    /// Of which blocked by governance.
    pub blocked: u64,
    /// Cognitive traces stored (`cognitive_traces_created_total`).
    pub traces_created: u64,
    /// Risks stored by dimension and level, every combination (`risks_detected_total`).
    pub risks: Vec<RiskCount>,
}

fn dimension_index(d: RiskDimension) -> usize {
    match d {
        RiskDimension::Cognitive => 0,
        RiskDimension::Ethical => 1,
        RiskDimension::Epistemic => 2,
        RiskDimension::Technical => 3,
        RiskDimension::Governance => 4,
    }
}

fn level_index(l: RiskLevel) -> usize {
    match l {
        RiskLevel::Info => 0,
        RiskLevel::Low => 1,
        RiskLevel::Medium => 2,
        RiskLevel::High => 3,
        RiskLevel::Critical => 4,
    }
}

impl GatewayMetrics {
    /// Counts what a stored record holds.
    pub fn observe(&self, record: &InteractionRecord) {
        self.interactions.fetch_add(1, Ordering::Relaxed);
        if record.interaction.blocked {
            self.blocked.fetch_add(1, Ordering::Relaxed);
        }
        let traces = u64::try_from(record.traces.len()).unwrap_or(u64::MAX);
        self.traces_created.fetch_add(traces, Ordering::Relaxed);
        for risk in &record.risks {
            self.risks[dimension_index(risk.dimension)][level_index(risk.level)]
                .fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The counters now.
    pub fn snapshot(&self) -> GatewayMetricsSnapshot {
        let mut risks = Vec::with_capacity(DIMENSIONS * LEVELS);
        for dimension in RiskDimension::ALL {
            for level in RiskLevel::ALL {
                risks.push(RiskCount {
                    dimension: *dimension,
                    level: *level,
                    count: self.risks[dimension_index(*dimension)][level_index(*level)]
                        .load(Ordering::Relaxed),
                });
            }
        }
        GatewayMetricsSnapshot {
            interactions: self.interactions.load(Ordering::Relaxed),
            blocked: self.blocked.load(Ordering::Relaxed),
            traces_created: self.traces_created.load(Ordering::Relaxed),
            risks,
        }
    }
}

/// Receives the gateway's own time per stored, non-streamed turn: from the gateway's start to
/// the stored record, minus the time spent waiting for the language model (cache and
/// coalescing included). What the gateway itself costs, whatever the provider's speed.
pub trait TurnObserver: Send + Sync {
    /// One turn's overhead.
    fn overhead(&self, elapsed: std::time::Duration);
}
