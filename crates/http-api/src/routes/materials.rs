//! Course material: `/api/v1/activities/{id}/materials` and `/api/v1/materials/{id}/…`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use ainative_ai_gateway::tutoring::{MaterialService, MaterialUpload};
use ainative_domain::ValidationErrors;
use base64::Engine;
use uuid::Uuid;

use super::dto::{PageOf, PageQuery};
use super::materials_dto::{
    MaterialGraphResponse, MaterialResponse, MaterialStatusResponse, UploadAccepted,
    UploadMaterialRequest,
};
use super::resource;
use crate::envelope;
use crate::error::ApiError;
use crate::extract::{Caller, Json, Query};

/// Registers the routes; uploads may be as large as base64 of `max_material_bytes`.
pub fn configure(cfg: &mut web::ServiceConfig, max_material_bytes: usize) {
    // Base64 grows 3 bytes into 4; the rest of the JSON is small.
    let body_limit = max_material_bytes
        .saturating_mul(4)
        .div_ceil(3)
        .saturating_add(64 * 1024);
    cfg.service(
        resource("/activities/{id}/materials", "GET, POST")
            .app_data(web::PayloadConfig::new(body_limit))
            .route(web::get().to(list))
            .route(web::post().to(upload)),
    )
    .service(resource("/materials/{id}/status", "GET").route(web::get().to(status)))
    .service(resource("/materials/{id}/graph", "GET").route(web::get().to(graph)))
    .service(resource("/materials/{id}", "DELETE").route(web::delete().to(delete)));
}

/// The bytes of an upload's `content`.
fn decode(body: &UploadMaterialRequest) -> Result<Vec<u8>, ValidationErrors> {
    match body.encoding.as_deref() {
        None | Some("text") => Ok(body.content.as_bytes().to_vec()),
        Some("base64") => base64::engine::general_purpose::STANDARD
            .decode(body.content.trim())
            .map_err(|_| ValidationErrors::single("content", "is not valid base64")),
        Some(_) => Err(ValidationErrors::single(
            "encoding",
            "must be text or base64",
        )),
    }
}

/// Upload course material to an activity (its owner or an admin). Processing runs as a
/// background job; follow it at `status_url`.
#[utoipa::path(post, path = "/api/v1/activities/{id}/materials", tag = "materials", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Activity id")), request_body = UploadMaterialRequest,
    responses((status = 202, description = "Stored; processing queued", body = UploadAccepted),
        (status = 400, description = "Malformed JSON"), (status = 401, description = "No valid token"),
        (status = 403, description = "Not the activity's owner"), (status = 404, description = "Activity absent or not visible"),
        (status = 413, description = "Over MAX_MATERIAL_BYTES"), (status = 415, description = "Unknown content_type, or a body that is not JSON"),
        (status = 422, description = "Empty content, bad title, bad base64"), (status = 503, description = "Database unavailable")))]
pub async fn upload(
    svc: web::Data<MaterialService>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<UploadMaterialRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let content = decode(&body)?;
    let material = svc
        .upload(
            &caller,
            id.into_inner(),
            MaterialUpload {
                title: body.title,
                content_type: body.content_type,
                content,
            },
        )
        .await?;
    let accepted = UploadAccepted {
        id: material.id,
        status_url: format!("/api/v1/materials/{}/status", material.id),
        material: MaterialResponse::from(material),
    };
    Ok(envelope::with_status(
        StatusCode::ACCEPTED,
        &accepted,
        Some("material stored; processing queued"),
    ))
}

/// The materials of an activity, newest first (its owner or an admin).
#[utoipa::path(get, path = "/api/v1/activities/{id}/materials", tag = "materials", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Activity id"), PageQuery),
    responses((status = 200, description = "A page of materials", body = PageOf<MaterialResponse>),
        (status = 401, description = "No valid token"), (status = 403, description = "Not the activity's owner"),
        (status = 404, description = "Activity absent or not visible"), (status = 422, description = "Bad pagination"),
        (status = 503, description = "Database unavailable")))]
pub async fn list(
    svc: web::Data<MaterialService>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let (page, errors) = super::page_and_errors(query.limit, query.offset);
    errors.into_result()?;
    let materials = svc.list(&caller, id.into_inner(), page).await?;
    Ok(envelope::ok(&PageOf::from_domain(
        materials,
        MaterialResponse::from,
    )))
}

/// The processing status of a material, stage by stage.
#[utoipa::path(get, path = "/api/v1/materials/{id}/status", tag = "materials", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Material id")),
    responses((status = 200, description = "Overall and per-stage status", body = MaterialStatusResponse),
        (status = 401, description = "No valid token"), (status = 404, description = "Absent, or not the caller's activity"),
        (status = 503, description = "Database unavailable")))]
pub async fn status(
    svc: web::Data<MaterialService>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (material, status) = svc.status(&caller, id.into_inner()).await?;
    Ok(envelope::ok(&MaterialStatusResponse::new(
        &material, &status,
    )))
}

/// The concept graph of a material (empty until the graph stage completed).
#[utoipa::path(get, path = "/api/v1/materials/{id}/graph", tag = "materials", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Material id")),
    responses((status = 200, description = "Concepts and co-occurrence edges", body = MaterialGraphResponse),
        (status = 401, description = "No valid token"), (status = 404, description = "Absent, or not the caller's activity"),
        (status = 503, description = "Database unavailable")))]
pub async fn graph(
    svc: web::Data<MaterialService>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (material, graph) = svc.graph(&caller, id.into_inner()).await?;
    Ok(envelope::ok(&MaterialGraphResponse::new(
        material.id,
        graph,
    )))
}

/// Delete a material with its chunks; grounded answers no longer use it.
#[utoipa::path(delete, path = "/api/v1/materials/{id}", tag = "materials", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Material id")),
    responses((status = 204, description = "Deleted"), (status = 401, description = "No valid token"),
        (status = 403, description = "The credential lacks activities:write"),
        (status = 404, description = "Absent, or not the caller's activity"), (status = 503, description = "Database unavailable")))]
pub async fn delete(
    svc: web::Data<MaterialService>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    svc.delete(&caller, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
