//! `/api/v1/activities`: authoring and publication.

use actix_web::{web, HttpResponse};
use ainative_ai_gateway::tutoring::{ActivityInput, ActivityPatch, ActivityService};
use ainative_domain::{ActivityPolicies, ActivityStatus, Difficulty, ValidationErrors};
use uuid::Uuid;

use super::dto::PageOf;
use super::resource;
use super::tutoring_dto::{
    ActivityQuery, ActivityResponse, CreateActivityRequest, UpdateActivityRequest,
};
use crate::envelope;
use crate::error::ApiError;
use crate::extract::{Caller, Json, NoFields, OptionalJson, Query};

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/activities", "GET, POST")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        resource("/activities/{id}", "GET, PATCH")
            .route(web::get().to(get))
            .route(web::patch().to(update)),
    )
    .service(resource("/activities/{id}/publish", "POST").route(web::post().to(publish)))
    .service(resource("/activities/{id}/archive", "POST").route(web::post().to(archive)));
}

fn parse<T: std::str::FromStr<Err = String>>(
    errors: &mut ValidationErrors,
    field: &str,
    value: Option<&str>,
) -> Option<T> {
    value.and_then(|v| errors.collect(field, v.parse::<T>()))
}

fn policies(
    errors: &mut ValidationErrors,
    raw: Option<serde_json::Map<String, serde_json::Value>>,
) -> ActivityPolicies {
    match raw {
        None => ActivityPolicies::default(),
        Some(map) => errors
            .collect(
                "policies",
                serde_json::from_value::<ActivityPolicies>(serde_json::Value::Object(map)),
            )
            .unwrap_or_default(),
    }
}

/// Create a draft activity (instructor or admin).
#[utoipa::path(post, path = "/api/v1/activities", tag = "activities", security(("bearer" = [])),
    request_body = CreateActivityRequest,
    responses((status = 201, description = "The activity", body = ActivityResponse), (status = 403, description = "Not an instructor")))]
pub async fn create(
    svc: web::Data<ActivityService>,
    caller: Caller,
    body: Json<CreateActivityRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let mut errors = ValidationErrors::new();
    let difficulty = parse::<Difficulty>(&mut errors, "difficulty", body.difficulty.as_deref())
        .unwrap_or_default();
    let policies = policies(&mut errors, body.policies);
    errors.into_result()?;
    let input = ActivityInput {
        title: body.title,
        description: body.description,
        instructions: body.instructions,
        subject: body.subject,
        difficulty,
        tags: body.tags,
        evaluation_criteria: body.evaluation_criteria,
        policies,
    };
    let activity = svc.create(&caller, input).await?;
    Ok(envelope::created(&ActivityResponse::from(activity)))
}

/// Activities visible to the caller: students see published ones, instructors also their own,
/// admins all.
#[utoipa::path(get, path = "/api/v1/activities", tag = "activities", security(("bearer" = [])), params(ActivityQuery),
    responses((status = 200, description = "A page of activities", body = PageOf<ActivityResponse>)))]
pub async fn list(
    svc: web::Data<ActivityService>,
    caller: Caller,
    query: Query<ActivityQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let (page, mut errors) = super::page_and_errors(query.limit, query.offset);
    let status = parse::<ActivityStatus>(&mut errors, "status", query.status.as_deref());
    errors.into_result()?;
    let activities = svc.list(&caller, status, query.tag, page).await?;
    Ok(envelope::ok(&PageOf::from_domain(
        activities,
        ActivityResponse::from,
    )))
}

/// An activity visible to the caller.
#[utoipa::path(get, path = "/api/v1/activities/{id}", tag = "activities", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Activity id")),
    responses((status = 200, description = "The activity", body = ActivityResponse), (status = 404, description = "Absent or not visible")))]
pub async fn get(
    svc: web::Data<ActivityService>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let activity = svc.get(&caller, id.into_inner()).await?;
    Ok(envelope::ok(&ActivityResponse::from(activity)))
}

/// Edit content and policies (owner or admin); `policies` changes only the fields it names.
#[utoipa::path(patch, path = "/api/v1/activities/{id}", tag = "activities", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Activity id")), request_body = UpdateActivityRequest,
    responses((status = 200, description = "The activity", body = ActivityResponse), (status = 403, description = "Not the owner")))]
pub async fn update(
    svc: web::Data<ActivityService>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<UpdateActivityRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let mut errors = ValidationErrors::new();
    let difficulty = parse::<Difficulty>(&mut errors, "difficulty", body.difficulty.as_deref());
    errors.into_result()?;
    let patch = ActivityPatch {
        title: body.title,
        description: body.description,
        instructions: body.instructions,
        subject: body.subject,
        difficulty,
        tags: body.tags,
        evaluation_criteria: body.evaluation_criteria,
        policies: body.policies,
    };
    let activity = svc.update(&caller, id.into_inner(), patch).await?;
    Ok(envelope::ok(&ActivityResponse::from(activity)))
}

/// Publish an activity (owner or admin); the first publication sets `published_at`.
#[utoipa::path(post, path = "/api/v1/activities/{id}/publish", tag = "activities", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Activity id")),
    responses((status = 200, description = "The activity", body = ActivityResponse)))]
pub async fn publish(
    svc: web::Data<ActivityService>,
    caller: Caller,
    id: web::Path<Uuid>,
    _body: OptionalJson<NoFields>,
) -> Result<HttpResponse, ApiError> {
    let activity = svc
        .set_status(&caller, id.into_inner(), ActivityStatus::Published)
        .await?;
    Ok(envelope::ok(&ActivityResponse::from(activity)))
}

/// Archive an activity (owner or admin).
#[utoipa::path(post, path = "/api/v1/activities/{id}/archive", tag = "activities", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Activity id")),
    responses((status = 200, description = "The activity", body = ActivityResponse)))]
pub async fn archive(
    svc: web::Data<ActivityService>,
    caller: Caller,
    id: web::Path<Uuid>,
    _body: OptionalJson<NoFields>,
) -> Result<HttpResponse, ApiError> {
    let activity = svc
        .set_status(&caller, id.into_inner(), ActivityStatus::Archived)
        .await?;
    Ok(envelope::ok(&ActivityResponse::from(activity)))
}
