//! `/api/v1/me/llm-credentials` (a user's own model endpoints) and
//! `/api/v1/admin/llm-credentials` (administration), SPEC §10.4. No response carries a key:
//! only its masked hint.

use actix_web::{web, HttpResponse};
use ainative_ai_gateway::credentials::{
    CredentialError, CredentialInput, CredentialPatch, CredentialService, LimitsPatch,
};
use ainative_domain::{CredentialStatus, LlmCredential};
use ainative_ports::CredentialFilter;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::dto::{PageOf, PageQuery};
use super::resource;
use crate::envelope;
use crate::error::ApiError;
use crate::extract::{Caller, Json, OptionalJson, Query};

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/me/llm-credentials", "GET, POST")
            .route(web::get().to(list_mine))
            .route(web::post().to(create)),
    )
    .service(
        resource("/me/llm-credentials/{id}", "GET, PATCH, DELETE")
            .route(web::get().to(get_mine))
            .route(web::patch().to(update_mine))
            .route(web::delete().to(delete_mine)),
    )
    .service(resource("/me/llm-credentials/{id}/verify", "POST").route(web::post().to(verify)))
    .service(resource("/admin/llm-credentials", "GET").route(web::get().to(admin_list)))
    .service(resource("/admin/llm-credentials/{id}", "PATCH").route(web::patch().to(admin_limits)))
    .service(resource("/admin/llm-credentials/{id}/suspend", "POST").route(web::post().to(suspend)))
    .service(
        resource("/admin/llm-credentials/{id}/activate", "POST").route(web::post().to(activate)),
    );
}

impl From<CredentialError> for ApiError {
    fn from(err: CredentialError) -> Self {
        match err {
            CredentialError::Validation(errors) => Self::Validation(errors),
            CredentialError::Forbidden(denied) => denied.into(),
            CredentialError::NotFound => Self::not_found("credential"),
            CredentialError::Unavailable(err) => Self::Unavailable(Box::new(err)),
            CredentialError::Internal(source) => Self::Internal(source),
        }
    }
}

/// A model credential as shown to its owner and to admins (never the key).
#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialResponse {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub label: String,
    /// `openai-compatible`.
    pub provider: String,
    pub base_url: String,
    pub model: String,
    /// Masked key, e.g. `sk-…a1b2`.
    pub key_hint: String,
    /// `active` or `suspended`.
    pub status: String,
    pub suspension_reason: Option<String>,
    pub is_verified: bool,
    pub last_verified_at: Option<DateTime<Utc>>,
    /// Category of the last failed verification: `unauthorized`, `not_found`,
    /// `rate_limited`, `rejected`, `upstream_error`, `timeout`, `connection`, `malformed`,
    /// `blocked_address`.
    pub last_error_kind: Option<String>,
    /// `null`: the configured default.
    pub rate_limit_rpm: Option<u32>,
    /// `null`: the configured default.
    pub max_concurrent_requests: Option<u32>,
    pub total_requests: u64,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<LlmCredential> for CredentialResponse {
    fn from(c: LlmCredential) -> Self {
        Self {
            id: c.id,
            owner_id: c.owner_id,
            label: c.label,
            provider: c.provider,
            base_url: c.base_url,
            model: c.model,
            key_hint: c.key_hint,
            status: c.status.as_str().to_owned(),
            suspension_reason: c.suspension_reason,
            is_verified: c.is_verified,
            last_verified_at: c.last_verified_at,
            last_error_kind: c.last_error_kind,
            rate_limit_rpm: c.rate_limit_rpm,
            max_concurrent_requests: c.max_concurrent_requests,
            total_requests: c.total_requests,
            last_used_at: c.last_used_at,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// Registration of a model credential.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCredentialRequest {
    /// `openai-compatible`.
    pub provider: String,
    /// Endpoint up to the API version, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    pub model: String,
    /// At most 4 KiB; never returned.
    #[schema(value_type = String, format = Password)]
    pub api_key: SecretString,
    pub label: String,
}

/// An owner's change; absent fields stay. A new `base_url`, `model` or `api_key` clears
/// `is_verified`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCredentialRequest {
    pub label: Option<String>,
    pub model: Option<String>,
    pub base_url: Option<String>,
    /// Replaces the key (rotation by the owner).
    #[schema(value_type = Option<String>, format = Password)]
    pub api_key: Option<SecretString>,
}

/// Filters of the admin list.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AdminCredentialQuery {
    /// Only this user's credentials.
    pub user_id: Option<Uuid>,
    /// `active` or `suspended`.
    pub status: Option<String>,
    /// 1..=100, default 20.
    pub limit: Option<i64>,
    /// Default 0.
    pub offset: Option<i64>,
}

/// Why a credential is suspended.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspendRequest {
    pub reason: String,
}

/// Limits of a credential; `null` returns a limit to the configured default.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsRequest {
    /// Requests per minute; 0 = unlimited.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>)]
    pub rate_limit_rpm: Option<Option<u32>>,
    /// Concurrent requests (per instance), at least 1.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>)]
    pub max_concurrent_requests: Option<Option<u32>>,
}

/// A field that is present (`Some`), possibly `null` (`Some(None)`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<u32>>, D::Error> {
    Option::<u32>::deserialize(d).map(Some)
}

fn page_of(page: ainative_domain::Paginated<LlmCredential>) -> PageOf<CredentialResponse> {
    PageOf::from_domain(page, CredentialResponse::from)
}

/// Register a model endpoint of your own (instructors and admins). The key is sealed at
/// rest and never returned.
#[utoipa::path(post, path = "/api/v1/me/llm-credentials", tag = "credentials", security(("bearer" = [])),
    request_body = CreateCredentialRequest,
    responses((status = 201, description = "The credential (masked key)", body = CredentialResponse),
              (status = 403, description = "Not an instructor or admin"),
              (status = 422, description = "Invalid field, unknown field, key over 4 KiB, or a base URL that is not http(s) or points at a private, loopback, link-local or metadata address")))]
pub async fn create(
    svc: web::Data<CredentialService>,
    caller: Caller,
    body: Json<CreateCredentialRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let input = CredentialInput {
        provider: body.provider,
        base_url: body.base_url,
        model: body.model,
        api_key: body.api_key,
        label: body.label,
    };
    let created = svc.create(&caller, input).await?;
    Ok(envelope::created(&CredentialResponse::from(created)))
}

/// Your own model credentials.
#[utoipa::path(get, path = "/api/v1/me/llm-credentials", tag = "credentials", security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, description = "A page of your credentials", body = PageOf<CredentialResponse>),
              (status = 422, description = "Invalid pagination")))]
pub async fn list_mine(
    svc: web::Data<CredentialService>,
    caller: Caller,
    query: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = ainative_domain::Page::new(query.limit, query.offset)?;
    Ok(envelope::ok(&page_of(svc.list_mine(&caller, page).await?)))
}

/// One of your credentials (404 for anyone else's).
#[utoipa::path(get, path = "/api/v1/me/llm-credentials/{id}", tag = "credentials", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Credential id")),
    responses((status = 200, description = "The credential", body = CredentialResponse),
              (status = 404, description = "Absent or not yours")))]
pub async fn get_mine(
    svc: web::Data<CredentialService>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let credential = svc.get_mine(&caller, id.into_inner()).await?;
    Ok(envelope::ok(&CredentialResponse::from(credential)))
}

/// Change the label, model or endpoint of one of your credentials, or replace its key.
#[utoipa::path(patch, path = "/api/v1/me/llm-credentials/{id}", tag = "credentials", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Credential id")), request_body = UpdateCredentialRequest,
    responses((status = 200, description = "The credential", body = CredentialResponse),
              (status = 404, description = "Absent or not yours"),
              (status = 422, description = "Invalid or unknown field, or a forbidden base URL")))]
pub async fn update_mine(
    svc: web::Data<CredentialService>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<UpdateCredentialRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let patch = CredentialPatch {
        label: body.label,
        model: body.model,
        base_url: body.base_url,
        api_key: body.api_key,
    };
    let updated = svc.update_mine(&caller, id.into_inner(), patch).await?;
    Ok(envelope::ok(&CredentialResponse::from(updated)))
}

/// Delete one of your credentials; activities naming it fall back to the platform's model
/// (or answer 409 when they require their own credential).
#[utoipa::path(delete, path = "/api/v1/me/llm-credentials/{id}", tag = "credentials", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Credential id")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "Absent or not yours")))]
pub async fn delete_mine(
    svc: web::Data<CredentialService>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    svc.delete_mine(&caller, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Make one cheap call (one token) to the endpoint and record `is_verified`,
/// `last_verified_at` and, on failure, `last_error_kind`. A failing endpoint is not an
/// error of this request: the answer is 200 with the outcome.
#[utoipa::path(post, path = "/api/v1/me/llm-credentials/{id}/verify", tag = "credentials", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Credential id")),
    responses((status = 200, description = "The credential with the outcome", body = CredentialResponse),
              (status = 404, description = "Absent or not yours")))]
pub async fn verify(
    svc: web::Data<CredentialService>,
    caller: Caller,
    id: web::Path<Uuid>,
    _body: OptionalJson<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    let verified = svc.verify_mine(&caller, id.into_inner()).await?;
    Ok(envelope::ok(&CredentialResponse::from(verified)))
}

/// Every user's model credentials, filtered by user and status (admins).
#[utoipa::path(get, path = "/api/v1/admin/llm-credentials", tag = "admin", security(("bearer" = [])),
    params(AdminCredentialQuery),
    responses((status = 200, description = "A page of credentials", body = PageOf<CredentialResponse>),
              (status = 403, description = "Not an admin"), (status = 422, description = "Invalid filter")))]
pub async fn admin_list(
    svc: web::Data<CredentialService>,
    caller: Caller,
    query: Query<AdminCredentialQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let (page, mut errors) = super::page_and_errors(query.limit, query.offset);
    let status = match query.status.as_deref() {
        Some(s) => errors.collect("status", s.parse::<CredentialStatus>()),
        None => None,
    };
    errors.into_result()?;
    let filter = CredentialFilter {
        owner_id: query.user_id,
        status,
    };
    Ok(envelope::ok(&page_of(
        svc.admin_list(&caller, filter, page).await?,
    )))
}

/// Change a credential's limits (admins; audited).
#[utoipa::path(patch, path = "/api/v1/admin/llm-credentials/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Credential id")), request_body = LimitsRequest,
    responses((status = 200, description = "The credential", body = CredentialResponse),
              (status = 403, description = "Not an admin"), (status = 404, description = "No such credential"),
              (status = 422, description = "Invalid limits")))]
pub async fn admin_limits(
    svc: web::Data<CredentialService>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<LimitsRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let body = body.into_inner();
    let limits = LimitsPatch {
        rate_limit_rpm: body.rate_limit_rpm,
        max_concurrent_requests: body.max_concurrent_requests,
    };
    let updated = svc.set_limits(&caller, id.into_inner(), limits).await?;
    Ok(envelope::ok(&CredentialResponse::from(updated)))
}

/// Suspend a credential (admins; audited): from the next turn on it is not used.
#[utoipa::path(post, path = "/api/v1/admin/llm-credentials/{id}/suspend", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Credential id")), request_body = SuspendRequest,
    responses((status = 200, description = "The credential", body = CredentialResponse),
              (status = 403, description = "Not an admin"), (status = 404, description = "No such credential"),
              (status = 422, description = "Missing or invalid reason")))]
pub async fn suspend(
    svc: web::Data<CredentialService>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<SuspendRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let updated = svc
        .suspend(&caller, id.into_inner(), body.into_inner().reason)
        .await?;
    Ok(envelope::ok(&CredentialResponse::from(updated)))
}

/// Activate a suspended credential (admins; audited).
#[utoipa::path(post, path = "/api/v1/admin/llm-credentials/{id}/activate", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Credential id")),
    responses((status = 200, description = "The credential", body = CredentialResponse),
              (status = 403, description = "Not an admin"), (status = 404, description = "No such credential")))]
pub async fn activate(
    svc: web::Data<CredentialService>,
    caller: Caller,
    id: web::Path<Uuid>,
    _body: OptionalJson<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let updated = svc.activate(&caller, id.into_inner()).await?;
    Ok(envelope::ok(&CredentialResponse::from(updated)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_tell_absent_from_null() {
        let body: LimitsRequest =
            serde_json::from_str(r#"{"rate_limit_rpm": null, "max_concurrent_requests": 3}"#)
                .unwrap();
        assert_eq!(body.rate_limit_rpm, Some(None));
        assert_eq!(body.max_concurrent_requests, Some(Some(3)));
        let body: LimitsRequest = serde_json::from_str("{}").unwrap();
        assert_eq!(body.rate_limit_rpm, None);
        assert!(serde_json::from_str::<LimitsRequest>(r#"{"rpm": 1}"#).is_err());
    }
}
