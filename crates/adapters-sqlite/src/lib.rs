//! SQLite for the ainative SQL store, the embedded default: [`SqliteStore`] is
//! [`ainative_adapters_sql::SqlStore`] on the [`SqliteDialect`], which implements every
//! persistence port (see `ainative-adapters-sql`).
//!
//! Storage conventions: ids are hyphenated UUID text, timestamps are sqlx's RFC 3339 UTC
//! text (which sorts chronologically), booleans 0/1, and lists (roles, tags) and documents
//! (audit details, policies, evaluation scores, trace data, risk evidence) are JSON text.
//! The database runs in WAL mode with foreign keys on and a busy timeout; every write
//! transaction starts with `BEGIN IMMEDIATE`, so it never has to upgrade a read lock to a
//! write lock (which SQLite answers with `SQLITE_BUSY` at once, whatever the busy timeout).

mod dialect;
mod pool;

pub use ainative_ports::pool::PoolSettings;
pub use dialect::SqliteDialect;

/// The SQLite implementation of the persistence ports. Cloning is cheap: clones share one
/// pool. [`SqliteStore::from_pool`] expects connections with foreign keys on and a busy
/// timeout, as [`SqliteStore::connect`] sets them.
pub type SqliteStore = ainative_adapters_sql::SqlStore<SqliteDialect>;
