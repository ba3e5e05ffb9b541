//! The risk rules (see the table in the parent module).

use ainative_domain::{Intent, RiskKind, RiskLevel, TraceKind, TraceLevel};
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::{Finding, RiskContext};
use crate::pipeline::governance::BlockReason;
use crate::pipeline::involvement::to_f64;
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

/// The cognitive (n4) traces of stored turns, oldest first, plus this turn's.
fn turn_traces<'a>(
    ctx: &'a RiskContext<'a>,
) -> impl Iterator<Item = &'a ainative_domain::CognitiveTrace> + 'a {
    let mut stored: Vec<_> = ctx
        .stored_traces
        .iter()
        .filter(|t| t.level == TraceLevel::N4 && t.interaction_id != ctx.interaction.id)
        .collect();
    stored.sort_by_key(|t| t.created_at);
    stored
        .into_iter()
        .chain(ctx.traces.iter().filter(|t| t.level == TraceLevel::N4))
}

/// Three or more solution requests in the session (this turn being one).
pub fn repeated_delegation(ctx: &RiskContext<'_>) -> Option<Finding> {
    if ctx.interaction.intent != Intent::SolutionRequest {
        return None;
    }
    let stored = ctx
        .stored_traces
        .iter()
        .filter(|t| t.level == TraceLevel::N4 && t.interaction_id != ctx.interaction.id)
        .filter(|t| t.data.get("intent").and_then(|v| v.as_str()) == Some("solution_request"))
        .count();
    let count = stored + 1;
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
    let mut sum = 0.0;
    let mut turns = 0usize;
    let mut since: Option<Uuid> = None;
    for trace in turn_traces(ctx) {
        sum += trace.ai_involvement;
        turns += 1;
        let mean = sum / to_f64(turns);
        if turns >= DEPENDENCY_MIN_TURNS && mean > threshold {
            since.get_or_insert(trace.interaction_id);
        } else {
            since = None;
        }
    }
    let since = since?;
    let mean = sum / to_f64(turns);
    finding(
        RiskKind::AiDependency,
        RiskLevel::Medium,
        format!(
            "Average AI involvement {mean:.2} is above the activity's threshold {threshold:.2}."
        ),
        format!("ai_dependency:since={since}"),
        json!({ "mean_ai_involvement": mean, "threshold": threshold, "turns": turns }),
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
    let mut prompts: Vec<(Uuid, DateTime<Utc>)> = ctx
        .stored_traces
        .iter()
        .filter(|t| t.kind == TraceKind::StudentPrompt && t.level == TraceLevel::N3)
        .filter(|t| t.interaction_id != ctx.interaction.id)
        .map(|t| (t.interaction_id, t.created_at))
        .collect();
    prompts.sort_by_key(|p| p.1);
    prompts.push((ctx.interaction.id, ctx.received_at));
    if prompts.len() < AUTOMATION_MIN_INTERACTIONS {
        return None;
    }
    let intervals: Vec<f64> = prompts
        .windows(2)
        .map(|w| (w[1].1 - w[0].1).num_milliseconds() as f64 / 1000.0)
        .collect();
    let recent = &intervals[intervals
        .len()
        .saturating_sub(AUTOMATION_MIN_INTERACTIONS - 1)..];
    let median = median(recent);
    let tolerance = (0.25 * median).max(1.0);
    let run = intervals
        .iter()
        .rev()
        .take_while(|d| **d < AUTOMATION_MAX_INTERVAL_SECS && (**d - median).abs() <= tolerance)
        .count();
    let interactions = run + 1;
    if interactions < AUTOMATION_MIN_INTERACTIONS {
        return None;
    }
    let start = prompts[prompts.len() - interactions].0;
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

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
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
