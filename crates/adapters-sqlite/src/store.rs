//! The store: a pool and how to open it.

use std::str::FromStr;
use std::time::Duration;

use ainative_ports::PortError;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

use crate::error::map_err;
use crate::settings::{non_zero, redact_url, PoolSettings};

/// How long a statement waits for another connection's write lock before `SQLITE_BUSY`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The SQLite implementation of the persistence ports. Cloning is cheap: clones share one
/// pool.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pub(crate) pool: SqlitePool,
}

impl SqliteStore {
    /// Opens a pool with `settings`: creates the database file (and its directory) when
    /// missing, and sets WAL journal mode, `synchronous = NORMAL`, foreign keys on and a
    /// busy timeout of five seconds on every connection.
    ///
    /// Errors: `Unavailable` when the file cannot be opened or created; `Other` for an
    /// invalid URL or inconsistent pool bounds.
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
        let options = SqliteConnectOptions::from_str(&settings.url)
            .map_err(|e| {
                PortError::Other(
                    (format!("invalid database url {}: {e}", redact_url(&settings.url))).into(),
                )
            })?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        if !is_in_memory(&settings.url) {
            if let Some(dir) = options.get_filename().parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        PortError::Unavailable(
                            (format!("cannot create database directory {}: {e}", dir.display()))
                                .into(),
                        )
                    })?;
                }
            }
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(settings.max_connections)
            .min_connections(settings.min_connections)
            .acquire_timeout(settings.acquire_timeout)
            .max_lifetime(non_zero(settings.max_lifetime))
            .idle_timeout(non_zero(settings.idle_timeout))
            // An in-process database has no connection to lose: a ping would only add a
            // hand-off to the connection's worker thread to every checkout.
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(map_err)?;
        tracing::debug!(url = %redact_url(&settings.url), "sqlite pool open");
        Ok(Self { pool })
    }

    /// Wraps an existing pool. Its connections should have foreign keys on and a busy
    /// timeout, as [`SqliteStore::connect`] sets them.
    pub fn from_pool(pool: SqlitePool) -> Self {
        Self { pool }
    }

    /// The pool, for callers that need it (say, to close it on shutdown).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Starts a write transaction that holds the write lock from its first statement, so it
    /// never needs a lock upgrade (waiting, if need be, up to the busy timeout).
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, PortError> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_err)
    }
}

/// True for URLs of in-memory databases, which have no file to create.
fn is_in_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

#[cfg(test)]
mod tests {
    use super::is_in_memory;

    #[test]
    fn recognises_memory_urls() {
        assert!(is_in_memory("sqlite::memory:"));
        assert!(is_in_memory("sqlite://x.db?mode=memory"));
        assert!(!is_in_memory("sqlite://data/ainative.db"));
    }
}
