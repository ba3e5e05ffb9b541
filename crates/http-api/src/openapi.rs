//! The OpenAPI 3.1 document (`/openapi.json`) and the Swagger UI (`/docs`), served from the
//! binary.

use utoipa::openapi::security::{
    Flow, HttpAuthScheme, HttpBuilder, OAuth2, Password, Scopes, SecurityScheme,
};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use crate::routes::{admin, auth, dto, health};

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
        auth::change_password, auth::rate_limit_status,
        admin::list_users, admin::update_user, admin::list_audit, admin::recent_errors,
        health::health, health::live, health::ready,
    ),
    components(schemas(dto::UserResponse, dto::TokenResponse, dto::AuthResponse, dto::RateLimitStatus, dto::AuditResponse)),
    modifiers(&SecurityAddon),
    tags((name = "auth", description = "Identity"), (name = "admin", description = "Administration"), (name = "health", description = "Probes"))
)]
pub struct ApiDoc;

/// The Swagger UI at `/docs/`, with the document at `/openapi.json`.
pub fn swagger_ui() -> SwaggerUi {
    SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", ApiDoc::openapi())
}
