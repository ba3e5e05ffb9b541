//! Per-test SQLite databases, from `ainative-test-support`: a file in a fresh temporary
//! directory (so WAL and concurrent connections are exercised), removed with the guard.

#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use ainative_adapters_sqlite::{PoolSettings, SqliteStore};
use ainative_ports::SchemaManager;
pub use ainative_test_support::TestSqlite;

/// Pool settings for a database file at `path`.
pub fn settings(path: &Path) -> PoolSettings {
    PoolSettings {
        max_connections: 8,
        min_connections: 0,
        acquire_timeout: Duration::from_secs(30),
        ..PoolSettings::new(format!("sqlite://{}", path.display()))
    }
}

/// A migrated store in a new file (in a directory that does not exist yet), and the guard
/// that removes it.
pub async fn store() -> (SqliteStore, TestSqlite) {
    let db = TestSqlite::new();
    let store = SqliteStore::connect(&settings(db.file()))
        .await
        .expect("open the test database");
    store.migrate_up().await.expect("migrate the test database");
    (store, db)
}
