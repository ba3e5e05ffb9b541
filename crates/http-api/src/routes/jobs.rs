//! `/api/v1/admin/jobs`: the background job queue, for administrators.

use actix_web::{web, HttpResponse};
use ainative_jobs::JobAdmin;
use ainative_ports::{Job, JobFilter, JobState};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::dto::PageOf;
use crate::envelope;
use crate::error::ApiError;
use crate::extract::{Caller, Query};

/// Filters of the job list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct JobListQuery {
    /// queued, running, succeeded or dead.
    pub state: Option<String>,
    /// Only jobs of this kind, e.g. `mail.send`.
    pub kind: Option<String>,
    /// 1..=100, default 20.
    pub limit: Option<i64>,
    /// Default 0.
    pub offset: Option<i64>,
}

/// A job as administrators see it. The payload is not shown: it may carry personal data or
/// single-use tokens.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobResponse {
    pub id: Uuid,
    pub kind: String,
    /// queued, running, succeeded or dead.
    pub state: String,
    pub unique_key: Option<String>,
    /// Attempts started, the running one included.
    pub attempts: u32,
    pub max_attempts: u32,
    /// Not run before this time.
    pub run_at: DateTime<Utc>,
    /// The worker that holds (or last held) the job.
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub failed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<Job> for JobResponse {
    fn from(job: Job) -> Self {
        Self {
            id: job.id,
            kind: job.kind,
            state: job.state.as_str().to_owned(),
            unique_key: job.unique_key,
            attempts: job.attempts,
            max_attempts: job.max_attempts,
            run_at: job.run_at,
            lease_owner: job.lease_owner,
            lease_expires_at: job.lease_expires_at,
            last_error: job.last_error,
            failed_at: job.failed_at,
            created_at: job.created_at,
            updated_at: job.updated_at,
            finished_at: job.finished_at,
        }
    }
}

fn parse_query(q: &JobListQuery) -> Result<(JobFilter, ainative_domain::Page), ApiError> {
    let (page, mut errors) = super::page_and_errors(q.limit, q.offset);
    let state = match q.state.as_deref() {
        Some(s) => errors.collect(
            "state",
            s.parse::<JobState>()
                .map_err(|_| "must be queued, running, succeeded or dead"),
        ),
        None => None,
    };
    errors.into_result()?;
    Ok((
        JobFilter {
            state,
            kind: q.kind.clone(),
        },
        page,
    ))
}

/// Background jobs, newest first, filtered by state (`?state=dead` lists the jobs whose
/// every attempt failed) and kind.
#[utoipa::path(get, path = "/api/v1/admin/jobs", tag = "admin", security(("bearer" = [])), params(JobListQuery),
    responses((status = 200, description = "A page of jobs", body = PageOf<JobResponse>),
              (status = 401, description = "Not authenticated"),
              (status = 403, description = "Caller is not an admin"),
              (status = 422, description = "Invalid state or page"),
              (status = 503, description = "The database is unavailable")))]
pub async fn list_jobs(
    jobs: web::Data<JobAdmin>,
    caller: Caller,
    query: Query<JobListQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let (filter, page) = parse_query(&query)?;
    let page = jobs.list(filter, page).await?;
    Ok(envelope::ok(&PageOf::from_domain(page, JobResponse::from)))
}

/// Queues a dead job again with its attempts reset (audited as `job_retried`).
#[utoipa::path(post, path = "/api/v1/admin/jobs/{id}/retry", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Job id")),
    responses((status = 200, description = "The job, queued again", body = JobResponse),
              (status = 401, description = "Not authenticated"),
              (status = 403, description = "Caller is not an admin"),
              (status = 404, description = "No such job"),
              (status = 409, description = "The job is not dead"),
              (status = 503, description = "The database is unavailable")))]
pub async fn retry_job(
    jobs: web::Data<JobAdmin>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let job = jobs.retry(caller.user_id, id.into_inner()).await?;
    Ok(envelope::ok(&JobResponse::from(job)))
}
