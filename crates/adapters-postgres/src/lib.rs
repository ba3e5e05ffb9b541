//! PostgreSQL for the ainative SQL store: [`PgStore`] is
//! [`ainative_adapters_sql::SqlStore`] on the [`PgDialect`], which implements every
//! persistence port (see `ainative-adapters-sql`).
//!
//! This crate holds only what is PostgreSQL's own: the pool set-up (with a pre-ping of
//! connections that sat idle), the embedded migrations of `migrations/postgres`, native
//! `UUID`, `TEXT[]` and `JSONB` values, SQLSTATE classes, and the SQL fragments PostgreSQL
//! spells its own way.

mod dialect;
mod listener;
mod pool;

pub use ainative_ports::pool::{PoolSettings, PRE_PING_AFTER_IDLE};
pub use dialect::PgDialect;
pub use listener::{listen_for_jobs, JobListener, JOB_CHANNEL};

/// The PostgreSQL implementation of the persistence ports. Cloning is cheap: clones share
/// one pool.
pub type PgStore = ainative_adapters_sql::SqlStore<PgDialect>;
