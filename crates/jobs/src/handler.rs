//! Handlers and the registry that maps a job's `kind` to its handler.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use ainative_ports::{Job, PortError};
use async_trait::async_trait;

/// Why a handler's attempt failed. The message is stored on the job for people (admins
/// read it in `GET /admin/jobs`), so it must not carry secrets.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The handler's own description of the failure.
    #[error("{0}")]
    Failed(String),
    /// A port the handler used failed.
    #[error("{0}")]
    Port(#[from] PortError),
    /// The payload is not what the handler expects.
    #[error("invalid payload: {0}")]
    Payload(#[from] serde_json::Error),
    /// A failure no retry can fix (a mail server's 5xx): the job is dead at once.
    #[error("{0}")]
    Permanent(String),
}

impl JobError {
    /// A failure described by `message`.
    pub fn msg(message: impl fmt::Display) -> Self {
        Self::Failed(message.to_string())
    }

    /// A permanent failure described by `message`: not retried.
    pub fn permanent(message: impl fmt::Display) -> Self {
        Self::Permanent(message.to_string())
    }

    /// True when retrying cannot help.
    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::Permanent(_))
    }
}

/// Runs the jobs of one kind. Delivery is at least once: a job may run again after a
/// worker died or lost its lease, so a handler must be idempotent (check what it already
/// did, write results keyed by the job or its subject).
#[async_trait]
pub trait JobHandler: Send + Sync {
    /// Does the work of `job`. `Err` fails the attempt: the job is retried with back-off
    /// until its `max_attempts`, then dead.
    async fn run(&self, job: Job) -> Result<(), JobError>;
}

/// A handler from an async closure.
struct FnHandler<F>(F);

#[async_trait]
impl<F, Fut> JobHandler for FnHandler<F>
where
    F: Fn(Job) -> Fut + Send + Sync,
    Fut: Future<Output = Result<(), JobError>> + Send + 'static,
{
    async fn run(&self, job: Job) -> Result<(), JobError> {
        (self.0)(job).await
    }
}

/// The handlers a worker runs, by kind. Workers claim only the kinds registered here, so
/// a worker built without, say, the mail handler leaves mail jobs to workers that have it.
#[derive(Default, Clone)]
pub struct Registry {
    handlers: BTreeMap<String, Arc<dyn JobHandler>>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("kinds", &self.kinds())
            .finish()
    }
}

impl Registry {
    /// No handlers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs jobs of `kind` with `handler` (replacing an earlier one).
    pub fn register(&mut self, kind: impl Into<String>, handler: Arc<dyn JobHandler>) -> &mut Self {
        self.handlers.insert(kind.into(), handler);
        self
    }

    /// Runs jobs of `kind` with an async closure.
    pub fn register_fn<F, Fut>(&mut self, kind: impl Into<String>, handler: F) -> &mut Self
    where
        F: Fn(Job) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), JobError>> + Send + 'static,
    {
        self.register(kind, Arc::new(FnHandler(handler)))
    }

    /// The handler of `kind`.
    pub fn get(&self, kind: &str) -> Option<Arc<dyn JobHandler>> {
        self.handlers.get(kind).cloned()
    }

    /// Every registered kind, sorted.
    pub fn kinds(&self) -> Vec<String> {
        self.handlers.keys().cloned().collect()
    }

    /// True when no handler is registered.
    pub fn is_empty(&self) -> bool {
        self.handlers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn registered_closures_run_by_kind() {
        let mut registry = Registry::new();
        registry
            .register_fn("b.kind", |_job| async { Err(JobError::msg("nope")) })
            .register_fn("a.kind", |_job| async { Ok(()) });
        assert_eq!(registry.kinds(), vec!["a.kind", "b.kind"]);
        assert!(registry.get("c.kind").is_none());
        let job = Job {
            id: uuid::Uuid::new_v4(),
            kind: "b.kind".into(),
            payload: serde_json::json!({}),
            unique_key: None,
            state: ainative_ports::JobState::Running,
            attempts: 1,
            max_attempts: 1,
            run_at: chrono::Utc::now(),
            lease_owner: None,
            lease_expires_at: None,
            last_error: None,
            failed_at: None,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
            finished_at: None,
        };
        let handler = registry.get("b.kind").expect("registered");
        let err = handler.run(job.clone()).await.expect_err("fails");
        assert_eq!(err.to_string(), "nope");
        assert!(registry
            .get("a.kind")
            .expect("registered")
            .run(job)
            .await
            .is_ok());
    }
}
