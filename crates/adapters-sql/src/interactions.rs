//! [`InteractionRepository`]: interactions with their traces and risks.

use std::collections::HashMap;

use ainative_domain::{CognitiveTrace, Interaction, Page, Paginated, Risk, TraceLevel};
use ainative_ports::{
    Conflict, InteractionRecord, InteractionRepository, PortError, PortResult, RuleState,
    TraceSelection,
};
use async_trait::async_trait;
use uuid::Uuid;

use crate::columns::{read_all, read_one, Columns};
use crate::dialect::{Conn, DbRow, Dialect, DialectSql};
use crate::error::map_err;
use crate::lists::{count, offset};
use crate::statement::{AsJson, SqlBuilder, Stmt};
use crate::store::SqlStore;
use crate::tutoring_rows::{
    interaction, interaction_columns, risk, risk_columns, trace, trace_columns,
};

/// The page of a session's traces, optionally one level; `$1` session, `$2` level or NULL.
static TRACES: DialectSql = DialectSql::new(|syntax| {
    format!(
        "SELECT {} FROM cognitive_traces WHERE session_id = $1 AND ($2 IS NULL OR level = $2) \
         ORDER BY created_at, level, {} LIMIT $3 OFFSET $4",
        trace_columns!(),
        syntax.trace_position
    )
});

/// Every trace of a session, oldest first.
static ALL_TRACES: DialectSql = DialectSql::new(|syntax| {
    format!(
        "SELECT {} FROM cognitive_traces WHERE session_id = $1 \
         ORDER BY created_at, level, {}",
        trace_columns!(),
        syntax.trace_position
    )
});

/// Why no `seq` could be taken: the session is missing, not active, at its limit, or moved
/// past the rule state the caller read (`expected` count).
async fn rejection<D: Dialect>(
    conn: &mut Conn<D>,
    session_id: Uuid,
    max_interactions: Option<u32>,
    expected: Option<i64>,
) -> PortResult<PortError> {
    let row = Stmt::<D>::new("SELECT status, interaction_count FROM study_sessions WHERE id = $1")
        .bind(session_id)
        .fetch_optional(conn)
        .await?;
    let Some(row) = row else {
        return Ok(PortError::NotFound);
    };
    let mut columns = Columns::<D>::new(&row, "study session");
    let status: String = columns.get()?;
    let count: i64 = columns.get()?;
    Ok(if status != "active" {
        PortError::Conflict(Conflict::SessionNotActive)
    } else if max_interactions.is_some_and(|max| count >= i64::from(max)) {
        PortError::Conflict(Conflict::InteractionLimit)
    } else if expected.is_some_and(|expected| expected != count) {
        PortError::Conflict(Conflict::StaleTurnState)
    } else {
        PortError::Conflict(Conflict::InteractionLimit)
    })
}

/// Takes the next `seq` of an active session under its limit; with a rule state, only if the
/// count is still the one the state was built on, storing the state with it.
async fn take_seq<D: Dialect>(
    conn: &mut Conn<D>,
    session_id: Uuid,
    max_interactions: Option<u32>,
    state: Option<&RuleState>,
) -> PortResult<Option<DbRow<D>>> {
    let max = max_interactions.map(i64::from);
    match state {
        None => {
            Stmt::<D>::new(
                "UPDATE study_sessions SET interaction_count = interaction_count + 1 \
                 WHERE id = $1 AND status = 'active' \
                 AND ($2 IS NULL OR interaction_count < $2) RETURNING interaction_count",
            )
            .bind(session_id)
            .bind(max)
            .fetch_optional(conn)
            .await
        }
        Some(state) => {
            Stmt::<D>::new(
                "UPDATE study_sessions SET interaction_count = interaction_count + 1, \
                 rule_state = $3, rule_state_turns = interaction_count + 1 \
                 WHERE id = $1 AND status = 'active' \
                 AND ($2 IS NULL OR interaction_count < $2) AND interaction_count = $4 \
                 RETURNING interaction_count",
            )
            .bind(session_id)
            .bind(max)
            .bind(AsJson(&state.data))
            .bind(i64::from(state.turns) - 1)
            .fetch_optional(conn)
            .await
        }
    }
}

async fn insert_interaction<D: Dialect>(
    conn: &mut Conn<D>,
    interaction: &Interaction,
    seq: i64,
) -> PortResult<Interaction> {
    let row = Stmt::<D>::new(concat!(
        "INSERT INTO interactions (id, session_id, seq, prompt, response, agent, intent, \
         help_level, blocked, cache_hit, provider, model, tokens_in, tokens_out, latency_ms, \
         sources, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
         $14, $15, $16, $17) RETURNING ",
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
    .bind(i64::try_from(interaction.latency_ms).unwrap_or(i64::MAX))
    .bind(AsJson(&interaction.sources))
    .bind(interaction.created_at)
    .fetch_one(conn)
    .await?;
    read_one(&row, "interaction", self::interaction::<D>)
}

/// Rows per multi-row `INSERT`, far below the bind-parameter limits of both databases.
const ROWS_PER_INSERT: usize = 100;

/// Inserts the traces with one statement per [`ROWS_PER_INSERT`] rows; returns them as
/// stored, in the order given.
async fn insert_traces<D: Dialect>(
    conn: &mut Conn<D>,
    traces: &[CognitiveTrace],
) -> PortResult<Vec<CognitiveTrace>> {
    let mut stored = Vec::with_capacity(traces.len());
    for chunk in traces.chunks(ROWS_PER_INSERT) {
        let mut query = SqlBuilder::<D>::new(
            "INSERT INTO cognitive_traces (id, session_id, interaction_id, level, kind, \
             cognitive_state, ai_involvement, agent, summary, data, created_at) ",
        );
        query.push_values(chunk, |row, trace| {
            row.bind(trace.id)
                .bind(trace.session_id)
                .bind(trace.interaction_id)
                .bind(trace.level.as_str())
                .bind(trace.kind.as_str())
                .bind(trace.cognitive_state.as_str())
                .bind(trace.ai_involvement)
                .bind(trace.agent.as_str())
                .bind(&trace.summary)
                .bind(AsJson(&trace.data))
                .bind(trace.created_at);
        });
        query.push(concat!(" RETURNING ", trace_columns!()));
        let rows = query.build().fetch_all(conn).await?;
        stored.extend(read_all(&rows, "trace", trace::<D>)?);
    }
    Ok(in_given_order(stored, traces, |t| t.id))
}

/// Inserts the risks, skipping any whose (session, kind, evidence key) is already stored;
/// returns those inserted, in the order given.
async fn insert_risks<D: Dialect>(conn: &mut Conn<D>, risks: &[Risk]) -> PortResult<Vec<Risk>> {
    let mut stored = Vec::with_capacity(risks.len());
    for chunk in risks.chunks(ROWS_PER_INSERT) {
        let mut query = SqlBuilder::<D>::new(
            "INSERT INTO risks (id, session_id, student_id, interaction_id, dimension, kind, \
             level, description, evidence_key, evidence, resolved_at, resolved_by, \
             resolution_note, created_at) ",
        );
        query.push_values(chunk, |row, risk| {
            row.bind(risk.id)
                .bind(risk.session_id)
                .bind(risk.student_id)
                .bind(risk.interaction_id)
                .bind(risk.dimension.as_str())
                .bind(risk.kind.as_str())
                .bind(risk.level.as_str())
                .bind(&risk.description)
                .bind(&risk.evidence_key)
                .bind(AsJson(&risk.evidence))
                .bind(risk.resolved_at)
                .bind(risk.resolved_by)
                .bind(risk.resolution_note.as_deref())
                .bind(risk.created_at);
        });
        query.push(concat!(
            " ON CONFLICT (session_id, kind, evidence_key) DO NOTHING RETURNING ",
            risk_columns!()
        ));
        let rows = query.build().fetch_all(conn).await?;
        stored.extend(read_all(&rows, "risk", risk::<D>)?);
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
impl<D: Dialect> InteractionRepository for SqlStore<D> {
    async fn record(
        &self,
        record: InteractionRecord,
        max_interactions: Option<u32>,
    ) -> PortResult<InteractionRecord> {
        self.call("interactions.record", async {
            let session_id = record.interaction.session_id;
            let mut tx = self.begin_write().await?;
            // Taking the seq serialises concurrent records on one session (PostgreSQL locks
            // the session row, SQLite's transaction holds the write lock): each checks the
            // status and the limit against the committed count.
            let state = record.rule_state.as_ref();
            let seq = take_seq::<D>(&mut tx, session_id, max_interactions, state).await?;
            let Some(seq) = seq else {
                let expected = state.map(|s| i64::from(s.turns) - 1);
                return Err(rejection::<D>(&mut tx, session_id, max_interactions, expected).await?);
            };
            let seq: i64 = Columns::<D>::new(&seq, "study session").get()?;
            let interaction = insert_interaction::<D>(&mut tx, &record.interaction, seq).await?;
            let traces = insert_traces::<D>(&mut tx, &record.traces).await?;
            let risks = insert_risks::<D>(&mut tx, &record.risks).await?;
            tx.commit().await.map_err(map_err::<D>)?;
            Ok(InteractionRecord {
                interaction,
                traces,
                risks,
                rule_state: record.rule_state,
            })
        })
        .await
    }

    async fn rule_state(&self, session_id: Uuid) -> PortResult<Option<RuleState>> {
        self.call("interactions.rule_state", async {
            let row = Stmt::<D>::new(
                "SELECT interaction_count, \
                 CASE WHEN COALESCE(rule_state_turns, 0) = interaction_count \
                 THEN COALESCE(rule_state, '{}') ELSE 'null' END \
                 FROM study_sessions WHERE id = $1",
            )
            .bind(session_id)
            .fetch_optional(&mut *self.conn().await?)
            .await?;
            let Some(row) = row else {
                return Ok(None);
            };
            let mut columns = Columns::<D>::new(&row, "study session");
            let turns = columns.small("interaction_count")?;
            let data = columns.json()?;
            Ok(Some(RuleState { turns, data }))
        })
        .await
    }

    async fn list(&self, session_id: Uuid, page: Page) -> PortResult<Paginated<Interaction>> {
        self.call("interactions.list", async {
            let mut conn = self.conn().await?;
            let rows = Stmt::<D>::new(concat!(
                "SELECT ",
                interaction_columns!(),
                " FROM interactions WHERE session_id = $1 ORDER BY seq LIMIT $2 OFFSET $3"
            ))
            .bind(session_id)
            .bind(i64::from(page.limit()))
            .bind(offset(page))
            .fetch_all(&mut conn)
            .await?;
            let total = Stmt::<D>::new("SELECT COUNT(*) FROM interactions WHERE session_id = $1")
                .bind(session_id)
                .fetch_one(&mut conn)
                .await?;
            Ok(Paginated::new(
                read_all(&rows, "interaction", interaction::<D>)?,
                count::<D>(&total)?,
                page,
            ))
        })
        .await
    }

    async fn recent(&self, session_id: Uuid, limit: u32) -> PortResult<Vec<Interaction>> {
        let newest = Stmt::new(concat!(
            "SELECT ",
            interaction_columns!(),
            " FROM interactions WHERE session_id = $1 ORDER BY seq DESC LIMIT $2"
        ))
        .bind(session_id)
        .bind(i64::from(limit));
        let mut recent = self
            .call(
                "interactions.recent",
                self.all(newest, "interaction", interaction::<D>),
            )
            .await?;
        recent.reverse();
        Ok(recent)
    }

    async fn traces(
        &self,
        session_id: Uuid,
        level: Option<TraceLevel>,
        page: Page,
    ) -> PortResult<Paginated<CognitiveTrace>> {
        self.call("interactions.traces", async {
            let level = level.map(|l| l.as_str());
            let mut conn = self.conn().await?;
            let rows = Stmt::<D>::new(TRACES.get::<D>())
                .bind(session_id)
                .bind(level)
                .bind(i64::from(page.limit()))
                .bind(offset(page))
                .fetch_all(&mut conn)
                .await?;
            let total = Stmt::<D>::new(
                "SELECT COUNT(*) FROM cognitive_traces \
                 WHERE session_id = $1 AND ($2 IS NULL OR level = $2)",
            )
            .bind(session_id)
            .bind(level)
            .fetch_one(&mut conn)
            .await?;
            Ok(Paginated::new(
                read_all(&rows, "trace", trace::<D>)?,
                count::<D>(&total)?,
                page,
            ))
        })
        .await
    }

    async fn all_traces(&self, session_id: Uuid) -> PortResult<Vec<CognitiveTrace>> {
        let select = Stmt::new(ALL_TRACES.get::<D>()).bind(session_id);
        self.call(
            "interactions.all_traces",
            self.all(select, "trace", trace::<D>),
        )
        .await
    }

    async fn selected_traces(
        &self,
        session_id: Uuid,
        selection: &TraceSelection,
    ) -> PortResult<Vec<CognitiveTrace>> {
        if selection.levels.is_empty() && selection.kinds.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = SqlBuilder::<D>::new(concat!(
            "SELECT ",
            trace_columns!(),
            " FROM cognitive_traces WHERE session_id = "
        ));
        query.push_bind(session_id).push(" AND (");
        let mut first = true;
        let mut or = |query: &mut SqlBuilder<D>| {
            if !std::mem::take(&mut first) {
                query.push(" OR ");
            }
        };
        for level in selection.levels {
            or(&mut query);
            query.push("level = ").push_bind(level.as_str());
        }
        for kind in selection.kinds {
            or(&mut query);
            query.push("kind = ").push_bind(kind.as_str());
        }
        query
            .push(") ORDER BY created_at, level, ")
            .push(D::SYNTAX.trace_position);
        self.call(
            "interactions.selected_traces",
            self.all(query.build(), "trace", trace::<D>),
        )
        .await
    }
}
