//! The process evaluation of a finished session: a pure, rule-based function of its traces
//! and risks.
//!
//! # Rules
//! The session's turns are its n4 traces (one per interaction: state, intent, justification,
//! effort, involvement); code submissions are n1 traces, error reports n2. Five dimensions are
//! scored 0–10 (clamped, one decimal):
//!
//! | dimension | score |
//! |---|---|
//! | planning | 2 + 4·min(1, share of planning/exploring turns ÷ 0.3) + 2·[a planning/exploring turn before the first code] + 2·share of justified prompts − 1.5·min(3, solution requests) |
//! | execution | 2 without code; else 3 + 3·min(1, submissions ÷ 3) + 2·(1 − mean AI involvement) + 2·[progressing/validating seen] − 3·[academic_integrity risk] |
//! | debugging | 5 when no debugging happened; else 3 + 4·share of debugging runs followed by progress + 2·min(1, error reports ÷ runs) + 1·[self-correction] − 2·[stuck twice or more] |
//! | reflection | 2 + 4·min(1, share of reflecting turns ÷ 0.15) + 3·share of justified prompts + 1·[validating seen] − min(3, lack_justification risks) |
//! | autonomy | 10·(1 − mean AI involvement) − 1.5·min(3, solution requests) − 1·[ai_dependency risk] − min(2, policy violations) − 1·[automation suspected] |
//!
//! `overall_score` = 0.2·planning + 0.2·execution + 0.2·debugging + 0.15·reflection +
//! 0.25·autonomy (one decimal); `competency_level` = `CompetencyLevel::from_score(overall)`;
//! `ai_dependency_score` = mean AI involvement of the turns. Key strengths are the dimensions
//! scoring 7 or more (or the best one from 5); improvement areas are those below 5 (or the
//! weakest below 7) plus advice for each kind of risk raised. A session without interactions
//! scores 0 everywhere.

mod dimensions;
mod stats;

#[cfg(test)]
mod tests;

use ainative_domain::{
    CognitiveTrace, CompetencyLevel, DimensionScore, Evaluation, Risk, RiskKind, StudySession,
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use dimensions::round1;
use stats::SessionStats;

/// Weights of planning, execution, debugging, reflection and autonomy in the overall score.
pub const WEIGHTS: [f64; 5] = [0.2, 0.2, 0.2, 0.15, 0.25];

/// Names of the dimensions, in order.
pub const DIMENSIONS: [&str; 5] = [
    "planning",
    "execution",
    "debugging",
    "reflection",
    "autonomy",
];

/// Evaluates a finished session from its traces and risks (any order), at `now`.
pub fn evaluate(
    session: &StudySession,
    traces: &[CognitiveTrace],
    risks: &[Risk],
    now: DateTime<Utc>,
) -> Evaluation {
    let stats = SessionStats::from(traces, risks);
    let dimensions: Vec<DimensionScore> = if stats.turns == 0 {
        DIMENSIONS.into_iter().map(dimensions::empty).collect()
    } else {
        vec![
            dimensions::planning(&stats),
            dimensions::execution(&stats),
            dimensions::debugging(&stats),
            dimensions::reflection(&stats),
            dimensions::autonomy(&stats),
        ]
    };
    let overall = round1(
        dimensions
            .iter()
            .zip(WEIGHTS)
            .map(|(d, w)| d.score * w)
            .sum::<f64>()
            .clamp(0.0, 10.0),
    );
    Evaluation {
        id: Uuid::new_v4(),
        session_id: session.id,
        student_id: session.student_id,
        overall_score: overall,
        competency_level: CompetencyLevel::from_score(overall),
        ai_dependency_score: stats.ai_mean,
        key_strengths: key_strengths(&dimensions),
        improvement_areas: improvement_areas(&dimensions, &stats),
        dimensions,
        created_at: now,
    }
}

fn key_strengths(dims: &[DimensionScore]) -> Vec<String> {
    let describe = |d: &DimensionScore| match d.strengths.first() {
        Some(s) => format!("{}: {s}", d.name),
        None => d.name.clone(),
    };
    let strong: Vec<String> = dims
        .iter()
        .filter(|d| d.score >= 7.0)
        .map(describe)
        .collect();
    if !strong.is_empty() {
        return strong;
    }
    dims.iter()
        .filter(|d| d.score >= 5.0)
        .max_by(|a, b| a.score.total_cmp(&b.score))
        .map(describe)
        .into_iter()
        .collect()
}

fn improvement_areas(dims: &[DimensionScore], stats: &SessionStats) -> Vec<String> {
    let describe = |d: &DimensionScore| match d.recommendations.first() {
        Some(r) => format!("{}: {r}", d.name),
        None => d.name.clone(),
    };
    let mut areas: Vec<String> = dims
        .iter()
        .filter(|d| d.score < 5.0)
        .map(describe)
        .collect();
    if areas.is_empty() {
        areas.extend(
            dims.iter()
                .filter(|d| d.score < 7.0)
                .min_by(|a, b| a.score.total_cmp(&b.score))
                .map(describe),
        );
    }
    let advice = [
        (
            RiskKind::CognitiveDelegation,
            "Avoid delegating the solution: break the problem down and ask specific doubts",
        ),
        (
            RiskKind::AiDependency,
            "Reduce your dependence on the AI: attempt each step before asking",
        ),
        (
            RiskKind::AcademicIntegrity,
            "Write and explain your own code instead of pasting it",
        ),
        (
            RiskKind::LackJustification,
            "Justify your decisions when you present your work",
        ),
        (
            RiskKind::PolicyViolation,
            "Respect the rules of the activity when using the tutor",
        ),
        (
            RiskKind::AutomationSuspected,
            "Interact with the tutor yourself, at your own pace",
        ),
    ];
    for (kind, text) in advice {
        if stats.risk(kind) > 0 && !areas.iter().any(|a| a == text) {
            areas.push(text.to_owned());
        }
    }
    areas
}
