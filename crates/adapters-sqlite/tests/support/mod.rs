//! Per-test SQLite databases: a file in a fresh temporary directory (so WAL and concurrent
//! connections are exercised), removed with the directory when the guard is dropped.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use ainative_adapters_sqlite::{PoolSettings, SqliteStore};
use ainative_ports::SchemaManager;
use uuid::Uuid;

/// A temporary directory, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates nothing yet: the store creates the directory itself.
    pub fn new() -> Self {
        Self(std::env::temp_dir().join(format!("ainative-sqlite-{}", Uuid::new_v4().simple())))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

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
pub async fn store() -> (SqliteStore, TempDir) {
    let dir = TempDir::new();
    let file = dir.path().join("nested").join("test.db");
    let store = SqliteStore::connect(&settings(&file))
        .await
        .expect("open the test database");
    store.migrate_up().await.expect("migrate the test database");
    (store, dir)
}
