//! [`InteractionRepository`]: interactions with their traces and risks.

mod record;

use ainative_domain::{CognitiveTrace, Interaction, Page, Paginated, TraceLevel};
use ainative_ports::{
    InteractionRecord, InteractionRepository, Past, PortResult, RuleState, TraceSelection,
};
use async_trait::async_trait;
use uuid::Uuid;

use crate::columns::{read_all, Columns};
use crate::dialect::{Dialect, DialectSql};
use crate::lists::{count, offset};
use crate::statement::{SqlBuilder, Stmt};
use crate::store::SqlStore;
use crate::tutoring_rows::{interaction, interaction_columns, trace, trace_columns};

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

/// A session's `interaction_count` and its last `$2` interactions, newest first (one row
/// with NULL interaction columns when it has none); the first row only also carries the
/// rule state (the state stored for that count, `{}` before the first interaction, JSON
/// `null` when none is current), so a turn's read sends it once, not once per interaction.
/// `$1` is the session.
const PAST: &str = concat!(
    "SELECT s.interaction_count, CASE WHEN ROW_NUMBER() OVER (ORDER BY i.seq DESC) = 1 \
     THEN s.rule_state END, i.* FROM (SELECT interaction_count, \
     CASE WHEN COALESCE(rule_state_turns, 0) = interaction_count \
     THEN COALESCE(rule_state, '{}') ELSE 'null' END AS rule_state \
     FROM study_sessions WHERE id = $1) s \
     LEFT JOIN (SELECT ",
    interaction_columns!(),
    " FROM interactions WHERE session_id = $1 ORDER BY seq DESC LIMIT $2) i ON 1 = 1 \
     ORDER BY i.seq DESC"
);

#[async_trait]
impl<D: Dialect> InteractionRepository for SqlStore<D> {
    async fn record(
        &self,
        record: InteractionRecord,
        max_interactions: Option<u32>,
    ) -> PortResult<InteractionRecord> {
        self.call(
            "interactions.record",
            record::record(self, record, max_interactions),
        )
        .await
    }

    async fn past(&self, session_id: Uuid, limit: u32) -> PortResult<Option<Past>> {
        let select = Stmt::<D>::new(PAST).bind(session_id).bind(i64::from(limit));
        self.call("interactions.past", async {
            let rows = select.fetch_all(&mut *self.conn().await?).await?;
            let Some(first) = rows.first() else {
                return Ok(None);
            };
            let mut columns = Columns::<D>::new(first, "study session");
            let rule_state = RuleState {
                turns: columns.small("interaction_count")?,
                data: columns.json()?,
            };
            let mut recent = Vec::with_capacity(rows.len());
            for row in rows.iter().rev() {
                let mut columns = Columns::<D>::new(row, "study session");
                columns.skip(2);
                if columns.next_uuid_is_null()? {
                    break;
                }
                recent.push(interaction::<D>(columns.then("interaction"))?);
            }
            Ok(Some(Past { recent, rule_state }))
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
