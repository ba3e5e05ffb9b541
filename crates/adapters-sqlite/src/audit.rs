//! [`AuditLog`] and the audit insert shared by the writing repositories.

use ainative_domain::{AuditEntry, NewAuditEntry, Page, Paginated};
use ainative_ports::{AuditLog, PortResult};
use async_trait::async_trait;
use sqlx::SqliteConnection;
use uuid::Uuid;

use crate::error::map_err;
use crate::rows::{id, AuditRow};
use crate::store::SqliteStore;

/// Writes one audit row on `conn` (inside the caller's transaction).
pub(crate) async fn insert_audit(
    conn: &mut SqliteConnection,
    entry: &NewAuditEntry,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (id, actor_id, action, target_type, target_id, details, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .bind(id(Uuid::new_v4()))
    .bind(entry.actor_id.map(id))
    .bind(entry.action.as_str())
    .bind(&entry.target_type)
    .bind(id(entry.target_id))
    .bind(entry.details.to_string())
    .bind(entry.at)
    .execute(conn)
    .await?;
    Ok(())
}

#[async_trait]
impl AuditLog for SqliteStore {
    #[tracing::instrument(name = "db.audit.list", level = "debug", skip_all, fields(db.system = "sqlite"))]
    async fn list(&self, page: Page) -> PortResult<Paginated<AuditEntry>> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT id, actor_id, action, target_type, target_id, details, created_at \
             FROM audit_log ORDER BY created_at DESC, id DESC LIMIT ?1 OFFSET ?2",
        )
        .bind(i64::from(page.limit()))
        .bind(offset(page))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        let items = rows
            .into_iter()
            .map(AuditEntry::try_from)
            .collect::<PortResult<Vec<_>>>()?;
        Ok(Paginated::new(items, count(total), page))
    }
}

/// ` WHERE ` before the first condition of a list query, ` AND ` before the others.
pub(crate) fn and(first: &mut bool) -> &'static str {
    if std::mem::take(first) {
        " WHERE "
    } else {
        " AND "
    }
}

/// The page offset as a bind value.
pub(crate) fn offset(page: Page) -> i64 {
    i64::try_from(page.offset()).unwrap_or(i64::MAX)
}

/// A `COUNT(*)` as the domain's total.
pub(crate) fn count(total: i64) -> u64 {
    u64::try_from(total).unwrap_or(0)
}
