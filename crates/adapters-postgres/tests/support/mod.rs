//! Per-test PostgreSQL databases.
//!
//! Every test gets a database of its own, `ainative_test_<uuid>`, created on the server at
//! `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`), migrated, and
//! dropped when the returned guard goes out of scope, even when the test fails. An unreachable
//! server fails the test with a clear message; it never skips it.

#![allow(dead_code)]

use std::time::Duration;

use ainative_adapters_postgres::{PgStore, PoolSettings};
use ainative_ports::SchemaManager;
use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection};
use uuid::Uuid;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The server the tests use.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// `url` pointing at database `name` instead.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

async fn admin_connection(url: &str) -> PgConnection {
    match PgConnection::connect(url).await {
        Ok(conn) => conn,
        Err(err) => panic!(
            "PostgreSQL is not reachable at {url}: {err}. These tests need a server: start \
             one (trust auth) or point TEST_DATABASE_URL at one."
        ),
    }
}

/// A test database; dropped (`WITH (FORCE)`) when this guard is dropped.
pub struct TestDb {
    admin_url: String,
    name: String,
    /// URL of the test database.
    pub url: String,
}

impl TestDb {
    /// Creates an empty database.
    pub async fn create() -> Self {
        let admin_url = admin_url();
        let name = format!("ainative_test_{}", Uuid::new_v4().simple());
        let mut admin = admin_connection(&admin_url).await;
        admin
            .execute(AssertSqlSafe(format!(r#"CREATE DATABASE "{name}""#)))
            .await
            .expect("create the test database");
        let _ = admin.close().await;
        let url = with_database(&admin_url, &name);
        Self {
            admin_url,
            name,
            url,
        }
    }

    /// Pool settings for this database.
    pub fn settings(&self) -> PoolSettings {
        PoolSettings {
            max_connections: 8,
            min_connections: 0,
            acquire_timeout: Duration::from_secs(30),
            ..PoolSettings::new(self.url.clone())
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let statement = format!(r#"DROP DATABASE IF EXISTS "{}" WITH (FORCE)"#, self.name);
        // Drop cannot be async, and may run inside a runtime: use a thread with its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async move {
                let mut admin = PgConnection::connect(&admin_url)
                    .await
                    .map_err(|e| e.to_string())?;
                admin
                    .execute(AssertSqlSafe(statement))
                    .await
                    .map_err(|e| e.to_string())?;
                admin.close().await.map_err(|e| e.to_string())
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(err)) => eprintln!("could not drop test database {}: {err}", self.name),
            Err(_) => eprintln!("dropping test database {} panicked", self.name),
        }
    }
}

/// A migrated store on a fresh database, and the guard that drops it.
pub async fn store() -> (PgStore, TestDb) {
    let db = TestDb::create().await;
    let store = PgStore::connect(&db.settings())
        .await
        .expect("connect to the test database");
    store.migrate_up().await.expect("migrate the test database");
    (store, db)
}
