//! Fixtures shared by the unit tests of the pipeline, the gateway and the evaluator.

use ainative_domain::{
    Activity, ActivityDraft, ActivityPolicies, ActivityStatus, Agent, CognitiveState,
    CognitiveTrace, Difficulty, HelpLevel, Intent, Interaction, SessionMode, SessionStatus,
    StudySession, TraceKind, TraceLevel,
};
use chrono::{DateTime, Duration, TimeZone, Utc};
use uuid::Uuid;

/// A fixed instant.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 10, 0, 0)
        .single()
        .expect("valid date")
}

/// `t0()` plus `secs` seconds.
pub fn at(secs: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(secs)
}

/// A published activity with default policies.
pub fn activity() -> Activity {
    Activity {
        id: Uuid::new_v4(),
        content: ActivityDraft {
            title: "Fibonacci with loops".into(),
            description: "Iterative Fibonacci".into(),
            instructions: "Write a function that returns the n-th Fibonacci number using a loop."
                .into(),
            subject: "python".into(),
            difficulty: Difficulty::Beginner,
            tags: vec!["loops".into()],
            evaluation_criteria: vec!["correctness".into(), "clarity".into()],
            policies: ActivityPolicies::default(),
        },
        owner_id: Uuid::new_v4(),
        status: ActivityStatus::Published,
        published_at: Some(t0()),
        created_at: t0(),
        updated_at: t0(),
    }
}

/// An active session of `mode` on `activity`.
pub fn session(activity: &Activity, mode: SessionMode) -> StudySession {
    StudySession {
        id: Uuid::new_v4(),
        student_id: Uuid::new_v4(),
        activity_id: activity.id,
        mode,
        simulator_type: None,
        status: SessionStatus::Active,
        interaction_count: 0,
        started_at: t0(),
        ended_at: None,
        llm_credential_id: None,
    }
}

/// A stored interaction.
pub fn interaction(
    session: &StudySession,
    intent: Intent,
    help_level: HelpLevel,
    blocked: bool,
    created_at: DateTime<Utc>,
) -> Interaction {
    Interaction {
        id: Uuid::new_v4(),
        session_id: session.id,
        seq: 0,
        prompt: format!("a {intent} prompt"),
        response: "an answer".into(),
        agent: if blocked {
            Agent::Governance
        } else {
            Agent::Tutor
        },
        intent,
        help_level,
        blocked,
        cache_hit: false,
        provider: "test".into(),
        model: "test".into(),
        tokens_in: 1,
        tokens_out: 1,
        latency_ms: 1,
        sources: Vec::new(),
        created_at,
    }
}

/// A stored trace.
pub fn trace(
    session: &StudySession,
    level: TraceLevel,
    kind: TraceKind,
    state: CognitiveState,
    ai_involvement: f64,
    created_at: DateTime<Utc>,
    data: serde_json::Value,
) -> CognitiveTrace {
    CognitiveTrace {
        id: Uuid::new_v4(),
        session_id: session.id,
        interaction_id: Uuid::new_v4(),
        level,
        kind,
        cognitive_state: state,
        ai_involvement,
        agent: Agent::Tutor,
        summary: String::new(),
        data,
        created_at,
    }
}

/// One turn of a session, as the traces it leaves.
#[derive(Debug, Clone, Copy)]
pub struct TurnSpec {
    /// Seconds after `t0()` when the prompt arrived (the answer comes 2 s later).
    pub secs: i64,
    /// Inferred state.
    pub state: CognitiveState,
    /// Intent.
    pub intent: Intent,
    /// AI involvement of the turn.
    pub ai: f64,
    /// Code submitted.
    pub code: bool,
    /// Error output reported.
    pub error: bool,
    /// The prompt justified itself.
    pub justification: bool,
}

impl TurnSpec {
    /// A turn at `secs` in `state` with `intent` and AI involvement `ai`; no code, no error,
    /// no justification.
    pub fn new(secs: i64, state: CognitiveState, intent: Intent, ai: f64) -> Self {
        Self {
            secs,
            state,
            intent,
            ai,
            code: false,
            error: false,
            justification: false,
        }
    }
}

/// The traces a turn leaves: n3 prompt, n1/n2 when code/error, n3 answer, n4.
pub fn turn_traces(session: &StudySession, spec: TurnSpec) -> Vec<CognitiveTrace> {
    let interaction_id = Uuid::new_v4();
    let mut out = Vec::new();
    let mut push = |level, kind, ai: f64, secs: i64, data: serde_json::Value| {
        let mut t = trace(session, level, kind, spec.state, ai, at(secs), data);
        t.interaction_id = interaction_id;
        out.push(t);
    };
    push(
        TraceLevel::N3,
        TraceKind::StudentPrompt,
        0.0,
        spec.secs,
        serde_json::json!({}),
    );
    if spec.code {
        push(
            TraceLevel::N1,
            TraceKind::CodeSubmission,
            0.0,
            spec.secs,
            serde_json::json!({}),
        );
    }
    if spec.error {
        push(
            TraceLevel::N2,
            TraceKind::ErrorReport,
            0.0,
            spec.secs,
            serde_json::json!({}),
        );
    }
    push(
        TraceLevel::N3,
        TraceKind::AiResponse,
        spec.ai,
        spec.secs + 2,
        serde_json::json!({}),
    );
    push(
        TraceLevel::N4,
        TraceKind::StudentPrompt,
        spec.ai,
        spec.secs + 2,
        serde_json::json!({
            "intent": spec.intent,
            "cognitive_state": spec.state,
            "justification": spec.justification,
            "effort": spec.code || spec.error,
            "blocked": false,
        }),
    );
    out
}
