//! Routes by feature.

pub mod accounts;
pub mod activities;
pub mod admin;
pub mod api_keys;
pub mod auth;
pub mod credentials;
pub mod dto;
pub mod health;
pub mod jobs;
pub mod materials;
pub mod materials_dto;
pub mod oauth;
pub mod reports;
pub mod reports_dto;
pub mod risks;
pub mod sessions;
pub mod stream;
pub mod tutoring_dto;
pub mod well_known;

use actix_web::{web, HttpResponse, Resource};

use crate::error::ApiError;

/// A resource that answers methods it does not serve with 405 and an `Allow` header.
pub(crate) fn resource(path: &str, allow: &'static str) -> Resource {
    web::resource(path).default_service(web::to(move || async move {
        Err::<HttpResponse, ApiError>(ApiError::MethodNotAllowed(allow))
    }))
}

/// Parses pagination, keeping its field errors so more can be added before failing.
pub(crate) fn page_and_errors(
    limit: Option<i64>,
    offset: Option<i64>,
) -> (ainative_domain::Page, ainative_domain::ValidationErrors) {
    match ainative_domain::Page::new(limit, offset) {
        Ok(page) => (page, ainative_domain::ValidationErrors::new()),
        Err(errors) => (ainative_domain::Page::default(), errors),
    }
}

/// The answer to unknown routes.
pub(crate) async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("route"))
}
