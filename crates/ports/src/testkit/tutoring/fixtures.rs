//! Builders shared by the tutoring contract cases.

use std::collections::BTreeMap;

use ainative_domain::{
    Activity, ActivityDraft, ActivityPolicies, ActivityStatus, Agent, CognitiveState,
    CognitiveTrace, CompetencyLevel, Difficulty, DimensionScore, Evaluation, HelpLevel, Intent,
    Interaction, Paginated, Risk, RiskKind, RiskLevel, Role, RoleSet, SessionMode, SessionStatus,
    StudySession, TraceKind, TraceLevel,
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::TutoringStores;
use crate::testkit::new_user;
use crate::InteractionRecord;

/// Creates a user named `username` holding `roles`; returns its id.
pub async fn user_with_roles(
    s: &TutoringStores,
    username: &str,
    roles: &[Role],
    at: DateTime<Utc>,
) -> Uuid {
    let mut user = new_user(username, at);
    user.roles = RoleSet::new(roles.iter().copied()).expect("at least one role");
    s.users
        .create(user.clone(), None)
        .await
        .expect("create user");
    user.id
}

/// Creates an instructor; returns its id.
pub async fn instructor(s: &TutoringStores, username: &str, at: DateTime<Utc>) -> Uuid {
    user_with_roles(s, username, &[Role::Instructor], at).await
}

/// Creates a student; returns its id.
pub async fn student(s: &TutoringStores, username: &str, at: DateTime<Utc>) -> Uuid {
    user_with_roles(s, username, &[Role::Student], at).await
}

/// Policies far from the defaults, with thresholds that only round-trip exactly when stored
/// exactly (`0.1 + 0.2` is not `0.3`).
pub fn policies() -> ActivityPolicies {
    ActivityPolicies {
        max_help_level: HelpLevel::Low,
        block_complete_solutions: false,
        require_justification: false,
        allow_code_snippets: true,
        max_interactions: Some(25),
        risk_thresholds: BTreeMap::from([
            ("ai_dependency".to_owned(), 0.65),
            ("cognitive_delegation".to_owned(), 0.1 + 0.2),
            ("zero".to_owned(), 0.0),
        ]),
        llm_credential_id: Some(uuid::Uuid::from_u128(0x0b10)),
        require_own_credential: true,
        allow_student_credentials: true,
    }
}

/// An activity of `owner_id` titled `title` in `status`, created at `at` (and published then
/// when `status` is published), tagged `loops` and `python`.
pub fn activity(
    owner_id: Uuid,
    title: &str,
    status: ActivityStatus,
    at: DateTime<Utc>,
) -> Activity {
    Activity {
        id: Uuid::new_v4(),
        content: ActivityDraft {
            title: title.to_owned(),
            description: "Practise loops — «ünïcödé» ✓".to_owned(),
            instructions: "Write a function that sums 1..=n.\nExplain your plan first.".to_owned(),
            subject: "python".to_owned(),
            difficulty: Difficulty::Intermediate,
            tags: vec!["loops".to_owned(), "python".to_owned()],
            evaluation_criteria: vec!["correctness".to_owned(), "clarity".to_owned()],
            policies: policies(),
        },
        owner_id,
        status,
        published_at: (status == ActivityStatus::Published).then_some(at),
        created_at: at,
        updated_at: at,
    }
}

/// An active tutor-mode session of `student_id` on `activity_id`, started at `at`.
pub fn study_session(student_id: Uuid, activity_id: Uuid, at: DateTime<Utc>) -> StudySession {
    StudySession {
        id: Uuid::new_v4(),
        student_id,
        activity_id,
        mode: SessionMode::Tutor,
        simulator_type: None,
        status: SessionStatus::Active,
        interaction_count: 0,
        started_at: at,
        ended_at: None,
        llm_credential_id: None,
    }
}

/// An interaction of `session_id` at `at`; its `seq` (0) is for the store to assign.
pub fn interaction(session_id: Uuid, at: DateTime<Utc>) -> Interaction {
    Interaction {
        id: Uuid::new_v4(),
        session_id,
        seq: 0,
        prompt: "Why does my loop stop one short? ✓".to_owned(),
        response: "What does range(1, n) produce for n = 3?".to_owned(),
        agent: Agent::Tutor,
        intent: Intent::Debugging,
        help_level: HelpLevel::Low,
        blocked: false,
        cache_hit: true,
        provider: "offline".to_owned(),
        model: "socratic-rules".to_owned(),
        tokens_in: 12,
        tokens_out: 34,
        latency_ms: 5_000_000_000,
        // Not a real chunk: sources are a record of what grounded the answer, not a link.
        sources: vec![ainative_domain::ChunkSource {
            material_id: Uuid::from_u128(1),
            chunk_id: Uuid::from_u128(2),
            score: 1.5,
        }],
        created_at: at,
    }
}

/// A trace of `interaction` at `level`, created at `at`.
pub fn trace(interaction: &Interaction, level: TraceLevel, at: DateTime<Utc>) -> CognitiveTrace {
    let kind = match level {
        TraceLevel::N1 => TraceKind::CodeSubmission,
        TraceLevel::N2 => TraceKind::ErrorReport,
        TraceLevel::N3 => TraceKind::StudentPrompt,
        TraceLevel::N4 => TraceKind::StrategyChange,
    };
    CognitiveTrace {
        id: Uuid::new_v4(),
        session_id: interaction.session_id,
        interaction_id: interaction.id,
        level,
        kind,
        cognitive_state: CognitiveState::Debugging,
        ai_involvement: 1.0 / 3.0,
        agent: Agent::Tutor,
        summary: format!("{} trace", level.as_str()),
        data: serde_json::json!({
            "level": level.as_str(),
            "nested": { "list": [1, 2.5, "ü", null, true] },
        }),
        created_at: at,
    }
}

/// An open risk of `session` of `kind` and `level` for `evidence_key`, raised at `at` by
/// `interaction_id`.
pub fn risk(
    session: &StudySession,
    interaction_id: Option<Uuid>,
    kind: RiskKind,
    level: RiskLevel,
    evidence_key: &str,
    at: DateTime<Utc>,
) -> Risk {
    Risk {
        id: Uuid::new_v4(),
        session_id: session.id,
        student_id: session.student_id,
        interaction_id,
        dimension: kind.dimension(),
        kind,
        level,
        description: format!("{} raised by {evidence_key}", kind.as_str()),
        evidence_key: evidence_key.to_owned(),
        evidence: serde_json::json!({ "key": evidence_key, "ratio": 0.1 + 0.2, "count": 3 }),
        resolved_at: None,
        resolved_by: None,
        resolution_note: None,
        created_at: at,
    }
}

/// The evaluation of `session`, created at `at`.
pub fn evaluation(session: &StudySession, at: DateTime<Utc>) -> Evaluation {
    let dimension = |name: &str, score: f64| DimensionScore {
        name: name.to_owned(),
        score,
        evidence: vec![format!("{name}: 3 traces")],
        strengths: vec!["asks precise questions".to_owned()],
        weaknesses: Vec::new(),
        recommendations: vec!["explain the plan first".to_owned(), "ü ✓".to_owned()],
    };
    Evaluation {
        id: Uuid::new_v4(),
        session_id: session.id,
        student_id: session.student_id,
        overall_score: 7.25,
        competency_level: CompetencyLevel::Autonomous,
        dimensions: vec![dimension("planning", 6.5), dimension("autonomy", 0.1 + 0.2)],
        ai_dependency_score: 1.0 / 3.0,
        key_strengths: vec!["debugging".to_owned()],
        improvement_areas: vec!["planning".to_owned(), "reflection".to_owned()],
        created_at: at,
    }
}

/// An interaction of `session` at `at` with its n3 and n4 traces and `risks`.
pub fn record(session: &StudySession, at: DateTime<Utc>, risks: Vec<Risk>) -> InteractionRecord {
    let interaction = interaction(session.id, at);
    InteractionRecord {
        traces: vec![
            trace(&interaction, TraceLevel::N3, at),
            trace(&interaction, TraceLevel::N4, at),
        ],
        interaction,
        risks,
        rule_state: None,
    }
}

/// An instructor, a student, a published activity of the instructor and an active session
/// of the student on it, created at `at`.
pub async fn active_session(s: &TutoringStores, at: DateTime<Utc>) -> StudySession {
    let owner = instructor(s, "owner", at).await;
    let learner = student(s, "learner", at).await;
    let activity = activity(owner, "Loops", ActivityStatus::Published, at);
    s.activities
        .create(activity.clone())
        .await
        .expect("create activity");
    s.sessions
        .create(study_session(learner, activity.id, at))
        .await
        .expect("create session")
}

/// The ids of a page, in order.
pub fn page_ids<T>(page: &Paginated<T>, id: impl Fn(&T) -> Uuid) -> Vec<Uuid> {
    page.items.iter().map(id).collect()
}
