//! Step 6, risk analysis: rules over the session so far (stored traces and risks, the recent
//! interactions) plus this turn.
//!
//! | rule | kind | level | evidence key |
//! |---|---|---|---|
//! | governance blocked a delegation | cognitive_delegation | high | `interaction:<id>` |
//! | governance blocked a prompt injection | policy_violation | high | `interaction:<id>` |
//! | a solution request that makes three or more in the session | cognitive_delegation | high | `delegation:count>=3` |
//! | mean AI involvement of the session's turns (at least three) above the activity's `ai_dependency` threshold | ai_dependency | medium | `ai_dependency:since=<id>` (the turn where the mean last went above) |
//! | more than 400 characters of code (field or fenced) within 10 s of the previous answer and no question mark | academic_integrity | high | `interaction:<id>` |
//! | more than ten interactions in a row at intervals under 5 s, each within max(1 s, 25 %) of their median | automation_suspected | medium | `automation:run_start=<id>` |
//! | with `require_justification`, a statement (not a question) of four words or more, or with code, that gives no justification (error reports, clarifications and off-topic turns excepted) | lack_justification | low | `interaction:<id>` |
//! | code submitted identical (normalised) to the AI's last snippet, with no error report or question since that answer nor in this turn | uncritical_acceptance | medium | `interaction:<id>` |
//!
//! The rules read the session's past only through its [`RunningState`] (one row, whatever
//! the session's length) and the recent interactions. A finding repeated within the turn is
//! dropped; the store skips one whose (session, kind, evidence key) is already stored, so the
//! same evidence never raises the same risk twice.

mod rules;
mod state;

use ainative_domain::{
    turn_row_id, ActivityPolicies, CognitiveTrace, Interaction, InteractionInput, Risk, RiskKind,
    RiskLevel, StudySession, TraceKind, TraceLevel,
};
use ainative_ports::TraceSelection;
use chrono::{DateTime, Utc};

use super::cognitive::Assessment;
use super::governance::Verdict;

pub use rules::{
    ACADEMIC_INTEGRITY_CHARS, ACADEMIC_INTEGRITY_SECS, AUTOMATION_MAX_INTERVAL_SECS,
    AUTOMATION_MIN_INTERACTIONS, DELEGATION_ATTEMPTS, DEPENDENCY_MIN_TURNS,
};
pub use state::{
    checked, digest, normalize_code, normalized_code, snippet_digest, Dependency, Rhythm,
    RunningState, TurnFacts,
};

/// Everything the rules look at.
#[derive(Debug, Clone, Copy)]
pub struct RiskContext<'a> {
    /// The session.
    pub session: &'a StudySession,
    /// The activity's policies.
    pub policies: &'a ActivityPolicies,
    /// This turn's interaction (`created_at` = answer time).
    pub interaction: &'a Interaction,
    /// This turn's redacted input.
    pub input: &'a InteractionInput,
    /// Governance's decision.
    pub verdict: &'a Verdict,
    /// The cognitive engine's decisions.
    pub assessment: &'a Assessment,
    /// This turn's traces.
    pub traces: &'a [CognitiveTrace],
    /// The session's running state before this turn.
    pub state: &'a RunningState,
    /// The running state with this turn ([`RunningState::advance`] of `state`).
    pub next: &'a RunningState,
    /// The session's last stored interactions, oldest first.
    pub history: &'a [Interaction],
    /// When this turn's request arrived.
    pub received_at: DateTime<Utc>,
}

/// The stored traces [`RunningState::replay`] reads: the cognitive (n4) trace of every turn
/// and the student's prompts (n3). Read only for a session without a current state.
pub const RISK_TRACES: TraceSelection = TraceSelection {
    levels: &[TraceLevel::N4],
    kinds: &[TraceKind::StudentPrompt],
};

/// A risk a rule found, before it becomes a [`Risk`].
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// Kind.
    pub kind: RiskKind,
    /// Severity.
    pub level: RiskLevel,
    /// Explanation.
    pub description: String,
    /// Stable key of the evidence.
    pub evidence_key: String,
    /// Structured evidence.
    pub evidence: serde_json::Value,
}

/// Step 6 of the pipeline.
pub trait RiskAnalyzer: Send + Sync {
    /// The new risks of this turn.
    fn analyze(&self, ctx: &RiskContext<'_>) -> Vec<Risk>;
}

/// The rules documented in this module.
#[derive(Debug, Clone, Copy, Default)]
pub struct RuleRiskAnalyzer;

impl RiskAnalyzer for RuleRiskAnalyzer {
    fn analyze(&self, ctx: &RiskContext<'_>) -> Vec<Risk> {
        let findings = [
            rules::governance_flag(ctx),
            rules::repeated_delegation(ctx),
            rules::ai_dependency(ctx),
            rules::large_paste(ctx),
            rules::automation(ctx),
            rules::lack_justification(ctx),
            rules::uncritical_acceptance(ctx),
        ];
        let mut seen: Vec<(RiskKind, String)> = Vec::new();
        let mut risks = Vec::new();
        for finding in findings.into_iter().flatten() {
            let key = (finding.kind, finding.evidence_key.clone());
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            risks.push(to_risk(ctx, finding));
        }
        risks
    }
}

fn to_risk(ctx: &RiskContext<'_>, f: Finding) -> Risk {
    Risk {
        id: turn_row_id(),
        session_id: ctx.session.id,
        student_id: ctx.session.student_id,
        interaction_id: Some(ctx.interaction.id),
        dimension: f.kind.dimension(),
        kind: f.kind,
        level: f.level,
        description: f.description,
        evidence_key: f.evidence_key,
        evidence: f.evidence,
        resolved_at: None,
        resolved_by: None,
        resolution_note: None,
        created_at: ctx.interaction.created_at,
    }
}

#[cfg(test)]
mod tests;
