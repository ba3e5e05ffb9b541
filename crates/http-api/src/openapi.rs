//! The OpenAPI 3.1 document (`/openapi.json`) and the Swagger UI (`/docs`), served from the
//! binary.

use utoipa::openapi::security::{
    Flow, HttpAuthScheme, HttpBuilder, OAuth2, Password, Scopes, SecurityScheme,
};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use crate::openapi_common::CommonResponses;
use crate::routes::{
    accounts, activities, admin, api_keys, auth, credentials, dto, health, jobs, materials, oauth,
    reports, risks, sessions, stream, well_known,
};

struct SecurityAddon;

impl Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "oauth2",
            SecurityScheme::OAuth2(OAuth2::new([Flow::Password(Password::new(
                "/api/v1/auth/token",
                Scopes::new(),
            ))])),
        );
    }
}

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "ainative API", description = "AI-native tutoring platform backend. Every JSON response uses the envelope `{success, data, message}` or `{success: false, error: {code, message, details, request_id}}`."),
    paths(
        auth::register, auth::login, auth::token, auth::refresh, auth::logout, auth::me,
        auth::change_password, auth::rate_limit_status, well_known::jwks,
        api_keys::create, api_keys::list, api_keys::delete, api_keys::admin_list, api_keys::admin_revoke,
        oauth::authorize, oauth::callback, oauth::exchange, oauth::link, oauth::accounts, oauth::unlink,
        accounts::request_verification, accounts::verify_email, accounts::request_password_reset, accounts::reset_password,
        admin::list_users, admin::update_user, admin::list_audit, admin::recent_errors,
        jobs::list_jobs, jobs::retry_job,
        health::health, health::live, health::ready,
        activities::create, activities::list, activities::get, activities::update, activities::publish, activities::archive,
        sessions::start, sessions::list, sessions::get, sessions::end, sessions::pause,
        sessions::resume, sessions::abort, sessions::interact, stream::interact_stream,
        sessions::interactions, sessions::traces, sessions::cognitive_path, sessions::risks, sessions::evaluation,
        risks::list, risks::resolve,
        credentials::create, credentials::list_mine, credentials::get_mine, credentials::update_mine,
        credentials::delete_mine, credentials::verify, credentials::admin_list, credentials::admin_limits,
        credentials::suspend, credentials::activate,
        materials::upload, materials::list, materials::status, materials::graph, materials::delete,
        reports::request, reports::list, reports::get,
    ),
    components(schemas(dto::UserResponse, dto::TokenResponse, dto::AuthResponse, dto::RateLimitStatus, dto::AuditResponse,
        oauth::ExchangeRequest, oauth::LinkRequest, oauth::LinkResponse, oauth::OAuthAccountResponse)),
    modifiers(&SecurityAddon),
    tags((name = "auth", description = "Identity"), (name = "oauth", description = "Social login (OAuth 2.0 / OpenID Connect)"), (name = "admin", description = "Administration"), (name = "health", description = "Probes"),
        (name = "activities", description = "Activities"), (name = "sessions", description = "Tutoring sessions and the AI gateway"),
        (name = "risks", description = "Risks"), (name = "credentials", description = "Your own model endpoints (bring your own model)"),
        (name = "materials", description = "Course material and its processing"),
        (name = "reports", description = "Course reports"))
)]
pub struct ApiDoc;

/// The served document: [`ApiDoc`] with the responses every operation shares
/// ([`CommonResponses`]).
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    CommonResponses.modify(&mut doc);
    doc
}

/// The Swagger UI at `/docs/`, with the document at `/openapi.json`.
pub fn swagger_ui() -> SwaggerUi {
    SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", document())
}

/// Every documented operation: (method, route template, the response statuses its handler
/// documents, without the shared ones). The metrics show these series from the start.
pub fn operations() -> Vec<(&'static str, String, Vec<String>)> {
    let doc = ApiDoc::openapi();
    let mut out = Vec::new();
    for (path, item) in doc.paths.paths {
        for (method, operation) in [
            ("GET", item.get),
            ("POST", item.post),
            ("PATCH", item.patch),
            ("PUT", item.put),
            ("DELETE", item.delete),
        ] {
            if let Some(operation) = operation {
                let statuses = operation.responses.responses.into_keys().collect();
                out.push((method, path.clone(), statuses));
            }
        }
    }
    out
}
