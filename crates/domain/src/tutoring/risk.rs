use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::wire_enum;

/// The dimension a risk belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RiskDimension {
    /// Thinking delegated to the AI.
    Cognitive,
    /// Integrity.
    Ethical,
    /// Uncritical acceptance of knowledge.
    Epistemic,
    /// Technical misuse.
    Technical,
    /// Policy violations.
    Governance,
}
wire_enum!(RiskDimension {
    Cognitive => "cognitive",
    Ethical => "ethical",
    Epistemic => "epistemic",
    Technical => "technical",
    Governance => "governance",
});

/// The kind of a risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RiskKind {
    /// Repeated requests for complete solutions.
    CognitiveDelegation,
    /// Average AI involvement above the activity's threshold.
    AiDependency,
    /// Large code pasted right after an answer without a question.
    AcademicIntegrity,
    /// Answers accepted without questioning.
    UncriticalAcceptance,
    /// Machine-like interaction rhythm.
    AutomationSuspected,
    /// A governance rule was broken (e.g. prompt injection).
    PolicyViolation,
    /// Statements without justification where the policy requires it.
    LackJustification,
}
wire_enum!(RiskKind {
    CognitiveDelegation => "cognitive_delegation",
    AiDependency => "ai_dependency",
    AcademicIntegrity => "academic_integrity",
    UncriticalAcceptance => "uncritical_acceptance",
    AutomationSuspected => "automation_suspected",
    PolicyViolation => "policy_violation",
    LackJustification => "lack_justification",
});

impl RiskKind {
    /// The dimension this kind belongs to.
    pub fn dimension(&self) -> RiskDimension {
        match self {
            Self::CognitiveDelegation | Self::AiDependency => RiskDimension::Cognitive,
            Self::AcademicIntegrity => RiskDimension::Ethical,
            Self::UncriticalAcceptance | Self::LackJustification => RiskDimension::Epistemic,
            Self::AutomationSuspected => RiskDimension::Technical,
            Self::PolicyViolation => RiskDimension::Governance,
        }
    }
}

/// Severity of a risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RiskLevel {
    /// Informational.
    Info,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}
wire_enum!(RiskLevel { Info => "info", Low => "low", Medium => "medium", High => "high", Critical => "critical" });

/// A risk detected in a session.
#[derive(Debug, Clone, PartialEq)]
pub struct Risk {
    /// Identifier.
    pub id: Uuid,
    /// Session.
    pub session_id: Uuid,
    /// The student.
    pub student_id: Uuid,
    /// The interaction that raised it, if any.
    pub interaction_id: Option<Uuid>,
    /// Dimension.
    pub dimension: RiskDimension,
    /// Kind.
    pub kind: RiskKind,
    /// Severity.
    pub level: RiskLevel,
    /// Human-readable explanation.
    pub description: String,
    /// What triggered it; with the session and kind, identifies it so the same evidence never
    /// raises the same risk twice.
    pub evidence_key: String,
    /// Structured evidence.
    pub evidence: serde_json::Value,
    /// When resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Who resolved it.
    pub resolved_by: Option<Uuid>,
    /// Resolution note.
    pub resolution_note: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}
