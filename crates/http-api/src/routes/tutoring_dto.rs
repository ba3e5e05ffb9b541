//! Bodies of the tutoring endpoints.

use ainative_domain::{Activity, CognitiveTrace, Evaluation, Interaction, Risk, StudySession};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A new activity.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateActivityRequest {
    #[schema(example = "Loops in Python")]
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub instructions: String,
    #[serde(default)]
    pub subject: String,
    #[schema(example = "beginner")]
    pub difficulty: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub evaluation_criteria: Vec<String>,
    #[schema(value_type = Option<Object>)]
    pub policies: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A partial change of an activity; `policies` changes only the fields it names.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateActivityRequest {
    pub title: Option<String>,
    pub description: Option<String>,
    pub instructions: Option<String>,
    pub subject: Option<String>,
    pub difficulty: Option<String>,
    pub tags: Option<Vec<String>>,
    pub evaluation_criteria: Option<Vec<String>>,
    #[schema(value_type = Option<Object>)]
    pub policies: Option<serde_json::Map<String, serde_json::Value>>,
}

/// An activity.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityResponse {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    pub instructions: String,
    pub subject: String,
    pub difficulty: String,
    pub tags: Vec<String>,
    pub evaluation_criteria: Vec<String>,
    pub owner_id: Uuid,
    pub status: String,
    pub published_at: Option<DateTime<Utc>>,
    #[schema(value_type = Object)]
    pub policies: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Activity> for ActivityResponse {
    fn from(a: Activity) -> Self {
        Self {
            id: a.id,
            policies: serde_json::to_value(&a.content.policies).unwrap_or_default(),
            title: a.content.title,
            description: a.content.description,
            instructions: a.content.instructions,
            subject: a.content.subject,
            difficulty: a.content.difficulty.to_string(),
            tags: a.content.tags,
            evaluation_criteria: a.content.evaluation_criteria,
            owner_id: a.owner_id,
            status: a.status.to_string(),
            published_at: a.published_at,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

/// Filters of the activity list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ActivityQuery {
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    /// draft, published or archived.
    pub status: Option<String>,
    pub tag: Option<String>,
}

/// Start a session.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartSessionRequest {
    pub activity_id: Uuid,
    /// tutor (default), practice, evaluator or simulator.
    pub mode: Option<String>,
    /// Required in simulator mode.
    pub simulator_type: Option<String>,
    /// A model credential of the caller's own, when the activity has
    /// `policies.allow_student_credentials`: the session's turns go to that endpoint.
    pub llm_credential_id: Option<Uuid>,
}

/// A session.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionResponse {
    pub id: Uuid,
    pub student_id: Uuid,
    pub activity_id: Uuid,
    pub mode: String,
    pub simulator_type: Option<String>,
    pub status: String,
    pub interaction_count: u32,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// The student's own model credential chosen at start, if any.
    pub llm_credential_id: Option<Uuid>,
}

impl From<StudySession> for SessionResponse {
    fn from(s: StudySession) -> Self {
        Self {
            id: s.id,
            student_id: s.student_id,
            activity_id: s.activity_id,
            mode: s.mode.to_string(),
            simulator_type: s.simulator_type.map(|t| t.to_string()),
            status: s.status.to_string(),
            interaction_count: s.interaction_count,
            started_at: s.started_at,
            ended_at: s.ended_at,
            llm_credential_id: s.llm_credential_id,
        }
    }
}

/// Filters of the session list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SessionQuery {
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    /// active, paused, completed or aborted.
    pub status: Option<String>,
    pub activity_id: Option<Uuid>,
}

/// A student's turn.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InteractionRequest {
    /// 1–8000 characters.
    pub prompt: String,
    /// Submitted code (≤ 50,000 characters).
    pub code: Option<String>,
    /// Error output (≤ 10,000 characters).
    pub error_output: Option<String>,
}

/// An interaction.
#[derive(Debug, Serialize, ToSchema)]
pub struct InteractionResponse {
    pub id: Uuid,
    pub session_id: Uuid,
    pub seq: u32,
    pub prompt: String,
    pub response: String,
    pub agent: String,
    pub intent: String,
    pub help_level: String,
    pub blocked: bool,
    pub cache_hit: bool,
    pub provider: String,
    pub model: String,
    pub tokens_in: u32,
    pub tokens_out: u32,
    pub latency_ms: u64,
    /// Chunks of course material that grounded the answer, best first.
    pub sources: Vec<SourceResponse>,
    pub created_at: DateTime<Utc>,
}

/// A chunk of course material that grounded an answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceResponse {
    pub material_id: Uuid,
    pub chunk_id: Uuid,
    /// Retrieval score (BM25, or cosine similarity); higher is better.
    pub score: f32,
}

impl From<Interaction> for InteractionResponse {
    fn from(i: Interaction) -> Self {
        Self {
            id: i.id,
            session_id: i.session_id,
            seq: i.seq,
            prompt: i.prompt,
            response: i.response,
            agent: i.agent.to_string(),
            intent: i.intent.to_string(),
            help_level: i.help_level.to_string(),
            blocked: i.blocked,
            cache_hit: i.cache_hit,
            provider: i.provider,
            model: i.model,
            tokens_in: i.tokens_in,
            tokens_out: i.tokens_out,
            latency_ms: i.latency_ms,
            sources: i
                .sources
                .iter()
                .map(|s| SourceResponse {
                    material_id: s.material_id,
                    chunk_id: s.chunk_id,
                    score: s.score,
                })
                .collect(),
            created_at: i.created_at,
        }
    }
}

/// A cognitive trace.
#[derive(Debug, Serialize, ToSchema)]
pub struct TraceResponse {
    pub id: Uuid,
    pub session_id: Uuid,
    pub interaction_id: Uuid,
    pub level: String,
    pub kind: String,
    pub cognitive_state: String,
    pub ai_involvement: f64,
    pub agent: String,
    pub summary: String,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

impl From<CognitiveTrace> for TraceResponse {
    fn from(t: CognitiveTrace) -> Self {
        Self {
            id: t.id,
            session_id: t.session_id,
            interaction_id: t.interaction_id,
            level: t.level.to_string(),
            kind: t.kind.to_string(),
            cognitive_state: t.cognitive_state.to_string(),
            ai_involvement: t.ai_involvement,
            agent: t.agent.to_string(),
            summary: t.summary,
            data: t.data,
            created_at: t.created_at,
        }
    }
}

/// A risk.
#[derive(Debug, Serialize, ToSchema)]
pub struct RiskResponse {
    pub id: Uuid,
    pub session_id: Uuid,
    pub student_id: Uuid,
    pub interaction_id: Option<Uuid>,
    pub dimension: String,
    pub kind: String,
    pub level: String,
    pub description: String,
    #[schema(value_type = Object)]
    pub evidence: serde_json::Value,
    pub resolved: bool,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<Uuid>,
    pub resolution_note: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<Risk> for RiskResponse {
    fn from(r: Risk) -> Self {
        Self {
            id: r.id,
            session_id: r.session_id,
            student_id: r.student_id,
            interaction_id: r.interaction_id,
            dimension: r.dimension.to_string(),
            kind: r.kind.to_string(),
            level: r.level.to_string(),
            description: r.description,
            evidence: r.evidence,
            resolved: r.resolved_at.is_some(),
            resolved_at: r.resolved_at,
            resolved_by: r.resolved_by,
            resolution_note: r.resolution_note,
            created_at: r.created_at,
        }
    }
}

/// The result of one turn: the stored interaction, its traces and the risks it raised.
#[derive(Debug, Serialize, ToSchema)]
pub struct InteractionResult {
    pub interaction: InteractionResponse,
    pub traces: Vec<TraceResponse>,
    pub risks: Vec<RiskResponse>,
}

impl From<ainative_ports::InteractionRecord> for InteractionResult {
    fn from(r: ainative_ports::InteractionRecord) -> Self {
        Self {
            interaction: r.interaction.into(),
            traces: r.traces.into_iter().map(Into::into).collect(),
            risks: r.risks.into_iter().map(Into::into).collect(),
        }
    }
}

/// An evaluation.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvaluationResponse {
    pub id: Uuid,
    pub session_id: Uuid,
    pub student_id: Uuid,
    pub overall_score: f64,
    pub competency_level: String,
    #[schema(value_type = Vec<Object>)]
    pub dimensions: Vec<ainative_domain::DimensionScore>,
    pub ai_dependency_score: f64,
    pub key_strengths: Vec<String>,
    pub improvement_areas: Vec<String>,
    pub created_at: DateTime<Utc>,
}

impl From<Evaluation> for EvaluationResponse {
    fn from(e: Evaluation) -> Self {
        Self {
            id: e.id,
            session_id: e.session_id,
            student_id: e.student_id,
            overall_score: e.overall_score,
            competency_level: e.competency_level.to_string(),
            dimensions: e.dimensions,
            ai_dependency_score: e.ai_dependency_score,
            key_strengths: e.key_strengths,
            improvement_areas: e.improvement_areas,
            created_at: e.created_at,
        }
    }
}

/// The answer to ending a session.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndSessionResponse {
    pub session: SessionResponse,
    pub evaluation: EvaluationResponse,
}

/// Filters of traces.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TraceQuery {
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    /// n1, n2, n3 or n4.
    pub level: Option<String>,
}

/// Filters of the risk list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RiskQuery {
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    /// info, low, medium, high or critical.
    pub level: Option<String>,
    /// cognitive, ethical, epistemic, technical or governance.
    pub dimension: Option<String>,
    pub resolved: Option<bool>,
}

/// Resolution of a risk.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveRiskRequest {
    pub note: Option<String>,
}
