//! Opening the database: the file (and its directory) when missing, and the settings every
//! connection gets.

use std::str::FromStr;
use std::time::Duration;

use ainative_adapters_sql::{invalid_url, pool_options, port_error};
use ainative_ports::pool::PoolSettings;
use ainative_ports::PortError;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool};

use crate::SqliteDialect;

/// How long a statement waits for another connection's write lock before `SQLITE_BUSY`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens a pool with `settings`: WAL journal mode, `synchronous = NORMAL`, foreign keys on
/// and a busy timeout of five seconds on every connection.
pub(crate) async fn open(settings: &PoolSettings) -> Result<SqlitePool, PortError> {
    let options = SqliteConnectOptions::from_str(&settings.url)
        .map_err(|e| invalid_url(settings, e))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT);
    if !is_in_memory(&settings.url) {
        if let Some(dir) = options.get_filename().parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    PortError::unavailable_from(
                        format!("cannot create database directory {}", dir.display()),
                        e,
                    )
                })?;
            }
        }
    }
    // Checkouts are never pinged (`DB_POOL_PRE_PING` is ignored): an in-process database
    // has no connection to lose, and a ping would only add a hand-off to the connection's
    // worker thread to every checkout.
    pool_options::<Sqlite>(settings)
        .connect_with(options)
        .await
        .map_err(port_error::<SqliteDialect>)
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
