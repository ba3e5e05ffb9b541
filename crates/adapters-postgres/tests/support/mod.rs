//! Per-test PostgreSQL databases, from `ainative-test-support`: every test gets a database
//! of its own on `TEST_DATABASE_URL`, migrated here and dropped with the guard.

#![allow(dead_code)]

use std::time::Duration;

use ainative_adapters_postgres::{PgStore, PoolSettings};
use ainative_ports::SchemaManager;
pub use ainative_test_support::TestDatabase;

/// Pool settings for `db`.
pub fn settings(db: &TestDatabase) -> PoolSettings {
    PoolSettings {
        max_connections: 8,
        min_connections: 0,
        acquire_timeout: Duration::from_secs(30),
        ..PoolSettings::new(db.url().to_owned())
    }
}

/// A migrated store on a fresh database, and the guard that drops it.
pub async fn store() -> (PgStore, TestDatabase) {
    let db = TestDatabase::create().await;
    let store = PgStore::connect(&settings(&db))
        .await
        .expect("connect to the test database");
    store.migrate_up().await.expect("migrate the test database");
    (store, db)
}
