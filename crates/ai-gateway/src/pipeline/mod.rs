//! The interaction pipeline of the AI gateway (SPEC §6): each step is a component behind a
//! trait, with a rule-based default, so tests (and future versions) can replace it.
//!
//! 1. [`ingestion`] — normalise, enforce limits, classify the intent;
//! 2. [`governance`] — redact personal data, detect prompt injection, apply the policies;
//! 3. [`cognitive`] — infer the cognitive state, choose the agent and the help level;
//! 4. [`messages`] — build the request for the language model;
//! 5. [`traceability`] — the n1–n4 traces of the interaction (with [`involvement`]);
//! 6. [`risk`] — risk rules over the session so far.
//!
//! The [`crate::gateway`] runs them and persists the result in one transaction.

pub mod cognitive;
pub mod governance;
pub mod ingestion;
pub mod involvement;
pub mod messages;
mod prompts;
pub mod risk;
pub mod text;
pub mod traceability;

#[cfg(test)]
pub(crate) mod testing;

use std::sync::Arc;

pub use cognitive::{Assessment, CognitiveEngine, RuleCognitiveEngine, Strategy};
pub use governance::{BlockReason, Governance, Governed, Redactions, RuleGovernance, Verdict};
pub use ingestion::{Ingested, Ingestion, RuleIngestion};
pub use messages::{DefaultMessageBuilder, MessageBuilder, MessageContext};
pub use risk::{RiskAnalyzer, RiskContext, RuleRiskAnalyzer};
pub use traceability::{DefaultTraceBuilder, TraceBuilder, TurnRecord};

/// The components of the pipeline, shared by every gateway of a process.
#[derive(Clone)]
pub struct Pipeline {
    /// Step 1.
    pub ingestion: Arc<dyn Ingestion>,
    /// Step 2.
    pub governance: Arc<dyn Governance>,
    /// Step 3.
    pub cognitive: Arc<dyn CognitiveEngine>,
    /// Step 4.
    pub messages: Arc<dyn MessageBuilder>,
    /// Step 5.
    pub traces: Arc<dyn TraceBuilder>,
    /// Step 6.
    pub risks: Arc<dyn RiskAnalyzer>,
}

impl Default for Pipeline {
    fn default() -> Self {
        Self {
            ingestion: Arc::new(RuleIngestion),
            governance: Arc::new(RuleGovernance),
            cognitive: Arc::new(RuleCognitiveEngine),
            messages: Arc::new(DefaultMessageBuilder::default()),
            traces: Arc::new(DefaultTraceBuilder),
            risks: Arc::new(RuleRiskAnalyzer),
        }
    }
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline").finish_non_exhaustive()
    }
}
