use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{wire_enum, Agent, CognitiveState};

/// The level of a cognitive trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TraceLevel {
    /// Deliverable: submitted code.
    N1,
    /// Technical: errors and test output.
    N2,
    /// Interactional: the prompt and the response.
    N3,
    /// Cognitive: inferred state, intent, strategy, justification.
    N4,
}
wire_enum!(TraceLevel { N1 => "n1", N2 => "n2", N3 => "n3", N4 => "n4" });

/// What a trace records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TraceKind {
    /// The student's prompt.
    StudentPrompt,
    /// The AI's answer.
    AiResponse,
    /// Submitted code.
    CodeSubmission,
    /// Reported error output.
    ErrorReport,
    /// The tutor intervened (e.g. blocked a delegation).
    TutorIntervention,
    /// The student changed strategy.
    StrategyChange,
    /// The student corrected themselves.
    SelfCorrection,
}
wire_enum!(TraceKind {
    StudentPrompt => "student_prompt",
    AiResponse => "ai_response",
    CodeSubmission => "code_submission",
    ErrorReport => "error_report",
    TutorIntervention => "tutor_intervention",
    StrategyChange => "strategy_change",
    SelfCorrection => "self_correction",
});

/// A cognitive trace of one step of a session.
#[derive(Debug, Clone, PartialEq)]
pub struct CognitiveTrace {
    /// Identifier.
    pub id: Uuid,
    /// Session.
    pub session_id: Uuid,
    /// Interaction it belongs to.
    pub interaction_id: Uuid,
    /// Level n1–n4.
    pub level: TraceLevel,
    /// Kind.
    pub kind: TraceKind,
    /// Inferred state.
    pub cognitive_state: CognitiveState,
    /// How much of the step the AI did, 0.0–1.0.
    pub ai_involvement: f64,
    /// Agent involved.
    pub agent: Agent,
    /// One-line summary.
    pub summary: String,
    /// Structured detail.
    pub data: serde_json::Value,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}
