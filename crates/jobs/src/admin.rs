//! What administrators and the health endpoint see of the queue.

use std::sync::Arc;

use ainative_domain::{AuditAction, NewAuditEntry, Page, Paginated};
use ainative_ports::{Clock, Conflict, Job, JobFilter, JobQueue, PortError};
use serde_json::json;
use uuid::Uuid;

/// Why an admin operation on jobs failed.
#[derive(Debug, thiserror::Error)]
pub enum JobAdminError {
    /// No such job.
    #[error("job not found")]
    NotFound,
    /// Only dead jobs can be retried.
    #[error("only dead jobs can be retried")]
    NotDead,
    /// The database is unreachable (503).
    #[error("the job queue is unavailable")]
    Unavailable(#[source] PortError),
    /// Anything else (500).
    #[error("job queue failure")]
    Internal(#[source] PortError),
}

impl From<PortError> for JobAdminError {
    fn from(err: PortError) -> Self {
        match err {
            PortError::NotFound => Self::NotFound,
            PortError::Conflict(Conflict::JobNotDead) => Self::NotDead,
            err if err.is_unavailable() => Self::Unavailable(err),
            err => Self::Internal(err),
        }
    }
}

/// The `workers` component of `/health`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkersHealth {
    /// `healthy` when the queue can be read, `unhealthy` otherwise.
    pub status: &'static str,
    /// Worker loops in this process (0 when jobs run in `ainative worker` processes).
    pub workers: usize,
    /// Jobs running in the whole deployment.
    pub running: u64,
    /// Jobs queued in the whole deployment.
    pub queued: u64,
    /// Jobs whose last attempt failed within the hour.
    pub failed_last_hour: u64,
}

/// Listing and retrying jobs, and the queue's health.
pub struct JobAdmin {
    queue: Arc<dyn JobQueue>,
    clock: Arc<dyn Clock>,
    local_workers: usize,
}

impl JobAdmin {
    /// Over `queue`; `local_workers` is what this process runs (for health).
    pub fn new(queue: Arc<dyn JobQueue>, clock: Arc<dyn Clock>, local_workers: usize) -> Self {
        Self {
            queue,
            clock,
            local_workers,
        }
    }

    /// A page of jobs, newest first.
    pub async fn list(
        &self,
        filter: JobFilter,
        page: Page,
    ) -> Result<Paginated<Job>, JobAdminError> {
        Ok(self.queue.list(filter, page).await?)
    }

    /// Queues dead job `id` again, audited as done by `actor`.
    pub async fn retry(&self, actor: Uuid, id: Uuid) -> Result<Job, JobAdminError> {
        let now = self.clock.now();
        let before = self.queue.get(id).await?;
        let audit = NewAuditEntry {
            actor_id: Some(actor),
            action: AuditAction::JobRetried,
            target_type: "job".to_owned(),
            target_id: id,
            details: json!({
                "kind": before.kind,
                "attempts": before.attempts,
                "last_error": before.last_error,
            }),
            at: now,
        };
        Ok(self.queue.retry_dead(id, now, audit).await?)
    }

    /// The report when the queue cannot be read: `unhealthy`, zeros.
    pub fn unreachable(&self) -> WorkersHealth {
        WorkersHealth {
            status: "unhealthy",
            workers: self.local_workers,
            running: 0,
            queued: 0,
            failed_last_hour: 0,
        }
    }

    /// The queue's counts; `unhealthy` with zeros when they cannot be read.
    pub async fn health(&self) -> WorkersHealth {
        match self.queue.stats(self.clock.now()).await {
            Ok(stats) => WorkersHealth {
                status: "healthy",
                workers: self.local_workers,
                running: stats.running,
                queued: stats.queued_total(),
                failed_last_hour: stats.failed_last_hour,
            },
            Err(_) => self.unreachable(),
        }
    }
}

#[cfg(test)]
mod tests {
    use ainative_ports::{JobState, JobStats, MockJobQueue, SystemClock};
    use chrono::Utc;

    use super::*;

    fn job(id: Uuid) -> Job {
        Job {
            id,
            kind: "mail.send".into(),
            payload: json!({}),
            unique_key: None,
            state: JobState::Dead,
            attempts: 5,
            max_attempts: 5,
            run_at: Utc::now(),
            lease_owner: Some("w".into()),
            lease_expires_at: None,
            last_error: Some("smtp refused".into()),
            failed_at: Some(Utc::now()),
            created_at: Utc::now(),
            updated_at: Utc::now(),
            finished_at: Some(Utc::now()),
        }
    }

    #[tokio::test]
    async fn retry_audits_the_actor_and_maps_conflicts() {
        let id = Uuid::new_v4();
        let actor = Uuid::new_v4();
        let mut queue = MockJobQueue::new();
        queue.expect_get().returning(move |id| Ok(job(id)));
        queue
            .expect_retry_dead()
            .withf(move |job_id, _, audit| {
                *job_id == id
                    && audit.actor_id == Some(actor)
                    && audit.action == AuditAction::JobRetried
                    && audit.details["last_error"] == "smtp refused"
            })
            .times(1)
            .returning(|_, _, _| Err(PortError::Conflict(Conflict::JobNotDead)));
        let admin = JobAdmin::new(Arc::new(queue), Arc::new(SystemClock), 2);
        assert!(matches!(
            admin.retry(actor, id).await,
            Err(JobAdminError::NotDead)
        ));
    }

    #[tokio::test]
    async fn health_sums_the_queue_and_survives_an_outage() {
        let mut queue = MockJobQueue::new();
        let mut calls = 0;
        queue.expect_stats().returning(move |_| {
            calls += 1;
            if calls == 1 {
                Ok(JobStats {
                    queued: [("a".to_owned(), 2), ("b".to_owned(), 3)].into(),
                    running: 1,
                    failed_last_hour: 4,
                    dead: 0,
                })
            } else {
                Err(PortError::Unavailable("down".into()))
            }
        });
        let admin = JobAdmin::new(Arc::new(queue), Arc::new(SystemClock), 2);
        assert_eq!(
            admin.health().await,
            WorkersHealth {
                status: "healthy",
                workers: 2,
                running: 1,
                queued: 5,
                failed_last_hour: 4
            }
        );
        assert_eq!(admin.health().await.status, "unhealthy");
    }
}
