//! Storage and aggregation of course reports (SPEC §10.5).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use ainative_domain::{Page, Paginated, Report, ReportBody};

use crate::{NewJob, PortResult};

/// The job kind that builds a report; its payload is `{"report_id": "<uuid>"}`.
pub const REPORT_BUILD_JOB: &str = "report.build";

/// Course reports and the aggregation they are built from.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ReportRepository: Send + Sync {
    /// Stores a pending `report` and enqueues `job`, in one transaction.
    ///
    /// Errors: `NotFound` when the activity does not exist; `Conflict(Duplicate("report"))`
    /// when the id exists; `Unavailable`.
    async fn create(&self, report: &Report, job: &NewJob) -> PortResult<()>;

    /// The report, with its body when completed.
    async fn find(&self, id: Uuid) -> PortResult<Option<Report>>;

    /// The reports of an activity, newest first, without their bodies.
    async fn list(&self, activity_id: Uuid, page: Page) -> PortResult<Paginated<Report>>;

    /// Marks the report running from `at` (again, on a retry: body and error are cleared).
    ///
    /// Errors: `NotFound`.
    async fn start(&self, id: Uuid, at: DateTime<Utc>) -> PortResult<()>;

    /// Stores the body and marks the report completed at `at`.
    ///
    /// Errors: `NotFound`.
    async fn complete(&self, id: Uuid, body: &ReportBody, at: DateTime<Utc>) -> PortResult<()>;

    /// Marks the report failed at `at` with a readable `error`.
    ///
    /// Errors: `NotFound`.
    async fn fail(&self, id: Uuid, error: &str, at: DateTime<Utc>) -> PortResult<()>;

    /// Aggregates every session of the activity (decision 111): grouped in SQL where the
    /// database can, streamed in bounded pages otherwise, never the whole activity at once.
    ///
    /// Errors: `NotFound` when the activity does not exist; `Unavailable`.
    async fn aggregate(&self, activity_id: Uuid) -> PortResult<ReportBody>;
}
