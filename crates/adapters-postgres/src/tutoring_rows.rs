//! Rows of the tutoring tables as read from PostgreSQL, their conversion into domain values,
//! and the conversions of domain values into bind values.

use std::str::FromStr;

use ainative_domain::{
    Activity, ActivityDraft, CognitiveTrace, Evaluation, Interaction, Risk, StudySession,
};
use ainative_ports::{PortError, PortResult};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// A corrupt stored value, reported as `Other`.
fn corrupt(table: &str, id: Uuid, what: &str, err: impl std::fmt::Display) -> PortError {
    PortError::Other((format!("stored {table} {id} has an invalid {what}: {err}")).into())
}

/// Parses a stored enumeration name.
fn parse<T: FromStr<Err = String>>(table: &str, id: Uuid, what: &str, s: &str) -> PortResult<T> {
    s.parse().map_err(|e| corrupt(table, id, what, e))
}

/// Decodes a stored JSON document into `T`.
fn from_json<T: DeserializeOwned>(
    table: &str,
    id: Uuid,
    what: &str,
    value: serde_json::Value,
) -> PortResult<T> {
    serde_json::from_value(value).map_err(|e| corrupt(table, id, what, e))
}

/// A stored non-negative integer as a `u32`.
fn small(table: &str, id: Uuid, what: &str, value: i64) -> PortResult<u32> {
    u32::try_from(value).map_err(|e| corrupt(table, id, what, e))
}

/// Encodes a domain value as a JSON bind value.
pub(crate) fn to_json<T: serde::Serialize>(what: &str, value: &T) -> PortResult<serde_json::Value> {
    serde_json::to_value(value)
        .map_err(|e| PortError::Other((format!("cannot encode {what} as JSON: {e}")).into()))
}

/// A `u64` as a `BIGINT` bind value (saturating).
pub(crate) fn big(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// The columns of `activities`, in [`ActivityRow`] order.
macro_rules! activity_columns {
    () => {
        "id, title, description, instructions, subject, difficulty, tags, evaluation_criteria, \
         policies, owner_id, status, published_at, created_at, updated_at"
    };
}
pub(crate) use activity_columns;

/// A row of `activities`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ActivityRow {
    id: Uuid,
    title: String,
    description: String,
    instructions: String,
    subject: String,
    difficulty: String,
    tags: Vec<String>,
    evaluation_criteria: Vec<String>,
    policies: serde_json::Value,
    owner_id: Uuid,
    status: String,
    published_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<ActivityRow> for Activity {
    type Error = PortError;

    fn try_from(row: ActivityRow) -> Result<Self, Self::Error> {
        const T: &str = "activity";
        let id = row.id;
        Ok(Activity {
            id,
            content: ActivityDraft {
                title: row.title,
                description: row.description,
                instructions: row.instructions,
                subject: row.subject,
                difficulty: parse(T, id, "difficulty", &row.difficulty)?,
                tags: row.tags,
                evaluation_criteria: row.evaluation_criteria,
                policies: from_json(T, id, "policies", row.policies)?,
            },
            owner_id: row.owner_id,
            status: parse(T, id, "status", &row.status)?,
            published_at: row.published_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// The columns of `study_sessions`, in [`StudySessionRow`] order.
macro_rules! study_session_columns {
    () => {
        "id, student_id, activity_id, mode, simulator_type, status, interaction_count, \
         started_at, ended_at"
    };
}
pub(crate) use study_session_columns;

/// A row of `study_sessions`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct StudySessionRow {
    id: Uuid,
    student_id: Uuid,
    activity_id: Uuid,
    mode: String,
    simulator_type: Option<String>,
    status: String,
    interaction_count: i64,
    started_at: DateTime<Utc>,
    ended_at: Option<DateTime<Utc>>,
}

impl TryFrom<StudySessionRow> for StudySession {
    type Error = PortError;

    fn try_from(row: StudySessionRow) -> Result<Self, Self::Error> {
        const T: &str = "study session";
        let id = row.id;
        Ok(StudySession {
            id,
            student_id: row.student_id,
            activity_id: row.activity_id,
            mode: parse(T, id, "mode", &row.mode)?,
            simulator_type: row
                .simulator_type
                .as_deref()
                .map(|s| parse(T, id, "simulator type", s))
                .transpose()?,
            status: parse(T, id, "status", &row.status)?,
            interaction_count: small(T, id, "interaction count", row.interaction_count)?,
            started_at: row.started_at,
            ended_at: row.ended_at,
        })
    }
}

/// The columns of `evaluations`, in [`EvaluationRow`] order.
macro_rules! evaluation_columns {
    () => {
        "id, session_id, student_id, overall_score, competency_level, dimensions, \
         ai_dependency_score, key_strengths, improvement_areas, created_at"
    };
}
pub(crate) use evaluation_columns;

/// A row of `evaluations`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct EvaluationRow {
    id: Uuid,
    session_id: Uuid,
    student_id: Uuid,
    overall_score: f64,
    competency_level: String,
    dimensions: serde_json::Value,
    ai_dependency_score: f64,
    key_strengths: serde_json::Value,
    improvement_areas: serde_json::Value,
    created_at: DateTime<Utc>,
}

impl TryFrom<EvaluationRow> for Evaluation {
    type Error = PortError;

    fn try_from(row: EvaluationRow) -> Result<Self, Self::Error> {
        const T: &str = "evaluation";
        let id = row.id;
        Ok(Evaluation {
            id,
            session_id: row.session_id,
            student_id: row.student_id,
            overall_score: row.overall_score,
            competency_level: parse(T, id, "competency level", &row.competency_level)?,
            dimensions: from_json(T, id, "dimensions", row.dimensions)?,
            ai_dependency_score: row.ai_dependency_score,
            key_strengths: from_json(T, id, "key strengths", row.key_strengths)?,
            improvement_areas: from_json(T, id, "improvement areas", row.improvement_areas)?,
            created_at: row.created_at,
        })
    }
}

/// The columns of `interactions`, in [`InteractionRow`] order.
macro_rules! interaction_columns {
    () => {
        "id, session_id, seq, prompt, response, agent, intent, help_level, blocked, cache_hit, \
         provider, model, tokens_in, tokens_out, latency_ms, created_at"
    };
}
pub(crate) use interaction_columns;

/// A row of `interactions`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct InteractionRow {
    id: Uuid,
    session_id: Uuid,
    seq: i64,
    prompt: String,
    response: String,
    agent: String,
    intent: String,
    help_level: String,
    blocked: bool,
    cache_hit: bool,
    provider: String,
    model: String,
    tokens_in: i64,
    tokens_out: i64,
    latency_ms: i64,
    created_at: DateTime<Utc>,
}

impl TryFrom<InteractionRow> for Interaction {
    type Error = PortError;

    fn try_from(row: InteractionRow) -> Result<Self, Self::Error> {
        const T: &str = "interaction";
        let id = row.id;
        Ok(Interaction {
            id,
            session_id: row.session_id,
            seq: small(T, id, "seq", row.seq)?,
            prompt: row.prompt,
            response: row.response,
            agent: parse(T, id, "agent", &row.agent)?,
            intent: parse(T, id, "intent", &row.intent)?,
            help_level: parse(T, id, "help level", &row.help_level)?,
            blocked: row.blocked,
            cache_hit: row.cache_hit,
            provider: row.provider,
            model: row.model,
            tokens_in: small(T, id, "tokens_in", row.tokens_in)?,
            tokens_out: small(T, id, "tokens_out", row.tokens_out)?,
            latency_ms: u64::try_from(row.latency_ms).map_err(|e| corrupt(T, id, "latency", e))?,
            created_at: row.created_at,
        })
    }
}

/// The columns of `cognitive_traces`, in [`TraceRow`] order.
macro_rules! trace_columns {
    () => {
        "id, session_id, interaction_id, level, kind, cognitive_state, ai_involvement, agent, \
         summary, data, created_at"
    };
}
pub(crate) use trace_columns;

/// A row of `cognitive_traces`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct TraceRow {
    id: Uuid,
    session_id: Uuid,
    interaction_id: Uuid,
    level: String,
    kind: String,
    cognitive_state: String,
    ai_involvement: f64,
    agent: String,
    summary: String,
    data: serde_json::Value,
    created_at: DateTime<Utc>,
}

impl TryFrom<TraceRow> for CognitiveTrace {
    type Error = PortError;

    fn try_from(row: TraceRow) -> Result<Self, Self::Error> {
        const T: &str = "trace";
        let id = row.id;
        Ok(CognitiveTrace {
            id,
            session_id: row.session_id,
            interaction_id: row.interaction_id,
            level: parse(T, id, "level", &row.level)?,
            kind: parse(T, id, "kind", &row.kind)?,
            cognitive_state: parse(T, id, "cognitive state", &row.cognitive_state)?,
            ai_involvement: row.ai_involvement,
            agent: parse(T, id, "agent", &row.agent)?,
            summary: row.summary,
            data: row.data,
            created_at: row.created_at,
        })
    }
}

/// The columns of `risks`, in [`RiskRow`] order.
macro_rules! risk_columns {
    () => {
        "id, session_id, student_id, interaction_id, dimension, kind, level, description, \
         evidence_key, evidence, resolved_at, resolved_by, resolution_note, created_at"
    };
}
pub(crate) use risk_columns;

/// A row of `risks`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct RiskRow {
    id: Uuid,
    session_id: Uuid,
    student_id: Uuid,
    interaction_id: Option<Uuid>,
    dimension: String,
    kind: String,
    level: String,
    description: String,
    evidence_key: String,
    evidence: serde_json::Value,
    resolved_at: Option<DateTime<Utc>>,
    resolved_by: Option<Uuid>,
    resolution_note: Option<String>,
    created_at: DateTime<Utc>,
}

impl TryFrom<RiskRow> for Risk {
    type Error = PortError;

    fn try_from(row: RiskRow) -> Result<Self, Self::Error> {
        const T: &str = "risk";
        let id = row.id;
        Ok(Risk {
            id,
            session_id: row.session_id,
            student_id: row.student_id,
            interaction_id: row.interaction_id,
            dimension: parse(T, id, "dimension", &row.dimension)?,
            kind: parse(T, id, "kind", &row.kind)?,
            level: parse(T, id, "level", &row.level)?,
            description: row.description,
            evidence_key: row.evidence_key,
            evidence: row.evidence,
            resolved_at: row.resolved_at,
            resolved_by: row.resolved_by,
            resolution_note: row.resolution_note,
            created_at: row.created_at,
        })
    }
}

/// Converts every row, failing on the first corrupt one.
pub(crate) fn convert<R, T>(rows: Vec<R>) -> PortResult<Vec<T>>
where
    T: TryFrom<R, Error = PortError>,
{
    rows.into_iter().map(T::try_from).collect()
}
