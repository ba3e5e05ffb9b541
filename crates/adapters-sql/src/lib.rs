//! The SQL store of ainative: every persistence port written once, generic over a
//! [`Dialect`].
//!
//! [`SqlStore<D>`] implements [`ainative_ports::UserRepository`],
//! [`ainative_ports::ApiKeyRepository`],
//! [`ainative_ports::AuthSessionRepository`], [`ainative_ports::AuditLog`],
//! [`ainative_ports::ActivityRepository`], [`ainative_ports::StudySessionRepository`],
//! [`ainative_ports::InteractionRepository`], [`ainative_ports::RiskRepository`],
//! [`ainative_ports::ServerErrorLog`], [`ainative_ports::OAuthStore`],
//! [`ainative_ports::AccountTokenRepository`], [`ainative_ports::DatabaseHealth`] and
//! [`ainative_ports::SchemaManager`]. The query text and the row mapping of each exist once
//! (`$n` placeholders, which both PostgreSQL and SQLite read); a dialect contributes only
//! what really differs (see [`dialect`]). `ainative-adapters-postgres` and
//! `ainative-adapters-sqlite` provide the two dialects, their pool set-up and their
//! migrations.
//!
//! Every port call goes through one helper (`SqlStore::call`): a tracing span
//! (`db.<port>.<method>`, with `db.system`), a deadline (the pool's acquire timeout plus
//! [`QUERY_GRACE`], then `Unavailable`) and the call's duration reported to a
//! [`ainative_ports::QueryObserver`]. Every multi-row write runs in one transaction; every
//! failure is reported as an [`ainative_ports::PortError`] that keeps the sqlx error as its
//! source, so no sqlx type crosses the ports.
//!
//! Adding a table: its SQL and row mapping go in one file here (a new port file, or the
//! port's own), its `CREATE TABLE` in a new migration of each engine, and a contract case in
//! `ports::testkit`. Only a fragment neither engine spells like the other needs a new
//! [`Syntax`] entry.

mod account_tokens;
mod activities;
mod api_keys;
mod audit;
mod columns;
pub mod dialect;
mod error;
mod interactions;
mod jobs;
mod lists;
mod llm_credentials;
mod materials;
mod oauth;
mod pool;
mod reports;
mod risks;
mod rows;
mod schema;
mod server_errors;
mod sessions;
mod statement;
mod store;
mod study_sessions;
#[cfg(feature = "testkit")]
pub mod testkit;
mod tutoring_rows;
mod users;
mod writer;
mod writer_thread;

pub use dialect::{Dialect, DialectSql, Engine, Infix, Syntax};
/// Maps a sqlx error of dialect `D` to a [`ainative_ports::PortError`] (for the dialects'
/// own code, such as opening a pool).
pub use error::map_err as port_error;
pub use pool::{invalid_url, pool_options};
pub use store::{SqlStore, QUERY_GRACE};
