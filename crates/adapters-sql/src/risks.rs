//! [`RiskRepository`].

use ainative_domain::{NewAuditEntry, Page, Paginated, Risk};
use ainative_ports::{Conflict, PortError, PortResult, RiskFilter, RiskRepository, RiskScope};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::audit::insert_audit;
use crate::columns::{read_one, Columns};
use crate::dialect::Dialect;
use crate::error::map_err;
use crate::lists::{and, counted_page, offset};
use crate::statement::{SqlBuilder, Stmt};
use crate::store::SqlStore;
use crate::tutoring_rows::{risk as risk_row, risk_columns};

/// Pushes the `WHERE` clause of the filters that are set (none when none is), so that each
/// combination gets SQL of its own and a plan that can use an index.
fn push_filter<D: Dialect>(q: &mut SqlBuilder<D>, filter: &RiskFilter) {
    let mut first = true;
    match filter.scope {
        RiskScope::All => {}
        RiskScope::ActivityOwner(owner) => {
            q.push(and(&mut first))
                .push(
                    "r.session_id IN (SELECT s.id FROM study_sessions s \
                     JOIN activities a ON a.id = s.activity_id WHERE a.owner_id = ",
                )
                .push_bind(owner)
                .push(")");
        }
        RiskScope::Session(session) => {
            q.push(and(&mut first))
                .push("r.session_id = ")
                .push_bind(session);
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

#[async_trait]
impl<D: Dialect> RiskRepository for SqlStore<D> {
    async fn list(&self, filter: &RiskFilter, page: Page) -> PortResult<Paginated<Risk>> {
        // The total rides along as a column (an uncorrelated subquery, evaluated once): one
        // statement per page.
        let mut q = SqlBuilder::<D>::new(concat!(
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
        let count = || {
            let mut q = SqlBuilder::<D>::new("SELECT COUNT(*) FROM risks r");
            push_filter(&mut q, filter);
            q.build()
        };
        self.call("risks.list", async {
            let mut conn = self.conn().await?;
            let (items, total) =
                counted_page::<D, _>(&mut conn, q.build(), "risk", risk_row::<D>, count).await?;
            Ok(Paginated::new(items, total, page))
        })
        .await
    }

    async fn find(&self, id: Uuid) -> PortResult<Option<Risk>> {
        let find = Stmt::new(concat!(
            "SELECT ",
            risk_columns!(),
            " FROM risks WHERE id = $1"
        ))
        .bind(id);
        self.call("risks.find", self.optional(find, "risk", risk_row::<D>))
            .await
    }

    async fn for_session(&self, session_id: Uuid) -> PortResult<Vec<Risk>> {
        let select = Stmt::new(concat!(
            "SELECT ",
            risk_columns!(),
            " FROM risks WHERE session_id = $1 ORDER BY created_at, id"
        ))
        .bind(session_id);
        self.call("risks.for_session", self.all(select, "risk", risk_row::<D>))
            .await
    }

    async fn resolve(
        &self,
        id: Uuid,
        resolved_by: Uuid,
        note: Option<String>,
        at: DateTime<Utc>,
        audit: NewAuditEntry,
    ) -> PortResult<Risk> {
        self.call("risks.resolve", async {
            let mut tx = self.begin_write().await?;
            // Of concurrent resolutions only one finds the risk open (PostgreSQL: the others
            // wait for its row lock, then re-check; SQLite: the transaction holds the write
            // lock).
            let row = Stmt::<D>::new(concat!(
                "UPDATE risks SET resolved_at = $2, resolved_by = $3, resolution_note = $4 \
                 WHERE id = $1 AND resolved_at IS NULL RETURNING ",
                risk_columns!()
            ))
            .bind(id)
            .bind(at)
            .bind(resolved_by)
            .bind(note.as_deref())
            .fetch_optional(&mut tx)
            .await?;
            let Some(row) = row else {
                let exists = Stmt::<D>::new("SELECT EXISTS (SELECT 1 FROM risks WHERE id = $1)")
                    .bind(id)
                    .fetch_one(&mut tx)
                    .await?;
                return Err(if Columns::<D>::new(&exists, "risk").get::<bool>()? {
                    PortError::Conflict(Conflict::AlreadyResolved)
                } else {
                    PortError::NotFound
                });
            };
            let risk = read_one(&row, "risk", risk_row::<D>)?;
            insert_audit::<D>(&mut tx, &audit).await?;
            tx.commit().await.map_err(map_err::<D>)?;
            Ok(risk)
        })
        .await
    }
}
