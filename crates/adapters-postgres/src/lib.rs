//! PostgreSQL implementations of the ainative persistence ports, on a sqlx [`sqlx::PgPool`].
//!
//! [`PgStore`] implements [`ainative_ports::UserRepository`],
//! [`ainative_ports::AuthSessionRepository`], [`ainative_ports::AuditLog`],
//! [`ainative_ports::DatabaseHealth`] and [`ainative_ports::SchemaManager`], and the tutoring
//! ports [`ainative_ports::ActivityRepository`], [`ainative_ports::StudySessionRepository`],
//! [`ainative_ports::InteractionRepository`] and [`ainative_ports::RiskRepository`]. Every
//! multi-row write runs in one transaction; every failure is reported as an
//! [`ainative_ports::PortError`] (see `error.rs` for the mapping), so no sqlx type crosses
//! the ports.

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

pub use settings::{PoolSettings, PRE_PING_AFTER_IDLE};
pub use store::PgStore;
