//! Opening the pool.

use std::str::FromStr;

use ainative_adapters_sql::{invalid_url, pool_options, port_error};
use ainative_ports::pool::PoolSettings;
use ainative_ports::PortError;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgPool, Postgres};

use crate::PgDialect;

/// Opens a pool with `settings` and checks that the server answers. With pre-ping on, a
/// connection idle for `pre_ping_after_idle` or longer is pinged before use; one that fails
/// is dropped and another handed out.
pub(crate) async fn open(settings: &PoolSettings) -> Result<PgPool, PortError> {
    let options =
        PgConnectOptions::from_str(&settings.url).map_err(|e| invalid_url(settings, e))?;
    let mut pool = pool_options::<Postgres>(settings);
    if settings.test_before_acquire {
        let after_idle = settings.pre_ping_after_idle;
        pool = pool.before_acquire(move |conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= after_idle {
                    conn.ping().await?;
                }
                Ok(true)
            })
        });
    }
    pool.connect_with(options)
        .await
        .map_err(port_error::<PgDialect>)
}
