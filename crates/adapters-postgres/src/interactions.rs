//! [`InteractionRepository`] on PostgreSQL: interactions with their traces and risks.

use std::collections::HashMap;

use ainative_domain::{CognitiveTrace, Interaction, Page, Paginated, Risk, TraceLevel};
use ainative_ports::{
    InteractionRecord, InteractionRepository, PortError, PortResult, TraceSelection,
};
use async_trait::async_trait;
use sqlx::{PgConnection, Postgres, QueryBuilder};
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
        Some("active") => PortError::Conflict(ainative_ports::Conflict::InteractionLimit),
        Some(_) => PortError::Conflict(ainative_ports::Conflict::SessionNotActive),
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

/// Rows per multi-row `INSERT`, far below the bind-parameter limits of both databases.
const ROWS_PER_INSERT: usize = 100;

/// Inserts the traces with one statement per [`ROWS_PER_INSERT`] rows; returns them as
/// stored, in the order given.
async fn insert_traces(
    conn: &mut PgConnection,
    traces: &[CognitiveTrace],
) -> PortResult<Vec<CognitiveTrace>> {
    let mut stored = Vec::with_capacity(traces.len());
    for chunk in traces.chunks(ROWS_PER_INSERT) {
        let mut query = QueryBuilder::<Postgres>::new(
            "INSERT INTO cognitive_traces (id, session_id, interaction_id, level, kind, \
             cognitive_state, ai_involvement, agent, summary, data, created_at) ",
        );
        query.push_values(chunk, |mut row, trace| {
            row.push_bind(trace.id)
                .push_bind(trace.session_id)
                .push_bind(trace.interaction_id)
                .push_bind(trace.level.as_str())
                .push_bind(trace.kind.as_str())
                .push_bind(trace.cognitive_state.as_str())
                .push_bind(trace.ai_involvement)
                .push_bind(trace.agent.as_str())
                .push_bind(&trace.summary)
                .push_bind(&trace.data)
                .push_bind(trace.created_at);
        });
        query.push(concat!(" RETURNING ", trace_columns!()));
        let rows: Vec<TraceRow> = query
            .build_query_as()
            .fetch_all(&mut *conn)
            .await
            .map_err(map_err)?;
        stored.extend(convert::<_, CognitiveTrace>(rows)?);
    }
    Ok(in_given_order(stored, traces, |t| t.id))
}

/// Inserts the risks, skipping any whose (session, kind, evidence key) is already stored;
/// returns those inserted, in the order given.
async fn insert_risks(conn: &mut PgConnection, risks: &[Risk]) -> PortResult<Vec<Risk>> {
    let mut stored = Vec::with_capacity(risks.len());
    for chunk in risks.chunks(ROWS_PER_INSERT) {
        let mut query = QueryBuilder::<Postgres>::new(
            "INSERT INTO risks (id, session_id, student_id, interaction_id, dimension, kind, \
             level, description, evidence_key, evidence, resolved_at, resolved_by, \
             resolution_note, created_at) ",
        );
        query.push_values(chunk, |mut row, risk| {
            row.push_bind(risk.id)
                .push_bind(risk.session_id)
                .push_bind(risk.student_id)
                .push_bind(risk.interaction_id)
                .push_bind(risk.dimension.as_str())
                .push_bind(risk.kind.as_str())
                .push_bind(risk.level.as_str())
                .push_bind(&risk.description)
                .push_bind(&risk.evidence_key)
                .push_bind(&risk.evidence)
                .push_bind(risk.resolved_at)
                .push_bind(risk.resolved_by)
                .push_bind(risk.resolution_note.as_deref())
                .push_bind(risk.created_at);
        });
        query.push(concat!(
            " ON CONFLICT (session_id, kind, evidence_key) DO NOTHING RETURNING ",
            risk_columns!()
        ));
        let rows: Vec<RiskRow> = query
            .build_query_as()
            .fetch_all(&mut *conn)
            .await
            .map_err(map_err)?;
        stored.extend(convert::<_, Risk>(rows)?);
    }
    Ok(in_given_order(stored, risks, |r| r.id))
}

/// `RETURNING` promises no order: put the stored rows back in the order of the input.
fn in_given_order<T>(mut stored: Vec<T>, given: &[T], id: impl Fn(&T) -> Uuid) -> Vec<T> {
    let position: HashMap<Uuid, usize> = given
        .iter()
        .enumerate()
        .map(|(i, item)| (id(item), i))
        .collect();
    stored.sort_by_key(|item| position.get(&id(item)).copied().unwrap_or(usize::MAX));
    stored
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
        let traces = insert_traces(&mut tx, &record.traces).await?;
        let risks = insert_risks(&mut tx, &record.risks).await?;
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

    #[tracing::instrument(name = "db.interactions.selected_traces", level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn selected_traces(
        &self,
        session_id: Uuid,
        selection: &TraceSelection,
    ) -> PortResult<Vec<CognitiveTrace>> {
        if selection.levels.is_empty() && selection.kinds.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = QueryBuilder::<Postgres>::new(concat!(
            "SELECT ",
            trace_columns!(),
            " FROM cognitive_traces WHERE session_id = "
        ));
        query.push_bind(session_id).push(" AND (");
        let mut any = query.separated(" OR ");
        for level in selection.levels {
            any.push("level = ").push_bind_unseparated(level.as_str());
        }
        for kind in selection.kinds {
            any.push("kind = ").push_bind_unseparated(kind.as_str());
        }
        query.push(") ORDER BY created_at, level, position");
        let rows: Vec<TraceRow> = query
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        convert(rows)
    }
}
