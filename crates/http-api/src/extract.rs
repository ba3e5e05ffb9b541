//! Extractors: the authenticated caller and the client address, plus the body, query and path
//! configurations that turn extraction failures into the SPEC's errors.

use std::future::{ready, Ready};
use std::net::{IpAddr, Ipv4Addr};

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError, UrlencodedError};
use actix_web::{dev::Payload, web, FromRequest, HttpMessage, HttpRequest};
use ainative_ai_gateway::tutoring::Actor;
use ainative_auth::Principal;

use crate::error::{from_json_error, ApiError};
use crate::middleware::auth::AuthOutcome;
use crate::middleware::client_ip::ClientIp;

/// The authenticated caller. Rejects with 401 (or 503 when tokens cannot be checked).
#[derive(Debug, Clone)]
pub struct AuthUser(pub Principal);

impl AuthUser {
    /// The caller as the tutoring use cases see it.
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: self.0.user_id,
            roles: self.0.roles.clone(),
        }
    }
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let result = match req.extensions().get::<AuthOutcome>() {
            Some(AuthOutcome::Authenticated(p)) => Ok(AuthUser(p.clone())),
            Some(AuthOutcome::Unavailable(msg)) => Err(ApiError::Unavailable(msg.clone())),
            Some(AuthOutcome::Rejected) => {
                Err(ApiError::Unauthorized("invalid, expired or revoked token"))
            }
            Some(AuthOutcome::Anonymous) | None => {
                Err(ApiError::Unauthorized("missing bearer token"))
            }
        };
        ready(result)
    }
}

/// The client address resolved by the request-context middleware.
#[derive(Debug, Clone, Copy)]
pub struct Client(pub IpAddr);

impl FromRequest for Client {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let ip = req
            .extensions()
            .get::<ClientIp>()
            .map(|c| c.0)
            .or_else(|| req.peer_addr().map(|a| a.ip()))
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        ready(Ok(Client(ip)))
    }
}

fn json_error(err: JsonPayloadError) -> ApiError {
    match err {
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
            ApiError::PayloadTooLarge
        }
        JsonPayloadError::ContentType => {
            ApiError::UnsupportedMediaType("expected Content-Type: application/json")
        }
        JsonPayloadError::Deserialize(e) => from_json_error(&e),
        JsonPayloadError::Payload(actix_web::error::PayloadError::Overflow) => {
            ApiError::PayloadTooLarge
        }
        other => ApiError::BadRequest(format!("could not read the request body: {other}")),
    }
}

/// JSON bodies: size limit, required content type, SPEC errors.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .content_type_required(true)
        .error_handler(|err, _| json_error(err).into())
}

/// Query strings: wrong types are 400.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err: QueryPayloadError, _| {
        ApiError::BadRequest(format!("invalid query string: {err}")).into()
    })
}

/// Path parameters that do not parse (a malformed id) address nothing: 404.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default()
        .error_handler(|_: PathError, _| ApiError::not_found("resource").into())
}

/// Form bodies: size limit and media type.
pub fn form_error(err: &UrlencodedError) -> ApiError {
    match err {
        UrlencodedError::Overflow { .. } => ApiError::PayloadTooLarge,
        UrlencodedError::ContentType => ApiError::UnsupportedMediaType(
            "expected Content-Type: application/x-www-form-urlencoded",
        ),
        other => ApiError::BadRequest(format!("invalid form body: {other}")),
    }
}
