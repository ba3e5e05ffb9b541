//! [`RiskRepository`] on PostgreSQL.

use ainative_domain::{NewAuditEntry, Page, Paginated, Risk};
use ainative_ports::{PortError, PortResult, RiskFilter, RiskRepository, RiskScope};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::audit::{count, insert_audit, offset};
use crate::error::map_err;
use crate::store::PgStore;
use crate::tutoring_rows::{convert, risk_columns, RiskRow};

/// The list filter: `$1` the activity owner (or NULL), `$2` the session (or NULL), `$3` the
/// level, `$4` the dimension, `$5` resolved or open (each or NULL).
const LIST_FILTER: &str = "WHERE ($1::UUID IS NULL OR r.session_id IN \
     (SELECT s.id FROM study_sessions s JOIN activities a ON a.id = s.activity_id \
      WHERE a.owner_id = $1)) \
     AND ($2::UUID IS NULL OR r.session_id = $2) \
     AND ($3::TEXT IS NULL OR r.level = $3) \
     AND ($4::TEXT IS NULL OR r.dimension = $4) \
     AND ($5::BOOLEAN IS NULL OR (r.resolved_at IS NOT NULL) = $5)";

/// The scope as bind values: the activity owner and the session.
fn scope(scope: RiskScope) -> (Option<Uuid>, Option<Uuid>) {
    match scope {
        RiskScope::All => (None, None),
        RiskScope::ActivityOwner(owner) => (Some(owner), None),
        RiskScope::Session(session) => (None, Some(session)),
    }
}

#[async_trait]
impl RiskRepository for PgStore {
    #[tracing::instrument(name = "db.risks.list", level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn list(&self, filter: &RiskFilter, page: Page) -> PortResult<Paginated<Risk>> {
        let (owner, session) = scope(filter.scope);
        let level = filter.level.map(|l| l.as_str());
        let dimension = filter.dimension.map(|d| d.as_str());
        let rows: Vec<RiskRow> = sqlx::query_as(&format!(
            "SELECT {} FROM risks r {LIST_FILTER} \
             ORDER BY r.created_at DESC, r.id DESC LIMIT $6 OFFSET $7",
            risk_columns!()
        ))
        .bind(owner)
        .bind(session)
        .bind(level)
        .bind(dimension)
        .bind(filter.resolved)
        .bind(i64::from(page.limit()))
        .bind(offset(page))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM risks r {LIST_FILTER}"))
            .bind(owner)
            .bind(session)
            .bind(level)
            .bind(dimension)
            .bind(filter.resolved)
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(Paginated::new(convert(rows)?, count(total), page))
    }

    #[tracing::instrument(name = "db.risks.find", level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn find(&self, id: Uuid) -> PortResult<Option<Risk>> {
        let row: Option<RiskRow> = sqlx::query_as(concat!(
            "SELECT ",
            risk_columns!(),
            " FROM risks WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        row.map(Risk::try_from).transpose()
    }

    #[tracing::instrument(name = "db.risks.for_session", level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn for_session(&self, session_id: Uuid) -> PortResult<Vec<Risk>> {
        let rows: Vec<RiskRow> = sqlx::query_as(concat!(
            "SELECT ",
            risk_columns!(),
            " FROM risks WHERE session_id = $1 ORDER BY created_at, id"
        ))
        .bind(session_id)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        convert(rows)
    }

    #[tracing::instrument(name = "db.risks.resolve", level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn resolve(
        &self,
        id: Uuid,
        resolved_by: Uuid,
        note: Option<String>,
        at: DateTime<Utc>,
        audit: NewAuditEntry,
    ) -> PortResult<Risk> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        // Of concurrent resolutions only one finds the risk open (the others wait for its row
        // lock, then re-check the condition).
        let row: Option<RiskRow> = sqlx::query_as(concat!(
            "UPDATE risks SET resolved_at = $2, resolved_by = $3, resolution_note = $4 \
             WHERE id = $1 AND resolved_at IS NULL RETURNING ",
            risk_columns!()
        ))
        .bind(id)
        .bind(at)
        .bind(resolved_by)
        .bind(note.as_deref())
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        let Some(row) = row else {
            let exists: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM risks WHERE id = $1)")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(map_err)?;
            return Err(if exists {
                PortError::Conflict("already_resolved".to_owned())
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
