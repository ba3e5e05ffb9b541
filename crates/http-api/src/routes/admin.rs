//! `/api/v1/admin`: user administration, audit log and recent server errors (role admin).

use actix_web::{web, HttpResponse};
use ainative_auth::AdminService;
use ainative_domain::{Page, Role, RoleSet, Tier, UserPatch, ValidationErrors};
use ainative_ports::UserFilter;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::dto::{AuditResponse, PageOf, PageQuery, UserListQuery, UserPatchRequest, UserResponse};
use super::resource;
use crate::envelope;
use crate::error::ApiError;
use crate::error_log::{ErrorLog, ServerErrorRecord};
use crate::extract::{Caller, Json, Query};

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/admin")
            .service(resource("/users", "GET").route(web::get().to(list_users)))
            .service(resource("/users/{id}", "PATCH").route(web::patch().to(update_user)))
            .service(resource("/audit", "GET").route(web::get().to(list_audit)))
            .service(resource("/errors", "GET").route(web::get().to(recent_errors)))
            .service(resource("/jobs", "GET").route(web::get().to(super::jobs::list_jobs)))
            .service(
                resource("/jobs/{id}/retry", "POST").route(web::post().to(super::jobs::retry_job)),
            ),
    );
}

fn parse_filter(q: &UserListQuery) -> Result<(UserFilter, Page), ValidationErrors> {
    let (page, mut errors) = super::page_and_errors(q.limit, q.offset);
    let role = match q.role.as_deref() {
        Some(r) => errors.collect("role", r.parse::<Role>()),
        None => None,
    };
    errors.into_result()?;
    Ok((
        UserFilter {
            role,
            is_active: q.is_active,
        },
        page,
    ))
}

/// List users, filtered by role and activity.
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin", security(("bearer" = [])), params(UserListQuery),
    responses((status = 200, description = "A page of users", body = PageOf<UserResponse>),
              (status = 403, description = "Caller is not an admin")))]
pub async fn list_users(
    admin: web::Data<AdminService>,
    caller: Caller,
    query: Query<UserListQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let (filter, page) = parse_filter(&query)?;
    let users = admin.list_users(&caller, &filter, page).await?;
    Ok(envelope::ok(&PageOf::from_domain(users, |u| {
        UserResponse::from(&u)
    })))
}

fn parse_patch(body: UserPatchRequest) -> Result<UserPatch, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let roles = match body.roles {
        Some(names) => errors.collect("roles", RoleSet::parse(&names)),
        None => None,
    };
    let tier = match body.tier.as_deref() {
        Some(t) => errors.collect("tier", t.parse::<Tier>()),
        None => None,
    };
    errors.into_result()?;
    Ok(UserPatch {
        roles,
        tier,
        is_active: body.is_active,
    })
}

/// Change roles, tier or activity of a user (audited; ends the user's sessions when their
/// tokens become stale).
#[utoipa::path(patch, path = "/api/v1/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")), request_body = UserPatchRequest,
    responses((status = 200, description = "The updated user", body = UserResponse),
              (status = 404, description = "No such user"), (status = 422, description = "Invalid change")))]
pub async fn update_user(
    admin: web::Data<AdminService>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<UserPatchRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let patch = parse_patch(body.into_inner())?;
    let updated = admin.update_user(&caller, id.into_inner(), patch).await?;
    Ok(envelope::ok(&UserResponse::from(&updated)))
}

/// The audit log of admin actions, newest first.
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "admin", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, description = "A page of audit rows", body = PageOf<AuditResponse>)))]
pub async fn list_audit(
    admin: web::Data<AdminService>,
    caller: Caller,
    query: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let page = Page::new(query.limit, query.offset)?;
    let rows = admin.list_audit(&caller, page).await?;
    Ok(envelope::ok(&PageOf::from_domain(
        rows,
        AuditResponse::from,
    )))
}

/// Recent server errors of every instance.
#[derive(Serialize, ToSchema)]
pub struct ErrorList {
    pub items: Vec<ServerErrorRecord>,
    pub total: u64,
}

/// The last 100 server errors of every instance of the deployment (kept in the database),
/// newest first, with their request ids and the instance that answered.
#[utoipa::path(get, path = "/api/v1/admin/errors", tag = "admin", security(("bearer" = [])),
    responses((status = 200, description = "Recent server errors", body = ErrorList),
              (status = 503, description = "The database is unavailable")))]
pub async fn recent_errors(
    errors: web::Data<ErrorLog>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let items = errors.recent().await.map_err(|err| {
        if err.is_unavailable() {
            ApiError::Unavailable(Box::new(err))
        } else {
            ApiError::Internal(Box::new(err))
        }
    })?;
    Ok(envelope::ok(&ErrorList {
        total: items.len() as u64,
        items,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_reports_each_bad_field() {
        let err = parse_patch(UserPatchRequest {
            roles: Some(vec!["root".into()]),
            tier: Some("gold".into()),
            is_active: None,
        })
        .unwrap_err();
        let fields: Vec<_> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["roles", "tier"]);
        assert!(parse_patch(UserPatchRequest {
            roles: Some(vec![]),
            tier: None,
            is_active: None
        })
        .is_err());
    }
}
