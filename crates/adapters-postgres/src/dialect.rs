//! How PostgreSQL stores and spells what the SQL store needs.

use std::future::Future;

use ainative_adapters_sql::{Dialect, Engine, Infix, Syntax};
use ainative_ports::pool::PoolSettings;
use ainative_ports::PortError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::error::BoxDynError;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgArguments, PgQueryResult, PgRow};
use sqlx::types::Json;
use sqlx::{Arguments, PgPool, Postgres, Row};
use uuid::Uuid;

/// Every migration of PostgreSQL, embedded at build time.
static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/postgres");

/// The PostgreSQL dialect: native `UUID`, `TEXT[]` and `JSONB` columns.
#[derive(Debug, Clone, Copy)]
pub struct PgDialect;

impl Dialect for PgDialect {
    type Db = Postgres;

    const ENGINE: Engine = Engine::Postgres;
    const SYSTEM: &'static str = "postgresql";
    const BACKEND: &'static str = "postgres";
    const SYNTAX: Syntax = Syntax {
        // Containment, which the GIN index of `activities.tags` serves.
        list_contains: Infix {
            before: "",
            between: " @> ARRAY[",
            after: "]::TEXT[]",
        },
        // The unique index is on `lower(username)`.
        caseless_equals: Infix {
            before: "lower(",
            between: ") = lower(",
            after: ")",
        },
        no_index: "",
        trace_position: "position",
        skip_locked: " FOR UPDATE SKIP LOCKED",
        job_notify: "SELECT pg_notify('ainative_jobs', $1)",
    };
    // Row locks serialise the writers that must be: a plain `BEGIN` does.
    const BEGIN_WRITE: Option<&'static str> = None;
    const WRITABLE_CTE: bool = true;
    const STATEMENT_BATCHES: bool = false;
    const TIME_DIGITS: u16 = 6;
    const ONE_WRITER: bool = false;
    const MIGRATIONS_TABLE_EXISTS: &'static str =
        "SELECT to_regclass('_sqlx_migrations') IS NOT NULL";

    fn migrator() -> &'static Migrator {
        &MIGRATOR
    }

    fn open(settings: &PoolSettings) -> impl Future<Output = Result<PgPool, PortError>> + Send {
        crate::pool::open(settings)
    }

    fn bind_uuid(args: &mut PgArguments, value: Option<Uuid>) -> Result<(), BoxDynError> {
        args.add(value)
    }

    fn read_uuid(row: &PgRow, index: usize) -> Result<Option<Uuid>, sqlx::Error> {
        row.try_get(index)
    }

    fn bind_texts(args: &mut PgArguments, value: Option<&[String]>) -> Result<(), BoxDynError> {
        args.add(value)
    }

    fn read_texts(row: &PgRow, index: usize) -> Result<Vec<String>, sqlx::Error> {
        row.try_get(index)
    }

    fn bind_json<T: Serialize + Sync + ?Sized>(
        args: &mut PgArguments,
        value: &T,
    ) -> Result<(), BoxDynError> {
        args.add(Json(value))
    }

    fn read_json<T: DeserializeOwned>(row: &PgRow, index: usize) -> Result<T, sqlx::Error> {
        Ok(row.try_get::<Json<T>, _>(index)?.0)
    }

    fn rows_affected(done: &PgQueryResult) -> u64 {
        done.rows_affected()
    }

    /// SQLSTATE classes and codes that mean "try again later": connection exceptions (08),
    /// insufficient resources such as too many connections (53), operator intervention such
    /// as a shutdown or a cancelled statement (57), serialization failures and deadlocks
    /// (40001, 40P01).
    fn is_transient(code: &str) -> bool {
        code.starts_with("08")
            || code.starts_with("53")
            || code.starts_with("57")
            || code == "40001"
            || code == "40P01"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_sqlstates() {
        assert!(PgDialect::is_transient("08006"));
        assert!(PgDialect::is_transient("53300"));
        assert!(PgDialect::is_transient("57P01"));
        assert!(PgDialect::is_transient("40P01"));
        assert!(!PgDialect::is_transient("23505"));
    }
}
