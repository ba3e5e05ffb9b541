//! `/api/v1/risks`: risks across the caller's activities.

use actix_web::{web, HttpResponse};
use ainative_ai_gateway::tutoring::RiskService;
use ainative_domain::{RiskDimension, RiskLevel};
use uuid::Uuid;

use super::dto::PageOf;
use super::resource;
use super::tutoring_dto::{ResolveRiskRequest, RiskQuery, RiskResponse};
use crate::envelope;
use crate::error::ApiError;
use crate::extract::{Caller, OptionalJson, Query};

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/risks", "GET").route(web::get().to(list)))
        .service(resource("/risks/{id}/resolve", "POST").route(web::post().to(resolve)));
}

/// Risks of the caller's activities (instructors) or all (admins).
#[utoipa::path(get, path = "/api/v1/risks", tag = "risks", security(("bearer" = [])), params(RiskQuery),
    responses((status = 200, description = "A page of risks", body = PageOf<RiskResponse>), (status = 403, description = "Students")))]
pub async fn list(
    svc: web::Data<RiskService>,
    caller: Caller,
    query: Query<RiskQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let (page, mut errors) = super::page_and_errors(query.limit, query.offset);
    let level = query
        .level
        .as_deref()
        .and_then(|v| errors.collect("level", v.parse::<RiskLevel>()));
    let dimension = query
        .dimension
        .as_deref()
        .and_then(|v| errors.collect("dimension", v.parse::<RiskDimension>()));
    errors.into_result()?;
    let risks = svc
        .list(&caller, level, dimension, query.resolved, page)
        .await?;
    Ok(envelope::ok(&PageOf::from_domain(
        risks,
        RiskResponse::from,
    )))
}

/// Resolve a risk (the activity's owner or an admin); audited.
#[utoipa::path(post, path = "/api/v1/risks/{id}/resolve", tag = "risks", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Risk id")), request_body = Option<ResolveRiskRequest>,
    responses((status = 200, description = "The resolved risk", body = RiskResponse), (status = 409, description = "Already resolved")))]
pub async fn resolve(
    svc: web::Data<RiskService>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: OptionalJson<ResolveRiskRequest>,
) -> Result<HttpResponse, ApiError> {
    let note = body.into_inner().and_then(|b| b.note);
    let risk = svc.resolve(&caller, id.into_inner(), note).await?;
    Ok(envelope::ok(&RiskResponse::from(risk)))
}
