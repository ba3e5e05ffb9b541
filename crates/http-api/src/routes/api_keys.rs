//! API keys (SPEC §10.3): `/api/v1/auth/api-keys` for the caller's own keys and
//! `/api/v1/admin/api-keys` for every key (admins; revocation audited).

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use ainative_auth::{ApiKeyService, NewKeyInput};
use ainative_ports::ApiKey;
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::resource;
use crate::envelope;
use crate::error::ApiError;
use crate::extract::{Caller, Json, Query};

/// The caller's own keys, inside the `/auth` scope (its `no-store` header applies).
pub fn configure_own(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/api-keys", "GET, POST")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(resource("/api-keys/{id}", "DELETE").route(web::delete().to(delete)));
}

/// Every key, for admins.
pub fn configure_admin(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/admin/api-keys", "GET").route(web::get().to(admin_list)))
        .service(resource("/admin/api-keys/{id}", "DELETE").route(web::delete().to(admin_revoke)));
}

/// A new key's name, scopes and life.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKeyRequest {
    /// A label, 1 to 100 characters.
    #[schema(example = "grading script")]
    pub name: String,
    /// Within the caller's rights: activities:read, activities:write, sessions:read,
    /// sessions:write, risks:read, admin.
    #[schema(example = json!(["sessions:read"]))]
    pub scopes: Vec<String>,
    /// Days until the key expires (1 to 3650); absent = until deleted.
    pub expires_in_days: Option<u32>,
}

/// A key as lists show it; the secret is never shown again.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyResponse {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    /// The first characters of the key, to recognise it.
    #[schema(example = "ain_3kT9xQ2m")]
    pub prefix: String,
    #[schema(example = json!(["sessions:read"]))]
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<&ApiKey> for ApiKeyResponse {
    fn from(k: &ApiKey) -> Self {
        Self {
            id: k.id,
            user_id: k.user_id,
            name: k.name.clone(),
            prefix: k.prefix.clone(),
            scopes: k.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            expires_at: k.expires_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A key just created: the record and, this once, the key itself.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiKeyResponse {
    #[serde(flatten)]
    pub record: ApiKeyResponse,
    /// The key: `ain_` + 32 base62 characters + a 6-character checksum. Shown only here.
    #[schema(example = "ain_3kT9xQ2mZ7pL0aB4cD8eF1gH5iJ6kL9mN0oP2q3X7yZ")]
    pub key: String,
}

/// Create an API key (shown once). Not with an API key, unless it has the admin scope and
/// its owner is an admin.
#[utoipa::path(post, path = "/api/v1/auth/api-keys", tag = "auth", security(("bearer" = [])),
    request_body = CreateApiKeyRequest,
    responses((status = 201, description = "Created; `key` is shown this once", body = CreatedApiKeyResponse),
        (status = 401, description = "Not authenticated"),
        (status = 403, description = "An API key may not manage keys"),
        (status = 415, description = "Not JSON"),
        (status = 422, description = "A field broke its rules (unknown scope, scope beyond the caller's rights, too many keys)")))]
pub async fn create(
    keys: web::Data<ApiKeyService>,
    caller: Caller,
    body: Json<CreateApiKeyRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let created = keys
        .create(
            &caller,
            NewKeyInput {
                name: body.name,
                scopes: body.scopes,
                expires_in_days: body.expires_in_days,
            },
        )
        .await?;
    let response = CreatedApiKeyResponse {
        record: ApiKeyResponse::from(&created.key),
        key: created.token.expose_secret().to_owned(),
    };
    let mut res = envelope::created(&response);
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

/// The caller's keys that are not revoked, newest first.
#[utoipa::path(get, path = "/api/v1/auth/api-keys", tag = "auth", security(("bearer" = [])),
    responses((status = 200, description = "The caller's keys (no secrets)", body = [ApiKeyResponse]),
        (status = 401, description = "Not authenticated"),
        (status = 403, description = "An API key may not manage keys")))]
pub async fn list(
    keys: web::Data<ApiKeyService>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let found = keys.list(&caller).await?;
    let body: Vec<ApiKeyResponse> = found.iter().map(ApiKeyResponse::from).collect();
    Ok(envelope::ok(&body))
}

/// Delete (revoke) one of the caller's keys; it stops working at once on every instance.
#[utoipa::path(delete, path = "/api/v1/auth/api-keys/{id}", tag = "auth", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Key id")),
    responses((status = 204, description = "Revoked"),
        (status = 401, description = "Not authenticated"),
        (status = 403, description = "An API key may not manage keys"),
        (status = 404, description = "No such key of the caller")))]
pub async fn delete(
    keys: web::Data<ApiKeyService>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    keys.delete(&caller, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Filter of the admin list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AdminKeyQuery {
    /// Only this user's keys.
    pub user_id: Option<Uuid>,
}

/// Every API key (revoked ones included), optionally of one user: admins.
#[utoipa::path(get, path = "/api/v1/admin/api-keys", tag = "admin", security(("bearer" = [])),
    params(AdminKeyQuery),
    responses((status = 200, description = "Keys (no secrets)", body = [ApiKeyResponse]),
        (status = 400, description = "Malformed user_id"),
        (status = 401, description = "Not authenticated"),
        (status = 403, description = "Not an admin (or no admin scope)")))]
pub async fn admin_list(
    keys: web::Data<ApiKeyService>,
    caller: Caller,
    query: Query<AdminKeyQuery>,
) -> Result<HttpResponse, ApiError> {
    let found = keys.admin_list(&caller, query.user_id).await?;
    let body: Vec<ApiKeyResponse> = found.iter().map(ApiKeyResponse::from).collect();
    Ok(envelope::ok(&body))
}

/// Revoke any key; audited (`api_key_revoked`) in the same transaction.
#[utoipa::path(delete, path = "/api/v1/admin/api-keys/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Key id")),
    responses((status = 204, description = "Revoked"),
        (status = 401, description = "Not authenticated"),
        (status = 403, description = "Not an admin (or no admin scope)"),
        (status = 404, description = "No such key, or already revoked")))]
pub async fn admin_revoke(
    keys: web::Data<ApiKeyService>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    keys.admin_revoke(&caller, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
