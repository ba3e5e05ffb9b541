//! The actix-web HTTP layer of ainative: routes, extractors, middleware, the mapping of errors
//! to HTTP, envelopes, and the OpenAPI document with its docs page.
//!
//! [`app`] builds the application from an [`ApiState`]; the `server` crate runs it.

mod envelope;
mod error;
mod error_log;
mod extract;
pub mod metrics;
mod middleware;
mod openapi;
mod openapi_common;
mod routes;
mod state;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::{from_fn, Condition};
use actix_web::{web, App};

pub use error::ApiError;
pub use error_log::{instance_name, ErrorLog, ErrorLogWriter, ServerErrorRecord};
pub use metrics::{metrics_app, Metrics, ScrapeHook};
pub use openapi::{document as openapi_document, ApiDoc};
pub use state::{ApiState, HealthState, HttpSettings, Lifecycle, RateLimits, TutoringServices};

fn cors(settings: &HttpSettings) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods([
            Method::GET,
            Method::POST,
            Method::PATCH,
            Method::PUT,
            Method::DELETE,
        ])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .allowed_header("x-request-id")
        .expose_headers([
            "x-request-id",
            "x-ratelimit-limit",
            "x-ratelimit-remaining",
            "x-ratelimit-reset",
            "retry-after",
        ])
        .max_age(600)
        // Other origins get no CORS headers (the browser blocks them) rather than an error.
        .block_on_origin_mismatch(false);
    for origin in &settings.cors_origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// Builds the application.
pub fn app(
    state: ApiState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let settings = state.settings.clone();
    App::new()
        .app_data(web::Data::from(state.auth))
        .app_data(web::Data::from(state.admin))
        .app_data(web::Data::from(state.oauth))
        .app_data(web::Data::from(state.api_keys))
        .app_data(web::Data::from(state.accounts))
        .app_data(web::Data::from(state.tutoring.activities))
        .app_data(web::Data::from(state.tutoring.sessions))
        .app_data(web::Data::from(state.tutoring.risks))
        .app_data(web::Data::from(state.credentials))
        .app_data(web::Data::from(state.tutoring.materials))
        .app_data(web::Data::from(state.tutoring.reports))
        .app_data(web::Data::from(state.limiter))
        .app_data(web::Data::from(state.jobs))
        .app_data(web::Data::new(state.health))
        .app_data(web::Data::new(state.errors))
        .app_data(web::Data::from(state.metrics))
        .app_data(web::Data::from(state.settings))
        // The JSON and query extractors of `extract` read bodies within this limit.
        .app_data(web::PayloadConfig::new(settings.max_body_bytes))
        .app_data(extract::path_config())
        .service(
            web::scope("/api/v1")
                // Before `auth`: its `/auth` scope would otherwise claim `/auth/oauth/…`.
                .configure(routes::oauth::configure)
                .configure(routes::auth::configure)
                // Before `admin`: its `/admin` scope would otherwise take these paths.
                .configure(routes::credentials::configure)
                .configure(routes::admin::configure)
                .configure(routes::activities::configure)
                .configure(routes::sessions::configure)
                .configure(routes::risks::configure)
                .configure(|cfg| routes::materials::configure(cfg, settings.max_material_bytes))
                .configure(routes::reports::configure)
                .configure(routes::health::configure),
        )
        .configure(routes::well_known::configure)
        .service(
            routes::resource("/docs", "GET").route(web::get().to(|| async {
                actix_web::HttpResponse::PermanentRedirect()
                    .insert_header((header::LOCATION, "/docs/"))
                    .finish()
            })),
        )
        .service(openapi::swagger_ui())
        .default_service(web::to(routes::not_found))
        .wrap(from_fn(middleware::verified::require_verified_email))
        .wrap(from_fn(middleware::rate_limit::rate_limit))
        .wrap(from_fn(middleware::auth::authenticate))
        .wrap(Condition::new(
            !settings.cors_origins.is_empty(),
            cors(&settings),
        ))
        .wrap(from_fn(middleware::request_id::request_context))
}
