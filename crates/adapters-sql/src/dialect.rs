//! What differs between the SQL engines, and nothing else.
//!
//! The store's SQL text and row mapping are written once, against [`Dialect`]. A dialect
//! names its sqlx [`Database`], binds and reads the few kinds of value the engines store
//! differently (UUIDs, text lists, JSON), opens the pool, maps error codes and spells the
//! handful of SQL fragments that differ ([`Syntax`]). Values both engines store alike
//! (text, integers, booleans, floats, times) are bound and read through [`Portable`], which
//! every sqlx database that can encode and decode them implements by itself.

use std::fmt;
use std::future::Future;
use std::sync::OnceLock;

use ainative_ports::pool::PoolSettings;
use ainative_ports::PortError;
use chrono::{DateTime, Utc};
use futures_core::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migrate, Migrator};
use sqlx::{
    Arguments, ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Row, SqlStr,
    Type,
};
use uuid::Uuid;

/// The bind values of a statement on dialect `D`.
pub type Args<D> = <<D as Dialect>::Db as Database>::Arguments;
/// A row read on dialect `D`.
pub type DbRow<D> = <<D as Dialect>::Db as Database>::Row;
/// A connection of dialect `D` (what a pooled connection and a transaction dereference to).
pub type Conn<D> = <<D as Dialect>::Db as Database>::Connection;
/// The outcome of a statement that returns no rows.
pub type Done<D> = <<D as Dialect>::Db as Database>::QueryResult;

/// The SQL engines there are; indexes the per-dialect texts of [`DialectSql`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// PostgreSQL.
    Postgres = 0,
    /// SQLite.
    Sqlite = 1,
}

const ENGINES: usize = 2;

/// One engine's way of storing and querying what the ports persist.
pub trait Dialect: Sized + Send + Sync + 'static {
    /// The sqlx database.
    type Db: Portable + Run + Database<Connection: Migrate, Arguments: Clone>;

    /// Which engine (selects the texts of a [`DialectSql`]).
    const ENGINE: Engine;
    /// `db.system` of the tracing spans (OpenTelemetry's name: `postgresql`, `sqlite`).
    const SYSTEM: &'static str;
    /// What [`ainative_ports::DatabaseHealth::backend`] reports: `postgres`, `sqlite`.
    const BACKEND: &'static str;
    /// The SQL fragments that differ.
    const SYNTAX: Syntax;
    /// The statement that starts a write transaction, when the engine's default `BEGIN`
    /// will not do (SQLite: `BEGIN IMMEDIATE`, so a transaction never upgrades a read lock).
    const BEGIN_WRITE: Option<&'static str>;
    /// Whether `INSERT`/`UPDATE … RETURNING` may appear in a `WITH` (PostgreSQL): a turn is
    /// then recorded with one statement instead of a transaction of four or five.
    const WRITABLE_CTE: bool;
    /// Whether one call may carry several statements and their binds (SQLite's driver runs
    /// them in order; PostgreSQL's extended protocol takes one statement per call).
    const STATEMENT_BATCHES: bool;
    /// Digits of a second the engine keeps of a time (PostgreSQL: microseconds; SQLite keeps
    /// the text sqlx writes, to the nanosecond).
    const TIME_DIGITS: u16;
    /// Whether the engine takes one writer at a time (SQLite): the store then queues its
    /// write transactions in process, so they wait in turn instead of in the engine's busy
    /// handler, which sleeps up to 100 ms between tries.
    const ONE_WRITER: bool;
    /// A query of one boolean: whether sqlx's `_sqlx_migrations` table exists.
    const MIGRATIONS_TABLE_EXISTS: &'static str;

    /// The embedded migrations of this engine.
    fn migrator() -> &'static Migrator;

    /// Opens a pool as `settings` say (their bounds are already checked) and checks that the
    /// database answers.
    ///
    /// Errors: `Unavailable` when it cannot be reached; `Other` for an invalid URL.
    fn open(
        settings: &PoolSettings,
    ) -> impl Future<Output = Result<Pool<Self::Db>, PortError>> + Send;

    /// Binds a UUID (or a typed NULL).
    fn bind_uuid(args: &mut Args<Self>, value: Option<Uuid>) -> Result<(), BoxDynError>;
    /// Reads a UUID column.
    fn read_uuid(row: &DbRow<Self>, index: usize) -> Result<Option<Uuid>, sqlx::Error>;
    /// Binds a list of texts (or a typed NULL).
    fn bind_texts(args: &mut Args<Self>, value: Option<&[String]>) -> Result<(), BoxDynError>;
    /// Reads a list-of-texts column.
    fn read_texts(row: &DbRow<Self>, index: usize) -> Result<Vec<String>, sqlx::Error>;
    /// Binds a JSON document.
    fn bind_json<T: Serialize + Sync + ?Sized>(
        args: &mut Args<Self>,
        value: &T,
    ) -> Result<(), BoxDynError>;
    /// Reads a JSON column into `T`.
    fn read_json<T: DeserializeOwned>(row: &DbRow<Self>, index: usize) -> Result<T, sqlx::Error>;
    /// How many rows a statement changed.
    fn rows_affected(done: &Done<Self>) -> u64;
    /// True for the error codes that mean "try again later" (the server is shutting down,
    /// out of connections, the database is locked…): reported as `Unavailable`.
    fn is_transient(code: &str) -> bool;
}

/// SQL fragments that differ between engines. Each is used where the other engine's
/// spelling would not parse or would not use the intended index.
#[derive(Debug, Clone, Copy)]
pub struct Syntax {
    /// "the list column `left` contains the text `right`".
    pub list_contains: Infix,
    /// "the text column `left` equals `right`, ignoring case", spelled so that the column's
    /// case-insensitive unique index applies.
    pub caseless_equals: Infix,
    /// Written before a column of a condition that must not pick an index of its own (the
    /// planner should walk the `ORDER BY` index and stop after the page instead).
    pub no_index: &'static str,
    /// The column that orders `cognitive_traces` by insertion.
    pub trace_position: &'static str,
    /// Ends a `SELECT` that claims its rows and skips those another transaction claimed;
    /// empty where writers are serialised anyway.
    pub skip_locked: &'static str,
    /// A statement that tells listening workers a job of kind `$1` was enqueued, delivered
    /// when the transaction commits; empty where the engine has no notifications.
    pub job_notify: &'static str,
}

/// A fragment around two operands: `before left between right after`.
#[derive(Debug, Clone, Copy)]
pub struct Infix {
    /// Text before the left operand.
    pub before: &'static str,
    /// Text between the operands.
    pub between: &'static str,
    /// Text after the right operand.
    pub after: &'static str,
}

impl Infix {
    /// The fragment applied to two operands.
    pub fn apply(&self, left: &str, right: &str) -> String {
        format!("{}{left}{}{right}{}", self.before, self.between, self.after)
    }
}

/// A statement whose text depends on the dialect: built from the [`Syntax`] the first time a
/// dialect uses it, then kept for the life of the process (the same text every call, so the
/// prepared statement is cached).
pub struct DialectSql {
    build: fn(&Syntax) -> String,
    texts: [OnceLock<String>; ENGINES],
}

impl DialectSql {
    /// A statement built by `build`.
    pub const fn new(build: fn(&Syntax) -> String) -> Self {
        Self {
            build,
            texts: [const { OnceLock::new() }; ENGINES],
        }
    }

    /// The text for dialect `D`.
    pub fn get<D: Dialect>(&'static self) -> &'static str {
        self.texts[D::ENGINE as usize].get_or_init(|| (self.build)(&D::SYNTAX))
    }
}

impl fmt::Debug for DialectSql {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DialectSql").finish_non_exhaustive()
    }
}

/// A database that can bind `T`. Implemented by every sqlx database whose arguments accept
/// `T`; spelled as a trait of the database so that [`Portable`] can require it.
pub trait Encodes<'q, T>: Database {
    /// Adds `value` to `args`.
    fn encode(args: &mut Self::Arguments, value: T) -> Result<(), BoxDynError>;
}

impl<'q, DB, T> Encodes<'q, T> for DB
where
    DB: Database,
    T: Encode<'q, DB> + Type<DB>,
{
    fn encode(args: &mut Self::Arguments, value: T) -> Result<(), BoxDynError> {
        args.add(value)
    }
}

/// A database that can read `T` from a column.
pub trait Decodes<T>: Database {
    /// The value of column `index`.
    fn decode(row: &Self::Row, index: usize) -> Result<T, sqlx::Error>;
}

impl<DB, T> Decodes<T> for DB
where
    DB: Database,
    T: for<'r> Decode<'r, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    fn decode(row: &Self::Row, index: usize) -> Result<T, sqlx::Error> {
        row.try_get(index)
    }
}

/// Declares [`Portable`] and implements it for every database with those bounds, from one
/// list.
macro_rules! portable {
    ($($bounds:tt)+) => {
        /// The values both engines bind and read the same way.
        pub trait Portable: Database + $($bounds)+ {}

        impl<DB> Portable for DB where DB: Database + $($bounds)+ {}
    };
}

portable!(
    Encodes<'static, bool>
        + Encodes<'static, Option<bool>>
        + Encodes<'static, i64>
        + Encodes<'static, Option<i64>>
        + Encodes<'static, f64>
        + Encodes<'static, Option<f64>>
        + Encodes<'static, Vec<u8>>
        + Encodes<'static, String>
        + for<'a> Encodes<'a, &'a str>
        + for<'a> Encodes<'a, Option<&'a str>>
        + Encodes<'static, DateTime<Utc>>
        + Encodes<'static, Option<DateTime<Utc>>>
        + Decodes<bool>
        + Decodes<i64>
        + Decodes<Option<i64>>
        + Decodes<f64>
        + Decodes<Option<f64>>
        + Decodes<Vec<u8>>
        + Decodes<String>
        + Decodes<Option<String>>
        + Decodes<DateTime<Utc>>
        + Decodes<Option<DateTime<Utc>>>
);

/// Runs a statement on a connection. Implemented by every sqlx database whose connections
/// are executors, so the store's generic code needs no executor bounds of its own.
pub trait Run: Database {
    /// Every row.
    fn fetch_all<'c>(
        conn: &'c mut Self::Connection,
        sql: SqlStr,
        args: Self::Arguments,
    ) -> BoxFuture<'c, Result<Vec<Self::Row>, sqlx::Error>>;

    /// The first row, if any.
    fn fetch_optional<'c>(
        conn: &'c mut Self::Connection,
        sql: SqlStr,
        args: Self::Arguments,
    ) -> BoxFuture<'c, Result<Option<Self::Row>, sqlx::Error>>;

    /// Runs it for its effect.
    fn execute<'c>(
        conn: &'c mut Self::Connection,
        sql: SqlStr,
        args: Self::Arguments,
    ) -> BoxFuture<'c, Result<Self::QueryResult, sqlx::Error>>;
}

impl<DB> Run for DB
where
    DB: Database,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    fn fetch_all<'c>(
        conn: &'c mut Self::Connection,
        sql: SqlStr,
        args: Self::Arguments,
    ) -> BoxFuture<'c, Result<Vec<Self::Row>, sqlx::Error>> {
        conn.fetch_all(sqlx::query_with(sql, args))
    }

    fn fetch_optional<'c>(
        conn: &'c mut Self::Connection,
        sql: SqlStr,
        args: Self::Arguments,
    ) -> BoxFuture<'c, Result<Option<Self::Row>, sqlx::Error>> {
        conn.fetch_optional(sqlx::query_with(sql, args))
    }

    fn execute<'c>(
        conn: &'c mut Self::Connection,
        sql: SqlStr,
        args: Self::Arguments,
    ) -> BoxFuture<'c, Result<Self::QueryResult, sqlx::Error>> {
        conn.execute(sqlx::query_with(sql, args))
    }
}
