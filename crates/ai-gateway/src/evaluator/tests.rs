use ainative_domain::{
    CognitiveState as S, CognitiveTrace, CompetencyLevel, Intent as I, Risk, RiskKind, RiskLevel,
    SessionMode, StudySession, TraceKind, TraceLevel,
};
use uuid::Uuid;

use super::*;
use crate::pipeline::testing::{activity, at, session, turn_traces, TurnSpec};

fn risk(session: &StudySession, kind: RiskKind, key: &str) -> Risk {
    Risk {
        id: Uuid::new_v4(),
        session_id: session.id,
        student_id: session.student_id,
        interaction_id: None,
        dimension: kind.dimension(),
        kind,
        level: RiskLevel::High,
        description: String::new(),
        evidence_key: key.into(),
        evidence: serde_json::json!({}),
        resolved_at: None,
        resolved_by: None,
        resolution_note: None,
        created_at: at(0),
    }
}

fn traces(session: &StudySession, specs: &[TurnSpec]) -> Vec<CognitiveTrace> {
    specs
        .iter()
        .flat_map(|s| turn_traces(session, *s))
        .collect()
}

fn spec(secs: i64, state: S, intent: I, ai: f64, code: bool, error: bool, why: bool) -> TurnSpec {
    TurnSpec {
        code,
        error,
        justification: why,
        ..TurnSpec::new(secs, state, intent, ai)
    }
}

fn score(e: &Evaluation, name: &str) -> f64 {
    e.dimensions
        .iter()
        .find(|d| d.name == name)
        .map(|d| d.score)
        .unwrap_or(-1.0)
}

#[test]
fn an_autonomous_process_scores_high() {
    let s = session(&activity(), SessionMode::Tutor);
    let mut t = traces(
        &s,
        &[
            spec(
                0,
                S::Exploring,
                I::ConceptualQuestion,
                0.2,
                false,
                false,
                true,
            ),
            spec(
                60,
                S::Planning,
                I::ConceptualQuestion,
                0.15,
                false,
                false,
                true,
            ),
            spec(120, S::Implementing, I::CodeReview, 0.3, true, false, true),
            spec(200, S::Debugging, I::Debugging, 0.35, true, true, false),
            spec(
                260,
                S::Progressing,
                I::ConceptualQuestion,
                0.2,
                false,
                false,
                false,
            ),
            spec(320, S::Validating, I::CodeReview, 0.3, true, false, true),
            spec(
                400,
                S::Reflecting,
                I::ConceptualQuestion,
                0.1,
                false,
                false,
                true,
            ),
        ],
    );
    for trace in t.iter_mut() {
        if trace.level == TraceLevel::N4 && trace.cognitive_state == S::Progressing {
            trace.kind = TraceKind::SelfCorrection;
        }
    }
    let e = evaluate(&s, &t, &[], at(500));
    assert_eq!(e.session_id, s.id);
    assert_eq!(e.student_id, s.student_id);
    assert_eq!(e.created_at, at(500));
    let names: Vec<&str> = e.dimensions.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, DIMENSIONS);
    assert!(score(&e, "planning") >= 8.0, "{e:#?}");
    assert!(score(&e, "execution") >= 8.0, "{e:#?}");
    assert_eq!(score(&e, "debugging"), 10.0);
    assert!(score(&e, "reflection") >= 8.0, "{e:#?}");
    assert!(score(&e, "autonomy") >= 7.0, "{e:#?}");
    assert!(e.overall_score >= 8.5, "{}", e.overall_score);
    assert_eq!(e.competency_level, CompetencyLevel::Expert);
    assert!((e.ai_dependency_score - 1.6 / 7.0).abs() < 1e-9);
    assert_eq!(e.key_strengths.len(), 5);
    assert!(e.dimensions.iter().all(|d| !d.evidence.is_empty()));
}

#[test]
fn a_delegating_process_scores_low_with_advice() {
    let s = session(&activity(), SessionMode::Tutor);
    let t = traces(
        &s,
        &[
            spec(0, S::Stuck, I::SolutionRequest, 0.0, false, false, false),
            spec(10, S::Stuck, I::SolutionRequest, 0.0, false, false, false),
            spec(20, S::Stuck, I::SolutionRequest, 0.0, false, false, false),
            spec(
                30,
                S::Exploring,
                I::ConceptualQuestion,
                0.85,
                false,
                false,
                false,
            ),
            spec(40, S::Implementing, I::CodeReview, 0.9, true, false, false),
        ],
    );
    let risks = [
        risk(&s, RiskKind::CognitiveDelegation, "interaction:1"),
        risk(&s, RiskKind::CognitiveDelegation, "delegation:count>=3"),
        risk(&s, RiskKind::AiDependency, "ai_dependency:since=x"),
        risk(&s, RiskKind::AcademicIntegrity, "interaction:5"),
        risk(&s, RiskKind::LackJustification, "interaction:5"),
    ];
    let e = evaluate(&s, &t, &risks, at(100));
    assert!(e.overall_score < 5.0, "{e:#?}");
    assert_eq!(e.competency_level, CompetencyLevel::Initial);
    assert!(score(&e, "autonomy") <= 2.0, "{e:#?}");
    assert!(score(&e, "planning") < 5.0);
    assert_eq!(
        score(&e, "debugging"),
        5.0,
        "no debugging observed is neutral"
    );
    assert!(e
        .improvement_areas
        .iter()
        .any(|a| a.contains("delegating the solution")));
    assert!(e
        .improvement_areas
        .iter()
        .any(|a| a.starts_with("autonomy:")));
    assert!(e.key_strengths.len() <= 1);
    let autonomy = &e.dimensions[4];
    assert!(
        autonomy
            .weaknesses
            .iter()
            .any(|w| w.contains("Relied heavily"))
            || autonomy.score < 5.0
    );
}

#[test]
fn an_empty_session_scores_zero() {
    let s = session(&activity(), SessionMode::Tutor);
    let e = evaluate(&s, &[], &[], at(0));
    assert_eq!(e.overall_score, 0.0);
    assert_eq!(e.competency_level, CompetencyLevel::Initial);
    assert_eq!(e.ai_dependency_score, 0.0);
    assert_eq!(e.dimensions.len(), 5);
    assert!(e.dimensions.iter().all(|d| d.score == 0.0));
    assert!(e.key_strengths.is_empty());
    assert_eq!(e.improvement_areas.len(), 5);
}

#[test]
fn scores_stay_in_range_for_extreme_sessions() {
    let s = session(&activity(), SessionMode::Tutor);
    let many: Vec<TurnSpec> = (0..30)
        .map(|k| spec(k * 5, S::Stuck, I::Debugging, 1.0, true, true, false))
        .collect();
    let risks: Vec<Risk> = [
        RiskKind::PolicyViolation,
        RiskKind::PolicyViolation,
        RiskKind::AutomationSuspected,
        RiskKind::LackJustification,
        RiskKind::LackJustification,
        RiskKind::LackJustification,
        RiskKind::LackJustification,
    ]
    .into_iter()
    .enumerate()
    .map(|(i, k)| risk(&s, k, &i.to_string()))
    .collect();
    let e = evaluate(&s, &traces(&s, &many), &risks, at(0));
    for d in &e.dimensions {
        assert!((0.0..=10.0).contains(&d.score), "{}: {}", d.name, d.score);
    }
    assert!((0.0..=10.0).contains(&e.overall_score));
    assert_eq!(e.ai_dependency_score, 1.0);
    assert_eq!(score(&e, "autonomy"), 0.0);
}
