//! The store: a pool and how to open it.

use std::str::FromStr;

use ainative_ports::PortError;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgPool};

use crate::error::map_err;
use crate::settings::{non_zero, redact_url, PoolSettings, PRE_PING_AFTER_IDLE};

/// The PostgreSQL implementation of the persistence ports. Cloning is cheap: clones share
/// one pool.
#[derive(Debug, Clone)]
pub struct PgStore {
    pub(crate) pool: PgPool,
}

impl PgStore {
    /// Opens a pool with `settings` and checks that the server answers.
    ///
    /// Errors: `Unavailable` when the server cannot be reached within the acquire timeout;
    /// `Other` for an invalid URL or inconsistent pool bounds.
    pub async fn connect(settings: &PoolSettings) -> Result<Self, PortError> {
        if settings.max_connections == 0 || settings.min_connections > settings.max_connections {
            return Err(PortError::Other(
                (format!(
                    "invalid pool bounds: min_connections {} and max_connections {}",
                    settings.min_connections, settings.max_connections
                ))
                .into(),
            ));
        }
        let options = PgConnectOptions::from_str(&settings.url).map_err(|e| {
            PortError::Other(
                (format!("invalid database url {}: {e}", redact_url(&settings.url))).into(),
            )
        })?;
        let mut pool_options = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .min_connections(settings.min_connections)
            .acquire_timeout(settings.acquire_timeout)
            .max_lifetime(non_zero(settings.max_lifetime))
            .idle_timeout(non_zero(settings.idle_timeout))
            .test_before_acquire(false);
        if settings.test_before_acquire {
            pool_options = pool_options.before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= PRE_PING_AFTER_IDLE {
                        // An error drops this connection; the pool hands out another.
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            });
        }
        let pool = pool_options.connect_with(options).await.map_err(map_err)?;
        tracing::debug!(url = %redact_url(&settings.url), "postgres pool open");
        Ok(Self { pool })
    }

    /// Wraps an existing pool.
    pub fn from_pool(pool: PgPool) -> Self {
        Self { pool }
    }

    /// The pool, for callers that need it (say, to close it on shutdown).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}
