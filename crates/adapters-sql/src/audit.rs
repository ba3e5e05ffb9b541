//! [`AuditLog`], and the audit insert shared by the writing repositories.

use ainative_domain::{AuditEntry, NewAuditEntry, Page, Paginated};
use ainative_ports::{AuditLog, PortResult};
use async_trait::async_trait;
use uuid::Uuid;

use crate::columns::read_all;
use crate::dialect::{Conn, Dialect};
use crate::lists::{count, offset};
use crate::rows::{audit_columns, audit_entry};
use crate::statement::{AsJson, Stmt};
use crate::store::SqlStore;

/// Writes one audit row on `conn` (inside the caller's transaction).
pub(crate) async fn insert_audit<D: Dialect>(
    conn: &mut Conn<D>,
    entry: &NewAuditEntry,
) -> PortResult<()> {
    Stmt::<D>::new(
        "INSERT INTO audit_log (id, actor_id, action, target_type, target_id, details, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(Uuid::new_v4())
    .bind(entry.actor_id)
    .bind(entry.action.as_str())
    .bind(&entry.target_type)
    .bind(entry.target_id)
    .bind(AsJson(&entry.details))
    .bind(entry.at)
    .execute(conn)
    .await?;
    Ok(())
}

#[async_trait]
impl<D: Dialect> AuditLog for SqlStore<D> {
    async fn list(&self, page: Page) -> PortResult<Paginated<AuditEntry>> {
        self.call("audit.list", async {
            let mut conn = self.conn().await?;
            let rows = Stmt::<D>::new(concat!(
                "SELECT ",
                audit_columns!(),
                " FROM audit_log ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2"
            ))
            .bind(i64::from(page.limit()))
            .bind(offset(page))
            .fetch_all(&mut conn)
            .await?;
            let total = Stmt::<D>::new("SELECT COUNT(*) FROM audit_log")
                .fetch_one(&mut conn)
                .await?;
            let items = read_all(&rows, "audit row", audit_entry::<D>)?;
            Ok(Paginated::new(items, count::<D>(&total)?, page))
        })
        .await
    }
}
