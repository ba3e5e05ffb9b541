//! Course reports: `POST /api/v1/activities/{id}/report`, `GET /api/v1/activities/{id}/reports`
//! and `GET /api/v1/reports/{id}` (JSON, or CSV with `Accept: text/csv`).

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use ainative_ai_gateway::tutoring::ReportService;
use ainative_domain::ReportStatus;
use uuid::Uuid;

use super::dto::{PageOf, PageQuery};
use super::reports_dto::{to_csv, ReportAccepted, ReportResponse};
use super::resource;
use crate::envelope;
use crate::error::ApiError;
use crate::extract::{Caller, Query};

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/activities/{id}/report", "POST").route(web::post().to(request)))
        .service(resource("/activities/{id}/reports", "GET").route(web::get().to(list)))
        .service(resource("/reports/{id}", "GET").route(web::get().to(get)));
}

/// Request a course report of an activity (its owner or an admin). It is built by a
/// background job; read it at `url`.
#[utoipa::path(post, path = "/api/v1/activities/{id}/report", tag = "reports", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Activity id")),
    responses((status = 202, description = "Stored; its build queued", body = ReportAccepted),
        (status = 401, description = "No valid token"), (status = 403, description = "The credential lacks activities:read or sessions:read"),
        (status = 404, description = "Activity absent or not the caller's"), (status = 503, description = "Database unavailable")))]
pub async fn request(
    svc: web::Data<ReportService>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let report = svc.request(&caller, id.into_inner()).await?;
    let accepted = ReportAccepted {
        id: report.id,
        url: format!("/api/v1/reports/{}", report.id),
        report: ReportResponse::from(report),
    };
    Ok(envelope::with_status(
        StatusCode::ACCEPTED,
        &accepted,
        Some("report queued"),
    ))
}

/// The reports of an activity, newest first, without their aggregates (its owner or an
/// admin).
#[utoipa::path(get, path = "/api/v1/activities/{id}/reports", tag = "reports", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Activity id"), PageQuery),
    responses((status = 200, description = "A page of reports", body = PageOf<ReportResponse>),
        (status = 401, description = "No valid token"), (status = 403, description = "The credential lacks activities:read or sessions:read"),
        (status = 404, description = "Activity absent or not the caller's"), (status = 422, description = "Bad pagination"),
        (status = 503, description = "Database unavailable")))]
pub async fn list(
    svc: web::Data<ReportService>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let (page, errors) = super::page_and_errors(query.limit, query.offset);
    errors.into_result()?;
    let reports = svc.list(&caller, id.into_inner(), page).await?;
    Ok(envelope::ok(&PageOf::from_domain(
        reports,
        ReportResponse::from,
    )))
}

/// Whether the client asked for CSV (`text/csv` among its accepted types).
fn wants_csv(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(header::ACCEPT)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|range| {
            let media = range.split(';').next().unwrap_or_default().trim();
            media.eq_ignore_ascii_case("text/csv")
        })
}

/// A course report: status and, once completed, its aggregates. With `Accept: text/csv` a
/// completed report comes as CSV rows `section,key,metric,value`; a report not completed
/// yet answers 409 (a failed one too, with its error).
#[utoipa::path(get, path = "/api/v1/reports/{id}", tag = "reports", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Report id")),
    responses((status = 200, description = "The report (JSON), or its rows (CSV, `Accept: text/csv`)",
            content((ReportResponse = "application/json"), (String = "text/csv"))),
        (status = 401, description = "No valid token"), (status = 403, description = "The credential lacks activities:read or sessions:read"),
        (status = 404, description = "Absent, or not the caller's activity"),
        (status = 409, description = "CSV asked of a report not completed"), (status = 503, description = "Database unavailable")))]
pub async fn get(
    svc: web::Data<ReportService>,
    caller: Caller,
    id: web::Path<Uuid>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let report = svc.get(&caller, id.into_inner()).await?;
    if !wants_csv(&req) {
        return Ok(envelope::ok(&ReportResponse::from(report)));
    }
    let body = match (&report.status, &report.body) {
        (ReportStatus::Completed, Some(body)) => body,
        (ReportStatus::Failed, _) => {
            return Err(ApiError::Conflict(format!(
                "the report failed: {}",
                report.error.as_deref().unwrap_or("unknown error")
            )))
        }
        (status, _) => {
            return Err(ApiError::Conflict(format!(
                "the report is {status}; its CSV is available once completed"
            )))
        }
    };
    let text = to_csv(&report, body).map_err(|e| ApiError::Internal(Box::new(e)))?;
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        ))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"report-{}.csv\"", report.id),
        ))
        .body(text))
}
