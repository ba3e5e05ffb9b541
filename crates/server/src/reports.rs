//! Course report wiring: the service (requests, reads, builds) and the `report.build` job.

use std::sync::Arc;

use ainative_ai_gateway::tutoring::{BuildOutcome, ReportService};
use ainative_jobs::{JobError, Registry};
use ainative_ports::{error_chain, Clock, Job, REPORT_BUILD_JOB};
use uuid::Uuid;

use crate::database::Database;

/// The report service on `db`.
pub fn report_service(db: &Database, clock: Arc<dyn Clock>) -> Arc<ReportService> {
    Arc::new(ReportService::new(
        db.activities.clone(),
        db.reports.clone(),
        clock,
    ))
}

/// The payload of a `report.build` job.
#[derive(Debug, serde::Deserialize)]
struct BuildPayload {
    report_id: Uuid,
}

/// Registers the `report.build` handler: a storage error is retried by the queue; the last
/// attempt marks the report failed instead.
pub fn register_jobs(registry: &mut Registry, service: Arc<ReportService>) {
    registry.register_fn(REPORT_BUILD_JOB, move |job: Job| {
        let service = Arc::clone(&service);
        async move {
            let payload: BuildPayload = serde_json::from_value(job.payload)?;
            let last_attempt = job.attempts >= job.max_attempts;
            match service.build(payload.report_id, last_attempt).await {
                Ok(BuildOutcome::Failed(error)) => {
                    tracing::info!(report_id = %payload.report_id, %error, "report failed");
                    Ok(())
                }
                Ok(outcome) => {
                    tracing::info!(report_id = %payload.report_id, ?outcome, "report built");
                    Ok(())
                }
                Err(error) => Err(JobError::msg(error_chain(&error))),
            }
        }
    });
}
