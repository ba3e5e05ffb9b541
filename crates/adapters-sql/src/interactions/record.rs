//! Recording a turn: the interaction, its traces and its risks, all or nothing.
//!
//! Where the engine allows data-modifying `WITH`s (PostgreSQL), a turn is one statement: one
//! round trip, no `BEGIN`/`COMMIT`, atomic as every statement is. Where one call may carry
//! several statements (SQLite), a transaction sends all of them in one call. A record too
//! large for one statement gets a transaction of one call per statement.

use std::collections::{HashMap, HashSet};

use ainative_domain::{CognitiveTrace, Interaction, Risk};
use ainative_ports::{Conflict, InteractionRecord, PortError, PortResult};
use chrono::SubsecRound;
use uuid::Uuid;

use crate::columns::{read_all, read_one, Columns};
use crate::dialect::{Conn, Dialect};
use crate::error::map_err;
use crate::statement::{AsJson, SqlBuilder, Stmt, ValuesRow};
use crate::store::SqlStore;
use crate::tutoring_rows::{
    interaction, interaction_columns, risk, risk_columns, trace, trace_columns,
};

/// Rows per multi-row `INSERT`, far below the bind-parameter limits of both databases.
const ROWS_PER_INSERT: usize = 100;

/// `interactions`' columns as [`interaction_values`] binds them, `seq` last.
const INTERACTION_INSERT: &str = "INSERT INTO interactions (id, session_id, prompt, response, \
     agent, intent, help_level, blocked, cache_hit, provider, model, tokens_in, tokens_out, \
     latency_ms, sources, created_at, seq) ";

/// `cognitive_traces`' columns as [`trace_values`] binds them.
const TRACE_INSERT: &str = "INSERT INTO cognitive_traces (id, session_id, interaction_id, \
     level, kind, cognitive_state, ai_involvement, agent, summary, data, created_at) ";

/// `risks`' columns as [`risk_values`] binds them.
const RISK_INSERT: &str = "INSERT INTO risks (id, session_id, student_id, interaction_id, \
     dimension, kind, level, description, evidence_key, evidence, resolved_at, resolved_by, \
     resolution_note, created_at) ";

/// The same evidence never raises a risk twice: such a risk is skipped.
const RISK_CONFLICT: &str = " ON CONFLICT (session_id, kind, evidence_key) DO NOTHING";

/// Stores `record` if the session is active, under `max_interactions` and, with a rule state,
/// still at the count the state follows.
pub(super) async fn record<D: Dialect>(
    store: &SqlStore<D>,
    record: InteractionRecord,
    max_interactions: Option<u32>,
) -> PortResult<InteractionRecord> {
    let fits = record.traces.len() <= ROWS_PER_INSERT && record.risks.len() <= ROWS_PER_INSERT;
    if !fits || !(D::WRITABLE_CTE || D::STATEMENT_BATCHES) {
        return in_transaction(store, record, max_interactions).await;
    }
    if !D::WRITABLE_CTE {
        return in_one_call(store, record, max_interactions).await;
    }
    let mut conn = store.conn().await?;
    match at_once::<D>(&mut conn, &record, max_interactions).await? {
        Some((seq, inserted_risks)) => Ok(as_stored::<D>(record, seq, &inserted_risks)),
        None => {
            let expected = expected_count(&record);
            let session_id = record.interaction.session_id;
            Err(rejection::<D>(&mut conn, session_id, max_interactions, expected).await?)
        }
    }
}

/// The session's `interaction_count` a record's rule state was built on.
fn expected_count(record: &InteractionRecord) -> Option<i64> {
    record.rule_state.as_ref().map(|s| i64::from(s.turns) - 1)
}

/// The transaction: take the seq (which locks the session: PostgreSQL's row lock, SQLite's
/// write lock), then insert, then commit.
async fn in_transaction<D: Dialect>(
    store: &SqlStore<D>,
    record: InteractionRecord,
    max_interactions: Option<u32>,
) -> PortResult<InteractionRecord> {
    let session_id = record.interaction.session_id;
    let mut tx = store.begin_write().await?;
    let mut take = SqlBuilder::<D>::new("");
    push_take_seq(&mut take, &record, max_interactions);
    let Some(seq) = take.build().fetch_optional(&mut tx).await? else {
        let expected = expected_count(&record);
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
}

/// The transaction in one call (engines that run a batch of statements in order): the
/// statements as one write batch, which the store wraps in a transaction (alone or with
/// the turns queued beside it). A one-writer engine then holds its writer for one hand-off
/// to the engine instead of six.
///
/// The seq is taken first; the interaction is inserted only if it was (`changes()` still
/// counts the `UPDATE` while the next statement runs), the traces and risks only if the
/// interaction was.
async fn in_one_call<D: Dialect>(
    store: &SqlStore<D>,
    record: InteractionRecord,
    max_interactions: Option<u32>,
) -> PortResult<InteractionRecord> {
    let session_id = record.interaction.session_id;
    let mut q = SqlBuilder::<D>::new("");
    push_take_seq(&mut q, &record, max_interactions);
    q.push("; ")
        .push(INTERACTION_INSERT)
        .push("SELECT v.*, s.interaction_count FROM (")
        .push_values([&record.interaction], interaction_values)
        .push(") AS v JOIN study_sessions AS s ON s.id = ")
        .push_bind(session_id)
        .push(" WHERE changes() = 1");
    if !record.traces.is_empty() {
        q.push("; ")
            .push(TRACE_INSERT)
            .push("SELECT * FROM (")
            .push_values(&record.traces, trace_values)
            .push(") AS v");
        push_if_inserted(&mut q, record.interaction.id);
    }
    if !record.risks.is_empty() {
        q.push("; ")
            .push(RISK_INSERT)
            .push("SELECT * FROM (")
            .push_values(&record.risks, risk_values)
            .push(") AS v");
        push_if_inserted(&mut q, record.interaction.id);
        q.push(RISK_CONFLICT).push(" RETURNING id");
    }
    // The seq's row, then one row per risk inserted; none when no seq was taken.
    let rows = store.write_batch(q.build()).await?;
    let Some((seq_row, risk_rows)) = rows.split_first() else {
        let expected = expected_count(&record);
        let mut conn = store.conn().await?;
        return Err(rejection::<D>(&mut conn, session_id, max_interactions, expected).await?);
    };
    let seq: i64 = Columns::<D>::new(seq_row, "study session").get()?;
    let mut inserted = HashSet::with_capacity(risk_rows.len());
    for row in risk_rows {
        inserted.extend(Columns::<D>::new(row, "risk").opt_uuid()?);
    }
    Ok(as_stored::<D>(record, seq, &inserted))
}

/// ` WHERE EXISTS (the interaction)`: a batch's later inserts happen only if it was stored.
fn push_if_inserted<D: Dialect>(q: &mut SqlBuilder<D>, interaction_id: Uuid) {
    q.push(" WHERE EXISTS (SELECT 1 FROM interactions WHERE id = ")
        .push_bind(interaction_id)
        .push(")");
}

/// The whole record in one statement: `s` takes the seq, `i`, `t` and `r` insert, each only
/// if `s` did. Returns the seq and the ids of the risks inserted; `None` when no seq was
/// taken (nothing written).
async fn at_once<D: Dialect>(
    conn: &mut Conn<D>,
    record: &InteractionRecord,
    max_interactions: Option<u32>,
) -> PortResult<Option<(i64, HashSet<Uuid>)>> {
    let mut q = SqlBuilder::<D>::new("WITH s AS (");
    push_take_seq(&mut q, record, max_interactions);
    q.push("), i AS (")
        .push(INTERACTION_INSERT)
        .push("SELECT v.*, s.interaction_count FROM (")
        .push_values([&record.interaction], interaction_values)
        .push(") AS v CROSS JOIN s RETURNING seq)");
    if !record.traces.is_empty() {
        q.push(", t AS (")
            .push(TRACE_INSERT)
            .push("SELECT * FROM (")
            .push_values(&record.traces, trace_values)
            .push(") AS v WHERE EXISTS (SELECT 1 FROM i))");
    }
    if record.risks.is_empty() {
        q.push(" SELECT i.seq FROM i");
    } else {
        q.push(", r AS (")
            .push(RISK_INSERT)
            .push("SELECT * FROM (")
            .push_values(&record.risks, risk_values)
            .push(") AS v WHERE EXISTS (SELECT 1 FROM i)")
            .push(RISK_CONFLICT)
            .push(" RETURNING id) SELECT i.seq, r.id FROM i LEFT JOIN r ON TRUE");
    }
    let rows = q.build().fetch_all(conn).await?;
    let mut seq = None;
    let mut inserted = HashSet::new();
    for row in &rows {
        let mut columns = Columns::<D>::new(row, "interaction");
        seq = Some(columns.get::<i64>()?);
        if !record.risks.is_empty() {
            inserted.extend(columns.then("risk").opt_uuid()?);
        }
    }
    Ok(seq.map(|seq| (seq, inserted)))
}

/// `record` as stored without reading it back: its seq, the risks inserted, and times to
/// the digits the database keeps (what a later read returns).
fn as_stored<D: Dialect>(
    mut record: InteractionRecord,
    seq: i64,
    inserted_risks: &HashSet<Uuid>,
) -> InteractionRecord {
    let digits = D::TIME_DIGITS;
    let interaction = &mut record.interaction;
    interaction.seq = u32::try_from(seq).unwrap_or(u32::MAX);
    interaction.created_at = interaction.created_at.trunc_subsecs(digits);
    for trace in &mut record.traces {
        trace.created_at = trace.created_at.trunc_subsecs(digits);
    }
    record.risks.retain(|r| inserted_risks.contains(&r.id));
    for risk in &mut record.risks {
        risk.created_at = risk.created_at.trunc_subsecs(digits);
        risk.resolved_at = risk.resolved_at.map(|at| at.trunc_subsecs(digits));
    }
    record
}

/// `UPDATE … RETURNING interaction_count`: the next seq of an active session under its
/// limit; with a rule state, only if the count is still the one the state was built on,
/// storing the state with it.
fn push_take_seq<D: Dialect>(
    q: &mut SqlBuilder<D>,
    record: &InteractionRecord,
    max_interactions: Option<u32>,
) {
    let max = max_interactions.map(i64::from);
    q.push("UPDATE study_sessions SET interaction_count = interaction_count + 1");
    if let Some(state) = &record.rule_state {
        q.push(", rule_state = ")
            .push_bind(AsJson(&state.data))
            .push(", rule_state_turns = interaction_count + 1");
    }
    q.push(" WHERE id = ")
        .push_bind(record.interaction.session_id)
        .push(" AND status = 'active' AND (")
        .push_bind(max)
        .push(" IS NULL OR interaction_count < ")
        .push_bind(max)
        .push(")");
    if let Some(expected) = expected_count(record) {
        q.push(" AND interaction_count = ").push_bind(expected);
    }
    q.push(" RETURNING interaction_count");
}

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

/// The values of [`INTERACTION_INSERT`] but `seq`.
fn interaction_values<D: Dialect>(row: &mut ValuesRow<'_, D>, interaction: &Interaction) {
    row.bind(interaction.id)
        .bind(interaction.session_id)
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
        .bind(interaction.created_at);
}

/// The values of [`TRACE_INSERT`].
fn trace_values<D: Dialect>(row: &mut ValuesRow<'_, D>, trace: &CognitiveTrace) {
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
}

/// The values of [`RISK_INSERT`].
fn risk_values<D: Dialect>(row: &mut ValuesRow<'_, D>, risk: &Risk) {
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
}

async fn insert_interaction<D: Dialect>(
    conn: &mut Conn<D>,
    interaction: &Interaction,
    seq: i64,
) -> PortResult<Interaction> {
    let mut q = SqlBuilder::<D>::new(INTERACTION_INSERT);
    q.push_values([interaction], |row, interaction| {
        interaction_values(row, interaction);
        row.bind(seq);
    });
    q.push(concat!(" RETURNING ", interaction_columns!()));
    let row = q.build().fetch_one(conn).await?;
    read_one(&row, "interaction", self::interaction::<D>)
}

/// Inserts the traces with one statement per [`ROWS_PER_INSERT`] rows; returns them as
/// stored, in the order given.
async fn insert_traces<D: Dialect>(
    conn: &mut Conn<D>,
    traces: &[CognitiveTrace],
) -> PortResult<Vec<CognitiveTrace>> {
    let mut stored = Vec::with_capacity(traces.len());
    for chunk in traces.chunks(ROWS_PER_INSERT) {
        let mut q = SqlBuilder::<D>::new(TRACE_INSERT);
        q.push_values(chunk, trace_values);
        q.push(concat!(" RETURNING ", trace_columns!()));
        let rows = q.build().fetch_all(conn).await?;
        stored.extend(read_all(&rows, "trace", trace::<D>)?);
    }
    Ok(in_given_order(stored, traces, |t| t.id))
}

/// Inserts the risks, skipping any whose (session, kind, evidence key) is already stored;
/// returns those inserted, in the order given.
async fn insert_risks<D: Dialect>(conn: &mut Conn<D>, risks: &[Risk]) -> PortResult<Vec<Risk>> {
    let mut stored = Vec::with_capacity(risks.len());
    for chunk in risks.chunks(ROWS_PER_INSERT) {
        let mut q = SqlBuilder::<D>::new(RISK_INSERT);
        q.push_values(chunk, risk_values);
        q.push(RISK_CONFLICT);
        q.push(concat!(" RETURNING ", risk_columns!()));
        let rows = q.build().fetch_all(conn).await?;
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
