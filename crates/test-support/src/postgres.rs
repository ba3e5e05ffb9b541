//! A PostgreSQL database per test.
//!
//! [`TestDatabase::create`] makes an empty database named `ainative_test_<unix secs>_<uuid>` on
//! the server of `TEST_DATABASE_URL` (default [`DEFAULT_ADMIN_URL`]); the caller connects to
//! [`TestDatabase::url`] and migrates it. Dropping the guard drops the database `WITH
//! (FORCE)`, also when the test panics. A run that is killed cannot drop anything, so the
//! first database a test process creates sweeps away test databases older than
//! [`stale_after`] (their age is read from their name). An unreachable server fails the
//! test with a clear message; it never skips it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::{Connection, Executor, PgConnection};
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::aside::block_on_aside;

/// The server the tests use when `TEST_DATABASE_URL` is not set.
pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Every test database's name starts with this.
pub const NAME_PREFIX: &str = "ainative_test_";

/// The server-level URL test databases are created from: `TEST_DATABASE_URL`, or the default.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned())
}

/// How old a test database must be before a later run drops it: `TEST_DATABASE_STALE_HOURS`
/// (default 6), so a database of a test still running elsewhere is never swept.
pub fn stale_after() -> Duration {
    let hours = std::env::var("TEST_DATABASE_STALE_HOURS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(6);
    Duration::from_secs(hours * 3_600)
}

/// `url` pointing at database `name` instead (query parameters are kept).
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

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The creation time (unix seconds) written in a test database's name, if it is one.
pub fn created_at(name: &str) -> Option<u64> {
    let rest = name.strip_prefix(NAME_PREFIX)?;
    let (secs, id) = rest.split_once('_')?;
    (id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| secs.parse().ok())
        .flatten()
}

/// Dynamic DDL as a `&'static str`: `CREATE/DROP DATABASE` take no bind parameters, and a
/// static string is accepted as SQL by sqlx 0.8 and 0.9 alike. Leaks a few bytes per test.
fn ddl(statement: String) -> &'static str {
    Box::leak(statement.into_boxed_str())
}

async fn connect_admin(url: &str) -> PgConnection {
    match PgConnection::connect(url).await {
        Ok(conn) => conn,
        Err(err) => panic!(
            "PostgreSQL is not reachable at {url}: {err}. These tests need a server: start one \
             (trust auth) or point TEST_DATABASE_URL at one whose user may create databases."
        ),
    }
}

/// Drops the test databases older than [`stale_after`]; returns their names.
pub async fn sweep_stale(admin: &mut PgConnection) -> Vec<String> {
    let pattern = format!("{}%", NAME_PREFIX.replace('_', "\\_"));
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE $1")
            .bind(pattern)
            .fetch_all(&mut *admin)
            .await
            .unwrap_or_default();
    let oldest_kept = unix_now().saturating_sub(stale_after().as_secs());
    let mut dropped = Vec::new();
    for name in names {
        if created_at(&name).is_some_and(|at| at < oldest_kept) {
            let statement = ddl(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#));
            if admin.execute(statement).await.is_ok() {
                dropped.push(name);
            }
        }
    }
    dropped
}

/// A database of one test; dropped with this guard.
#[derive(Debug)]
pub struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDatabase {
    /// Creates an empty database (sweeping stale ones first, once per process).
    pub async fn create() -> Self {
        static SWEPT: OnceCell<()> = OnceCell::const_new();
        let admin_url = admin_url();
        let mut admin = connect_admin(&admin_url).await;
        SWEPT
            .get_or_init(|| async {
                let dropped = sweep_stale(&mut admin).await;
                if !dropped.is_empty() {
                    eprintln!("dropped {} stale test databases", dropped.len());
                }
            })
            .await;
        let name = format!("{NAME_PREFIX}{}_{}", unix_now(), Uuid::new_v4().simple());
        admin
            .execute(ddl(format!(r#"CREATE DATABASE "{name}""#)))
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let _ = admin.close().await;
        let url = with_database(&admin_url, &name);
        Self {
            admin_url,
            name,
            url,
        }
    }

    /// The URL of the database (`postgres://…/ainative_test_…`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let statement = ddl(format!(
            r#"DROP DATABASE IF EXISTS "{}" WITH (FORCE)"#,
            self.name
        ));
        let dropped = block_on_aside(async move {
            let mut admin = PgConnection::connect(&admin_url)
                .await
                .map_err(|e| e.to_string())?;
            admin.execute(statement).await.map_err(|e| e.to_string())?;
            admin.close().await.map_err(|e| e.to_string())
        });
        match dropped {
            Some(Ok(())) => {}
            Some(Err(err)) => eprintln!("could not drop test database {}: {err}", self.name),
            None => eprintln!("dropping test database {} panicked", self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_database_replaces_only_the_path() {
        assert_eq!(
            with_database("postgres://u@h:5432/postgres?sslmode=disable", "x"),
            "postgres://u@h:5432/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }

    #[test]
    fn created_at_reads_only_our_names() {
        let id = Uuid::new_v4().simple().to_string();
        assert_eq!(
            created_at(&format!("ainative_test_1700000000_{id}")),
            Some(1_700_000_000)
        );
        assert_eq!(created_at(&format!("ainative_test_{id}")), None);
        assert_eq!(created_at("ainative_test_12_short"), None);
        assert_eq!(created_at("postgres"), None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_database_exists_until_the_guard_drops_even_on_panic() {
        let db = TestDatabase::create().await;
        let name = db.name().to_owned();
        let mut conn = PgConnection::connect(db.url()).await.expect("connect");
        let one: i32 = sqlx::query_scalar("SELECT 1")
            .fetch_one(&mut conn)
            .await
            .expect("query");
        assert_eq!(one, 1);
        // The open connection does not keep the drop from happening (WITH (FORCE)).
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            let _db = db;
            panic!("a failing test");
        }));
        assert!(panicked.is_err());
        assert!(!exists(&name).await, "{name} survived its guard");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stale_database_is_swept_and_a_fresh_one_kept() {
        let admin_url = admin_url();
        let mut admin = connect_admin(&admin_url).await;
        let old = format!(
            "{NAME_PREFIX}{}_{}",
            unix_now() - stale_after().as_secs() - 60,
            Uuid::new_v4().simple()
        );
        admin
            .execute(ddl(format!(r#"CREATE DATABASE "{old}""#)))
            .await
            .expect("create");
        let fresh = TestDatabase::create().await;
        let dropped = sweep_stale(&mut admin).await;
        assert!(dropped.contains(&old), "{dropped:?}");
        assert!(!exists(&old).await);
        assert!(exists(fresh.name()).await);
    }

    async fn exists(name: &str) -> bool {
        let mut admin = connect_admin(&admin_url()).await;
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM pg_database WHERE datname = $1")
            .bind(name)
            .fetch_one(&mut admin)
            .await
            .expect("count")
            == 1
    }
}
