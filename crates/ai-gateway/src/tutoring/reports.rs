//! Course reports (SPEC §10.5): request one (stored and its `report.build` job enqueued in
//! one transaction), read it, list an activity's reports, and build one (the job's body).
//!
//! Access (decision 110): a report describes students' work, so only the activity's owner
//! and admins request or read it; for anyone else the activity and its reports do not exist
//! (404), even when the activity is published. Requests need `activities:read` and
//! `sessions:read` on the credential (403 otherwise, before anything is read).

use std::sync::Arc;

use ainative_domain::{Activity, Page, Paginated, Report, RequestContext, Scope};
use ainative_ports::{
    error_chain, ActivityRepository, Clock, NewJob, PortError, ReportRepository, REPORT_BUILD_JOB,
};
use uuid::Uuid;

use super::{access, TutoringError};

/// Attempts of a build job before it is dead (the last one marks the report failed).
pub const REPORT_ATTEMPTS: u32 = 3;

/// What one run of a build job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildOutcome {
    /// The report is completed.
    Completed,
    /// The report is marked failed with this error (not retried).
    Failed(String),
    /// The report no longer exists (its activity was deleted): nothing to do.
    Gone,
}

/// Course report use cases.
pub struct ReportService {
    activities: Arc<dyn ActivityRepository>,
    reports: Arc<dyn ReportRepository>,
    clock: Arc<dyn Clock>,
}

impl ReportService {
    /// Builds the service.
    pub fn new(
        activities: Arc<dyn ActivityRepository>,
        reports: Arc<dyn ReportRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            activities,
            reports,
            clock,
        }
    }

    /// Stores a pending report of the activity and enqueues its build.
    ///
    /// Errors: 403 a credential without the scopes; 404 activity absent or not the caller's.
    pub async fn request(
        &self,
        ctx: &RequestContext,
        activity_id: Uuid,
    ) -> Result<Report, TutoringError> {
        let activity = self.owned_activity(ctx, activity_id).await?;
        let report = Report::requested(activity.id, ctx.user_id, self.clock.now());
        let job = NewJob::new(
            REPORT_BUILD_JOB,
            serde_json::json!({ "report_id": report.id }),
            report.created_at,
        )
        .unique(format!("report:{}", report.id))
        .max_attempts(REPORT_ATTEMPTS);
        self.reports
            .create(&report, &job)
            .await
            .map_err(|e| TutoringError::from_port(e, "activity"))?;
        tracing::info!(
            request_id = %ctx.request_id,
            report_id = %report.id,
            activity_id = %activity.id,
            "report requested"
        );
        Ok(report)
    }

    /// A report, with its aggregates once completed.
    ///
    /// Errors: 403 scopes; 404 absent, or its activity is not the caller's.
    pub async fn get(&self, ctx: &RequestContext, id: Uuid) -> Result<Report, TutoringError> {
        require_scopes(ctx)?;
        let report = self
            .reports
            .find(id)
            .await?
            .ok_or(TutoringError::NotFound("report"))?;
        match self.activities.find(report.activity_id).await? {
            Some(activity) if ctx.owns_activity(&activity) => Ok(report),
            _ => Err(TutoringError::NotFound("report")),
        }
    }

    /// The reports of an activity, newest first, without their aggregates.
    pub async fn list(
        &self,
        ctx: &RequestContext,
        activity_id: Uuid,
        page: Page,
    ) -> Result<Paginated<Report>, TutoringError> {
        let activity = self.owned_activity(ctx, activity_id).await?;
        Ok(self.reports.list(activity.id, page).await?)
    }

    /// Builds report `id` (the `report.build` job): marks it running, aggregates its
    /// activity and stores the result, overwriting any earlier attempt's. A missing activity
    /// fails the report at once; another error is returned for the queue to retry, except on
    /// the `last_attempt`, where it fails the report with the error.
    ///
    /// Errors: the storage error to retry on.
    pub async fn build(&self, id: Uuid, last_attempt: bool) -> Result<BuildOutcome, PortError> {
        let Some(report) = self.reports.find(id).await? else {
            return Ok(BuildOutcome::Gone);
        };
        match self.reports.start(id, self.clock.now()).await {
            Err(PortError::NotFound) => return Ok(BuildOutcome::Gone),
            other => other?,
        }
        let error = match self.reports.aggregate(report.activity_id).await {
            Ok(body) => {
                return match self.reports.complete(id, &body, self.clock.now()).await {
                    Ok(()) => Ok(BuildOutcome::Completed),
                    Err(PortError::NotFound) => Ok(BuildOutcome::Gone),
                    Err(e) => Err(e),
                };
            }
            Err(PortError::NotFound) => {
                format!("activity {} no longer exists", report.activity_id)
            }
            Err(e) if last_attempt => format!("could not aggregate: {}", error_chain(&e)),
            Err(e) => return Err(e),
        };
        match self.reports.fail(id, &error, self.clock.now()).await {
            Ok(()) => Ok(BuildOutcome::Failed(error)),
            Err(PortError::NotFound) => Ok(BuildOutcome::Gone),
            Err(e) => Err(e),
        }
    }

    /// The activity, if the caller owns it (or is an admin); 404 otherwise.
    async fn owned_activity(
        &self,
        ctx: &RequestContext,
        id: Uuid,
    ) -> Result<Activity, TutoringError> {
        require_scopes(ctx)?;
        match self.activities.find(id).await? {
            Some(activity) if ctx.owns_activity(&activity) => Ok(activity),
            _ => Err(TutoringError::NotFound("activity")),
        }
    }
}

fn require_scopes(ctx: &RequestContext) -> Result<(), TutoringError> {
    access::require(ctx, Scope::ActivitiesRead)?;
    access::require(ctx, Scope::SessionsRead)
}

#[cfg(test)]
mod tests;
