//! How SQLite stores and spells what the SQL store needs.

use std::future::Future;

use ainative_adapters_sql::{Dialect, Engine, Infix, Syntax};
use ainative_ports::pool::PoolSettings;
use ainative_ports::PortError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::error::BoxDynError;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteArguments, SqliteQueryResult, SqliteRow};
use sqlx::types::Json;
use sqlx::{Arguments, Row, Sqlite, SqlitePool};
use uuid::Uuid;

/// Every migration of SQLite, embedded at build time.
static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/sqlite");

/// The SQLite dialect: UUIDs as hyphenated text (sqlx would bind a bare UUID as a blob,
/// which the STRICT tables refuse), lists as JSON arrays, documents as JSON text.
#[derive(Debug, Clone, Copy)]
pub struct SqliteDialect;

/// The result codes whose primary code means "try again later" or "cannot reach the file":
/// `SQLITE_BUSY`, `SQLITE_LOCKED`, `SQLITE_IOERR`, `SQLITE_FULL` (the disk; PostgreSQL's
/// class 53 likewise), `SQLITE_CANTOPEN`.
const TRANSIENT_PRIMARY_CODES: [i32; 5] = [5, 6, 10, 13, 14];

impl Dialect for SqliteDialect {
    type Db = Sqlite;

    const ENGINE: Engine = Engine::Sqlite;
    const BACKEND: &'static str = "sqlite";
    const SYSTEM: &'static str = "sqlite";
    // A write transaction takes the write lock at once: it never upgrades a read lock, and
    // concurrent writers queue for it (up to the busy timeout).
    const BEGIN_WRITE: Option<&'static str> = Some("BEGIN IMMEDIATE");
    const WRITABLE_CTE: bool = false;
    const STATEMENT_BATCHES: bool = true;
    const TIME_DIGITS: u16 = 9;
    const ONE_WRITER: bool = true;
    const MIGRATIONS_TABLE_EXISTS: &'static str = "SELECT EXISTS (SELECT 1 FROM sqlite_master \
         WHERE type = 'table' AND name = '_sqlx_migrations')";
    const SYNTAX: Syntax = Syntax {
        list_contains: Infix {
            before: "EXISTS (SELECT 1 FROM json_each(",
            between: ") WHERE json_each.value = ",
            after: ")",
        },
        // `users.username` is declared COLLATE NOCASE: a plain `=` compares without case
        // and uses its unique index.
        caseless_equals: Infix {
            before: "",
            between: " = ",
            after: "",
        },
        // The unary `+` keeps the planner from a multi-index OR (every match, then a sort).
        no_index: "+",
        trace_position: "rowid",
        // `BEGIN IMMEDIATE` already serialises writers.
        skip_locked: "",
        // No notifications: workers of other processes poll.
        job_notify: "",
    };

    fn migrator() -> &'static Migrator {
        &MIGRATOR
    }

    fn open(settings: &PoolSettings) -> impl Future<Output = Result<SqlitePool, PortError>> + Send {
        crate::pool::open(settings)
    }

    fn bind_uuid(args: &mut SqliteArguments, value: Option<Uuid>) -> Result<(), BoxDynError> {
        args.add(value.map(|id| id.hyphenated()))
    }

    fn read_uuid(row: &SqliteRow, index: usize) -> Result<Option<Uuid>, sqlx::Error> {
        // Parsed from the borrowed text: no copy of it.
        let text: Option<&str> = row.try_get(index)?;
        text.map(Uuid::parse_str)
            .transpose()
            .map_err(|e| undecodable(index, e))
    }

    fn bind_texts(args: &mut SqliteArguments, value: Option<&[String]>) -> Result<(), BoxDynError> {
        args.add(value.map(Json))
    }

    fn read_texts(row: &SqliteRow, index: usize) -> Result<Vec<String>, sqlx::Error> {
        row.try_get::<Json<Vec<String>>, _>(index)
            .map(Json::into_inner)
    }

    /// Documents are TEXT: bound as their JSON text.
    fn bind_json<T: Serialize + Sync + ?Sized>(
        args: &mut SqliteArguments,
        document: &T,
    ) -> Result<(), BoxDynError> {
        let text = serde_json::to_string(document)?;
        args.add(text)
    }

    /// Parsed from the borrowed text: no copy of it.
    fn read_json<T: DeserializeOwned>(row: &SqliteRow, index: usize) -> Result<T, sqlx::Error> {
        let text: &str = row.try_get(index)?;
        serde_json::from_str(text).map_err(|e| undecodable(index, e))
    }

    fn rows_affected(done: &SqliteQueryResult) -> u64 {
        done.rows_affected()
    }

    /// Extended result codes carry the primary code in their low byte.
    fn is_transient(code: &str) -> bool {
        code.parse::<i32>()
            .is_ok_and(|code| TRANSIENT_PRIMARY_CODES.contains(&(code & 0xff)))
    }
}

/// Column `index` holds text that is not what it should be.
fn undecodable(index: usize, err: impl std::error::Error + Send + Sync + 'static) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: index.to_string(),
        source: Box::new(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_locked_and_io_codes_are_transient() {
        assert!(SqliteDialect::is_transient("5"));
        assert!(SqliteDialect::is_transient("517")); // SQLITE_BUSY_SNAPSHOT
        assert!(SqliteDialect::is_transient("6"));
        assert!(SqliteDialect::is_transient("13")); // SQLITE_FULL
        assert!(!SqliteDialect::is_transient("2067")); // SQLITE_CONSTRAINT_UNIQUE
        assert!(!SqliteDialect::is_transient("1"));
    }
}
