//! [`ServerErrorLog`]: the newest server errors of every instance, in one bounded table.

use ainative_ports::{PortResult, ServerError, ServerErrorLog, SERVER_ERRORS_KEPT};
use async_trait::async_trait;

use crate::columns::Columns;
use crate::dialect::Dialect;
use crate::error::map_err;
use crate::statement::{SqlBuilder, Stmt};
use crate::store::SqlStore;

/// Rows per multi-row `INSERT`.
const ROWS_PER_INSERT: usize = 100;

/// A server error from `id, instance, request_id, method, route, status, detail,
/// occurred_at`.
fn server_error<D: Dialect>(c: &mut Columns<'_, D>) -> PortResult<ServerError> {
    let id = c.id()?;
    let instance = c.get()?;
    let request_id = c.get()?;
    let method = c.get()?;
    let route = c.get()?;
    let status: i64 = c.get()?;
    Ok(ServerError {
        id,
        instance,
        request_id,
        method,
        route,
        status: u16::try_from(status).map_err(|e| c.corrupt("status", e))?,
        detail: c.get()?,
        occurred_at: c.get()?,
    })
}

#[async_trait]
impl<D: Dialect> ServerErrorLog for SqlStore<D> {
    async fn record(&self, errors: &[ServerError]) -> PortResult<()> {
        self.call("server_errors.record", async {
            if errors.is_empty() {
                return Ok(());
            }
            let mut tx = self.begin_write().await?;
            for chunk in errors.chunks(ROWS_PER_INSERT) {
                let mut query = SqlBuilder::<D>::new(
                    "INSERT INTO server_errors (id, instance, request_id, method, route, status, \
                     detail, occurred_at) ",
                );
                query.push_values(chunk, |row, error| {
                    row.bind(error.id)
                        .bind(&error.instance)
                        .bind(&error.request_id)
                        .bind(&error.method)
                        .bind(&error.route)
                        .bind(i64::from(error.status))
                        .bind(&error.detail)
                        .bind(error.occurred_at);
                });
                query.push(" ON CONFLICT (id) DO NOTHING");
                query.build().execute(&mut tx).await?;
            }
            // `seq` grows with every insert: all but the newest rows go, by the primary key.
            Stmt::<D>::new(
                "DELETE FROM server_errors \
                 WHERE seq <= (SELECT MAX(seq) FROM server_errors) - $1",
            )
            .bind(i64::from(SERVER_ERRORS_KEPT))
            .execute(&mut tx)
            .await?;
            tx.commit().await.map_err(map_err::<D>)
        })
        .await
    }

    async fn recent(&self, limit: u32) -> PortResult<Vec<ServerError>> {
        let select = Stmt::new(
            "SELECT id, instance, request_id, method, route, status, detail, occurred_at \
             FROM server_errors ORDER BY occurred_at DESC, seq DESC LIMIT $1",
        )
        .bind(i64::from(limit));
        self.call(
            "server_errors.recent",
            self.all(select, "server error", server_error::<D>),
        )
        .await
    }
}
