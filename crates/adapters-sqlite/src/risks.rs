//! [`RiskRepository`] on SQLite.

use ainative_domain::{NewAuditEntry, Page, Paginated, Risk};
use ainative_ports::{PortError, PortResult, RiskFilter, RiskRepository, RiskScope};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Sqlite};
use uuid::Uuid;

use crate::audit::{and, count, insert_audit, offset};
use crate::error::map_err;
use crate::rows::id;
use crate::store::SqliteStore;
use crate::tutoring_rows::{convert, risk_columns, RiskRow};

/// Pushes the `WHERE` clause of the filters that are set (none when none is), so that each
/// combination gets SQL of its own and a plan that can use an index.
fn push_filter(q: &mut QueryBuilder<'_, Sqlite>, filter: &RiskFilter) {
    let mut first = true;
    match filter.scope {
        RiskScope::All => {}
        RiskScope::ActivityOwner(owner) => {
            q.push(and(&mut first))
                .push(
                    "r.session_id IN (SELECT s.id FROM study_sessions s \
                     JOIN activities a ON a.id = s.activity_id WHERE a.owner_id = ",
                )
                .push_bind(id(owner))
                .push(")");
        }
        RiskScope::Session(session) => {
            q.push(and(&mut first))
                .push("r.session_id = ")
                .push_bind(id(session));
        }
    }
    if let Some(level) = filter.level {
        q.push(and(&mut first))
            .push("r.level = ")
            .push_bind(level.as_str());
    }
    if let Some(dimension) = filter.dimension {
        q.push(and(&mut first))
            .push("r.dimension = ")
            .push_bind(dimension.as_str());
    }
    if let Some(resolved) = filter.resolved {
        q.push(and(&mut first)).push(if resolved {
            "r.resolved_at IS NOT NULL"
        } else {
            "r.resolved_at IS NULL"
        });
    }
}

/// A row of the page with the size of the whole list.
#[derive(Debug, sqlx::FromRow)]
struct CountedRow {
    #[sqlx(flatten)]
    row: RiskRow,
    total: i64,
}

#[async_trait]
impl RiskRepository for SqliteStore {
    #[tracing::instrument(name = "db.risks.list", level = "debug", skip_all, fields(db.system = "sqlite"))]
    async fn list(&self, filter: &RiskFilter, page: Page) -> PortResult<Paginated<Risk>> {
        // The total rides along as a column (an uncorrelated subquery, evaluated once): one
        // statement per page.
        let mut q = QueryBuilder::new(concat!(
            "SELECT ",
            risk_columns!(),
            ", (SELECT COUNT(*) FROM risks r"
        ));
        push_filter(&mut q, filter);
        q.push(") AS total FROM risks r");
        push_filter(&mut q, filter);
        q.push(" ORDER BY r.created_at DESC, r.id DESC LIMIT ")
            .push_bind(i64::from(page.limit()))
            .push(" OFFSET ")
            .push_bind(offset(page));
        let found: Vec<CountedRow> = q
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        let total = match found.first() {
            Some(first) => first.total,
            // An empty page (past the end, or nothing matches) carries no total.
            None => {
                let mut q = QueryBuilder::new("SELECT COUNT(*) FROM risks r");
                push_filter(&mut q, filter);
                q.build_query_scalar()
                    .fetch_one(&self.pool)
                    .await
                    .map_err(map_err)?
            }
        };
        let items = found
            .into_iter()
            .map(|found| Risk::try_from(found.row))
            .collect::<PortResult<Vec<_>>>()?;
        Ok(Paginated::new(items, count(total), page))
    }

    #[tracing::instrument(name = "db.risks.find", level = "debug", skip_all, fields(db.system = "sqlite"))]
    async fn find(&self, risk_id: Uuid) -> PortResult<Option<Risk>> {
        let row: Option<RiskRow> = sqlx::query_as(concat!(
            "SELECT ",
            risk_columns!(),
            " FROM risks WHERE id = ?1"
        ))
        .bind(id(risk_id))
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        row.map(Risk::try_from).transpose()
    }

    #[tracing::instrument(name = "db.risks.for_session", level = "debug", skip_all, fields(db.system = "sqlite"))]
    async fn for_session(&self, session_id: Uuid) -> PortResult<Vec<Risk>> {
        let rows: Vec<RiskRow> = sqlx::query_as(concat!(
            "SELECT ",
            risk_columns!(),
            " FROM risks WHERE session_id = ?1 ORDER BY created_at, id"
        ))
        .bind(id(session_id))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        convert(rows)
    }

    #[tracing::instrument(name = "db.risks.resolve", level = "debug", skip_all, fields(db.system = "sqlite"))]
    async fn resolve(
        &self,
        risk_id: Uuid,
        resolved_by: Uuid,
        note: Option<String>,
        at: DateTime<Utc>,
        audit: NewAuditEntry,
    ) -> PortResult<Risk> {
        let mut tx = self.begin_write().await?;
        // The transaction holds the write lock: of concurrent resolutions only one finds the
        // risk open.
        let row: Option<RiskRow> = sqlx::query_as(concat!(
            "UPDATE risks SET resolved_at = ?2, resolved_by = ?3, resolution_note = ?4 \
             WHERE id = ?1 AND resolved_at IS NULL RETURNING ",
            risk_columns!()
        ))
        .bind(id(risk_id))
        .bind(at)
        .bind(id(resolved_by))
        .bind(note.as_deref())
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        let Some(row) = row else {
            let exists: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM risks WHERE id = ?1)")
                    .bind(id(risk_id))
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(map_err)?;
            return Err(if exists {
                PortError::Conflict(ainative_ports::Conflict::AlreadyResolved)
            } else {
                PortError::NotFound
            });
        };
        let risk = Risk::try_from(row)?;
        insert_audit(&mut tx, &audit).await.map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(risk)
    }
}
