//! The risk rules (see the table in the parent module).

use ainative_domain::{Intent, RiskKind, RiskLevel};
use serde_json::json;

use super::state::{checked, digest, normalize_code, normalized_code};
use super::{Finding, RiskContext};
use crate::pipeline::governance::BlockReason;
use crate::pipeline::text::fenced_code_chars;

/// Solution requests in a session that raise `cognitive_delegation`.
pub const DELEGATION_ATTEMPTS: usize = 3;
/// Turns needed before AI dependency is judged.
pub const DEPENDENCY_MIN_TURNS: usize = 3;
/// Characters of code that make a "large paste".
pub const ACADEMIC_INTEGRITY_CHARS: usize = 400;
/// Seconds after the previous answer within which a large paste is suspicious.
pub const ACADEMIC_INTEGRITY_SECS: i64 = 10;
/// Interactions in a row ("more than ten") that make an automated rhythm.
pub const AUTOMATION_MIN_INTERACTIONS: usize = 11;
/// Intervals of an automated rhythm are below this many seconds.
pub const AUTOMATION_MAX_INTERVAL_SECS: f64 = 5.0;

fn finding(
    kind: RiskKind,
    level: RiskLevel,
    description: impl Into<String>,
    evidence_key: String,
    evidence: serde_json::Value,
) -> Option<Finding> {
    Some(Finding {
        kind,
        level,
        description: description.into(),
        evidence_key,
        evidence,
    })
}

fn interaction_key(ctx: &RiskContext<'_>) -> String {
    format!("interaction:{}", ctx.interaction.id)
}

/// Governance blocked this turn: delegation or prompt injection.
pub fn governance_flag(ctx: &RiskContext<'_>) -> Option<Finding> {
    match ctx.verdict.reason()? {
        BlockReason::Delegation => finding(
            RiskKind::CognitiveDelegation,
            RiskLevel::High,
            "The student asked for the complete solution; blocked by the activity's policy.",
            interaction_key(ctx),
            json!({ "reason": "delegation", "intent": ctx.interaction.intent }),
        ),
        BlockReason::PromptInjection { phrase } => finding(
            RiskKind::PolicyViolation,
            RiskLevel::High,
            "Prompt-injection attempt blocked by governance.",
            interaction_key(ctx),
            json!({ "reason": "prompt_injection", "phrase": phrase }),
        ),
    }
}

/// Three or more solution requests in the session (this turn being one).
pub fn repeated_delegation(ctx: &RiskContext<'_>) -> Option<Finding> {
    if ctx.interaction.intent != Intent::SolutionRequest {
        return None;
    }
    let count = ctx.next.solution_requests as usize;
    if count < DELEGATION_ATTEMPTS {
        return None;
    }
    finding(
        RiskKind::CognitiveDelegation,
        RiskLevel::High,
        format!("{count} requests for the complete solution in this session."),
        format!("delegation:count>={DELEGATION_ATTEMPTS}"),
        json!({ "attempts": count }),
    )
}

/// Mean AI involvement of the session's turns above the activity's threshold.
pub fn ai_dependency(ctx: &RiskContext<'_>) -> Option<Finding> {
    let threshold = ctx.policies.ai_dependency_threshold();
    let dependency = &ctx.next.dependency;
    let since = dependency.since?;
    let mean = dependency.mean();
    finding(
        RiskKind::AiDependency,
        RiskLevel::Medium,
        format!(
            "Average AI involvement {mean:.2} is above the activity's threshold {threshold:.2}."
        ),
        format!("ai_dependency:since={since}"),
        json!({ "mean_ai_involvement": mean, "threshold": threshold, "turns": dependency.turns }),
    )
}

/// A large code paste right after the previous answer, with no question.
pub fn large_paste(ctx: &RiskContext<'_>) -> Option<Finding> {
    let pasted = ctx.input.code.as_deref().map_or(0, |c| c.chars().count())
        + fenced_code_chars(&ctx.input.prompt);
    if pasted <= ACADEMIC_INTEGRITY_CHARS {
        return None;
    }
    let previous = ctx
        .history
        .iter()
        .filter(|i| i.id != ctx.interaction.id)
        .max_by_key(|i| i.created_at)?;
    let gap_ms = (ctx.received_at - previous.created_at).num_milliseconds();
    if !(0..=ACADEMIC_INTEGRITY_SECS * 1000).contains(&gap_ms) {
        return None;
    }
    if ctx.input.prompt.contains('?') || ctx.input.prompt.contains('¿') {
        return None;
    }
    let seconds = gap_ms as f64 / 1000.0;
    finding(
        RiskKind::AcademicIntegrity,
        RiskLevel::High,
        format!(
            "{pasted} characters of code pasted {seconds:.1} s after the previous answer, \
             without a question."
        ),
        interaction_key(ctx),
        json!({ "code_chars": pasted, "seconds_after_response": seconds }),
    )
}

/// More than ten interactions in a row at near-constant intervals under five seconds.
pub fn automation(ctx: &RiskContext<'_>) -> Option<Finding> {
    let rhythm = &ctx.next.rhythm;
    let start = rhythm.run_start?;
    let median = rhythm.median_if_automated()?;
    let interactions = rhythm.run_len;
    finding(
        RiskKind::AutomationSuspected,
        RiskLevel::Medium,
        format!(
            "{interactions} interactions in a row about every {median:.1} s: the rhythm looks \
             automated."
        ),
        format!("automation:run_start={start}"),
        json!({ "interactions": interactions, "median_interval_secs": median }),
    )
}

/// Code submitted identical (normalised) to the AI's last snippet, with nothing tested or
/// questioned since that answer.
pub fn uncritical_acceptance(ctx: &RiskContext<'_>) -> Option<Finding> {
    let snippet = ctx.state.snippet.as_deref()?;
    if ctx.verdict.is_blocked() || checked(ctx.interaction.intent, &ctx.input.prompt) {
        return None;
    }
    let submitted = ctx
        .input
        .code
        .as_deref()
        .and_then(normalize_code)
        .or_else(|| normalized_code(&ctx.input.prompt))?;
    if digest(&submitted) != snippet {
        return None;
    }
    finding(
        RiskKind::UncriticalAcceptance,
        RiskLevel::Medium,
        "Code submitted exactly as the AI gave it, without testing or questioning it.",
        interaction_key(ctx),
        json!({ "code_lines": submitted.lines().count() }),
    )
}

/// A statement without justification when the activity requires one.
pub fn lack_justification(ctx: &RiskContext<'_>) -> Option<Finding> {
    let prompt = &ctx.input.prompt;
    let substantial = ctx.input.code.is_some() || prompt.split_whitespace().count() >= 4;
    let reports_or_asks = matches!(
        ctx.interaction.intent,
        Intent::Debugging | Intent::Clarification | Intent::OffTopic
    );
    if !ctx.policies.require_justification
        || ctx.verdict.is_blocked()
        || reports_or_asks
        || ctx.assessment.justification
        || !substantial
        || crate::pipeline::text::is_question(prompt)
    {
        return None;
    }
    finding(
        RiskKind::LackJustification,
        RiskLevel::Low,
        "A statement without justification where the activity requires one.",
        interaction_key(ctx),
        json!({ "has_code": ctx.input.code.is_some() }),
    )
}
