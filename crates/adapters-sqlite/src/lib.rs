//! SQLite implementations of the ainative persistence ports, on a sqlx [`sqlx::SqlitePool`]:
//! the embedded default.
//!
//! [`SqliteStore`] implements [`ainative_ports::UserRepository`],
//! [`ainative_ports::AuthSessionRepository`], [`ainative_ports::AuditLog`],
//! [`ainative_ports::DatabaseHealth`] and [`ainative_ports::SchemaManager`], and the tutoring
//! ports [`ainative_ports::ActivityRepository`], [`ainative_ports::StudySessionRepository`],
//! [`ainative_ports::InteractionRepository`] and [`ainative_ports::RiskRepository`].
//!
//! Storage conventions: ids are hyphenated UUID text, timestamps are sqlx's RFC 3339 UTC text
//! (which sorts chronologically), roles a JSON array, audit details JSON text; likewise tags,
//! policies, evaluation scores, trace data and risk evidence are JSON text. The database
//! runs in WAL mode with foreign keys on and a busy timeout; every multi-statement write
//! starts with `BEGIN IMMEDIATE`, so a transaction never has to upgrade a read lock to a
//! write lock (which SQLite answers with `SQLITE_BUSY` at once, whatever the busy timeout).

mod activities;
mod audit;
mod error;
mod health;
mod interactions;
mod migrate;
mod risks;
mod rows;
mod sessions;
mod settings;
mod store;
mod study_sessions;
mod tutoring_rows;
mod users;

pub use settings::PoolSettings;
pub use store::SqliteStore;
