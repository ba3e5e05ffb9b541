//! `/.well-known/jwks.json`: the public token-verification keys (RFC 7517).

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use ainative_auth::AuthService;

use super::resource;
use crate::state::HttpSettings;

/// Registers the route (at the root, where JWKS consumers look).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/.well-known/jwks.json", "GET").route(web::get().to(jwks)));
}

/// The JWK set: every key that may verify a token (current and previous), public parts only.
/// A bare JWK set, not the API envelope: verifiers expect RFC 7517. Empty under HS256 (a
/// shared secret is never published).
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "auth",
    responses((status = 200, description = "The JWK set {keys: [...]}; cacheable (Cache-Control: public, max-age)", body = Object, content_type = "application/jwk-set+json"),
        (status = 405, description = "Method not allowed"),
        (status = 429, description = "Too many requests from this address")))]
pub async fn jwks(auth: web::Data<AuthService>, settings: web::Data<HttpSettings>) -> HttpResponse {
    let empty = serde_json::json!({"keys": []});
    let body = auth.codec().keys().map_or(&empty, |ring| ring.jwks());
    HttpResponse::Ok()
        .insert_header((
            header::CACHE_CONTROL,
            format!("public, max-age={}", settings.jwks_max_age_secs),
        ))
        .content_type("application/jwk-set+json")
        .json(body)
}
