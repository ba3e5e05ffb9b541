//! Background job workers of ainative (SPEC §10.5, docs/jobs.md).
//!
//! Producers enqueue through the [`ainative_ports::JobQueue`] port; this crate runs them:
//! a [`Registry`] maps a job's kind to its [`JobHandler`] (other crates register theirs:
//! `mail.send`, `material.process`, `report.build`; this crate knows none of them), and a
//! [`WorkerPool`] runs N loops that claim a job with a lease, run its handler while a
//! heartbeat extends the lease, and store the outcome: done, retried after an exponential
//! back-off with jitter, or dead after its last attempt. Idle workers wake on a
//! [`tokio::sync::Notify`] (enqueued in this process, or a PostgreSQL notification) and
//! poll otherwise. Shutdown lets a running handler finish within a grace period, then gives
//! its job back.
//!
//! Delivery is at least once: handlers must be idempotent.

mod admin;
mod handler;
mod observe;
mod worker;

pub use admin::{JobAdmin, JobAdminError, WorkersHealth};
pub use handler::{JobError, JobHandler, Registry};
pub use observe::{sample_stats, JobObserver, NoObserver, Outcome};
pub use worker::{WorkerConfig, WorkerDeps, WorkerPool};
