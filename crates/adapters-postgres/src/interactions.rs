//! [`InteractionRepository`] on PostgreSQL: interactions with their traces and risks.

use ainative_domain::{CognitiveTrace, Interaction, Page, Paginated, Risk, TraceLevel};
use ainative_ports::{InteractionRecord, InteractionRepository, PortError, PortResult};
use async_trait::async_trait;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::audit::{count, offset};
use crate::error::map_err;
use crate::store::PgStore;
use crate::tutoring_rows::{
    big, convert, interaction_columns, risk_columns, trace_columns, InteractionRow, RiskRow,
    TraceRow,
};

/// Why no `seq` could be taken: the session is missing, not active, or at its limit.
async fn rejection(conn: &mut PgConnection, session_id: Uuid) -> PortResult<PortError> {
    let status: Option<String> =
        sqlx::query_scalar("SELECT status FROM study_sessions WHERE id = $1")
            .bind(session_id)
            .fetch_optional(conn)
            .await
            .map_err(map_err)?;
    Ok(match status.as_deref() {
        None => PortError::NotFound,
        Some("active") => PortError::Conflict("max_interactions".to_owned()),
        Some(_) => PortError::Conflict("session_not_active".to_owned()),
    })
}

async fn insert_interaction(
    conn: &mut PgConnection,
    interaction: &Interaction,
    seq: i64,
) -> PortResult<Interaction> {
    let row: InteractionRow = sqlx::query_as(concat!(
        "INSERT INTO interactions (id, session_id, seq, prompt, response, agent, intent, \
         help_level, blocked, cache_hit, provider, model, tokens_in, tokens_out, latency_ms, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
         $16) RETURNING ",
        interaction_columns!()
    ))
    .bind(interaction.id)
    .bind(interaction.session_id)
    .bind(seq)
    .bind(&interaction.prompt)
    .bind(&interaction.response)
    .bind(interaction.agent.as_str())
    .bind(interaction.intent.as_str())
    .bind(interaction.help_level.as_str())
    .bind(interaction.blocked)
    .bind(interaction.cache_hit)
    .bind(&interaction.provider)
    .bind(&interaction.model)
    .bind(i64::from(interaction.tokens_in))
    .bind(i64::from(interaction.tokens_out))
    .bind(big(interaction.latency_ms))
    .bind(interaction.created_at)
    .fetch_one(conn)
    .await
    .map_err(map_err)?;
    Interaction::try_from(row)
}

async fn insert_trace(
    conn: &mut PgConnection,
    trace: &CognitiveTrace,
) -> PortResult<CognitiveTrace> {
    let row: TraceRow = sqlx::query_as(concat!(
        "INSERT INTO cognitive_traces (id, session_id, interaction_id, level, kind, \
         cognitive_state, ai_involvement, agent, summary, data, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ",
        trace_columns!()
    ))
    .bind(trace.id)
    .bind(trace.session_id)
    .bind(trace.interaction_id)
    .bind(trace.level.as_str())
    .bind(trace.kind.as_str())
    .bind(trace.cognitive_state.as_str())
    .bind(trace.ai_involvement)
    .bind(trace.agent.as_str())
    .bind(&trace.summary)
    .bind(&trace.data)
    .bind(trace.created_at)
    .fetch_one(conn)
    .await
    .map_err(map_err)?;
    CognitiveTrace::try_from(row)
}

/// Inserts a risk unless one with the same (session, kind, evidence key) is stored; returns
/// it only when inserted.
async fn insert_risk(conn: &mut PgConnection, risk: &Risk) -> PortResult<Option<Risk>> {
    let row: Option<RiskRow> = sqlx::query_as(concat!(
        "INSERT INTO risks (id, session_id, student_id, interaction_id, dimension, kind, level, \
         description, evidence_key, evidence, resolved_at, resolved_by, resolution_note, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
         ON CONFLICT (session_id, kind, evidence_key) DO NOTHING RETURNING ",
        risk_columns!()
    ))
    .bind(risk.id)
    .bind(risk.session_id)
    .bind(risk.student_id)
    .bind(risk.interaction_id)
    .bind(risk.dimension.as_str())
    .bind(risk.kind.as_str())
    .bind(risk.level.as_str())
    .bind(&risk.description)
    .bind(&risk.evidence_key)
    .bind(&risk.evidence)
    .bind(risk.resolved_at)
    .bind(risk.resolved_by)
    .bind(risk.resolution_note.as_deref())
    .bind(risk.created_at)
    .fetch_optional(conn)
    .await
    .map_err(map_err)?;
    row.map(Risk::try_from).transpose()
}

#[async_trait]
impl InteractionRepository for PgStore {
    #[tracing::instrument(name = "db.interactions.record", level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn record(
        &self,
        record: InteractionRecord,
        max_interactions: Option<u32>,
    ) -> PortResult<InteractionRecord> {
        let session_id = record.interaction.session_id;
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        // Taking the seq locks the session row: concurrent records on one session queue here
        // and each re-checks the status and the limit against the committed count.
        let seq: Option<i64> = sqlx::query_scalar(
            "UPDATE study_sessions SET interaction_count = interaction_count + 1 \
             WHERE id = $1 AND status = 'active' \
             AND ($2::BIGINT IS NULL OR interaction_count < $2) RETURNING interaction_count",
        )
        .bind(session_id)
        .bind(max_interactions.map(i64::from))
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        let Some(seq) = seq else {
            return Err(rejection(&mut tx, session_id).await?);
        };
        let interaction = insert_interaction(&mut tx, &record.interaction, seq).await?;
        let mut traces = Vec::with_capacity(record.traces.len());
        for trace in &record.traces {
            traces.push(insert_trace(&mut tx, trace).await?);
        }
        let mut risks = Vec::with_capacity(record.risks.len());
        for risk in &record.risks {
            risks.extend(insert_risk(&mut tx, risk).await?);
        }
        tx.commit().await.map_err(map_err)?;
        Ok(InteractionRecord {
            interaction,
            traces,
            risks,
        })
    }

    #[tracing::instrument(name = "db.interactions.list", level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn list(&self, session_id: Uuid, page: Page) -> PortResult<Paginated<Interaction>> {
        let rows: Vec<InteractionRow> = sqlx::query_as(concat!(
            "SELECT ",
            interaction_columns!(),
            " FROM interactions WHERE session_id = $1 ORDER BY seq LIMIT $2 OFFSET $3"
        ))
        .bind(session_id)
        .bind(i64::from(page.limit()))
        .bind(offset(page))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        let total: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM interactions WHERE session_id = $1")
                .bind(session_id)
                .fetch_one(&self.pool)
                .await
                .map_err(map_err)?;
        Ok(Paginated::new(convert(rows)?, count(total), page))
    }

    #[tracing::instrument(name = "db.interactions.recent", level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn recent(&self, session_id: Uuid, limit: u32) -> PortResult<Vec<Interaction>> {
        let rows: Vec<InteractionRow> = sqlx::query_as(concat!(
            "SELECT ",
            interaction_columns!(),
            " FROM interactions WHERE session_id = $1 ORDER BY seq DESC LIMIT $2"
        ))
        .bind(session_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        let mut recent: Vec<Interaction> = convert(rows)?;
        recent.reverse();
        Ok(recent)
    }

    #[tracing::instrument(name = "db.interactions.traces", level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn traces(
        &self,
        session_id: Uuid,
        level: Option<TraceLevel>,
        page: Page,
    ) -> PortResult<Paginated<CognitiveTrace>> {
        const FILTER: &str = "WHERE session_id = $1 AND ($2::TEXT IS NULL OR level = $2)";
        let level = level.map(|l| l.as_str());
        let rows: Vec<TraceRow> = sqlx::query_as(&format!(
            "SELECT {} FROM cognitive_traces {FILTER} \
             ORDER BY created_at, level, position LIMIT $3 OFFSET $4",
            trace_columns!()
        ))
        .bind(session_id)
        .bind(level)
        .bind(i64::from(page.limit()))
        .bind(offset(page))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        let total: i64 =
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM cognitive_traces {FILTER}"))
                .bind(session_id)
                .bind(level)
                .fetch_one(&self.pool)
                .await
                .map_err(map_err)?;
        Ok(Paginated::new(convert(rows)?, count(total), page))
    }

    #[tracing::instrument(name = "db.interactions.all_traces", level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn all_traces(&self, session_id: Uuid) -> PortResult<Vec<CognitiveTrace>> {
        let rows: Vec<TraceRow> = sqlx::query_as(concat!(
            "SELECT ",
            trace_columns!(),
            " FROM cognitive_traces WHERE session_id = $1 ORDER BY created_at, level, position"
        ))
        .bind(session_id)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        convert(rows)
    }
}
