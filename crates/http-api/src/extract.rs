//! Extractors: the caller's [`RequestContext`] and the client address; JSON bodies (required
//! or optional) and query strings that answer the SPEC's errors and refuse the NUL character;
//! the path configuration.

use std::future::{ready, Ready};
use std::net::{IpAddr, Ipv4Addr};
use std::ops::Deref;

use actix_web::error::{PathError, PayloadError, UrlencodedError};
use actix_web::http::header;
use actix_web::mime;
use actix_web::{dev::Payload, web, FromRequest, HttpMessage, HttpRequest};
use ainative_auth::{AuthError, AuthFailure};
use ainative_domain::{RequestContext, ValidationErrors, NUL_MESSAGE};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::error::{from_json_error, ApiError};
use crate::middleware::auth::AuthOutcome;
use crate::middleware::client_ip::ClientIp;

/// The authenticated caller's context (user, roles, scopes, request id, trace context).
/// Rejects with 401 (or 503/500 when the token could not be checked).
#[derive(Debug, Clone)]
pub struct Caller(pub RequestContext);

impl Deref for Caller {
    type Target = RequestContext;

    fn deref(&self) -> &RequestContext {
        &self.0
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let result = match req.extensions().get::<AuthOutcome>() {
            Some(AuthOutcome::Authenticated(ctx)) => Ok(Caller(ctx.clone())),
            Some(AuthOutcome::Failed(error)) => {
                Err(if matches!(**error, AuthError::Unavailable(_)) {
                    ApiError::Unavailable(Box::new(error.clone()))
                } else {
                    ApiError::Internal(Box::new(error.clone()))
                })
            }
            Some(AuthOutcome::Rejected(rejection)) => {
                Err(ApiError::Unauthorized(AuthFailure::Token(*rejection)))
            }
            Some(AuthOutcome::Anonymous) | None => {
                Err(ApiError::Unauthorized(AuthFailure::MissingToken))
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

/// Whether the request says its body is JSON (`application/json` or any `+json` type).
fn declares_json(req: &HttpRequest) -> bool {
    matches!(req.mime_type(), Ok(Some(mime))
        if mime.subtype() == mime::JSON || mime.suffix() == Some(mime::JSON))
}

/// The length the request announces, if it announces one.
fn declared_length(req: &HttpRequest) -> Option<u64> {
    req.headers()
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

const NOT_JSON: &str = "expected Content-Type: application/json";

fn body_error(err: actix_web::Error) -> ApiError {
    match err.as_error::<PayloadError>() {
        Some(PayloadError::Overflow) => ApiError::PayloadTooLarge,
        _ => ApiError::BadRequest(format!("could not read the request body: {err}")),
    }
}

/// The body, read within the size limit (`PayloadConfig` of the app, `MAX_BODY_BYTES`).
async fn read_body(fut: <web::Bytes as FromRequest>::Future) -> Result<web::Bytes, ApiError> {
    fut.await.map_err(body_error)
}

/// True when the raw JSON may hold the escape of U+0000. A raw NUL byte is not valid JSON, so
/// the escape is the only way in; the scan is cheap, the exact field is found only on a hit.
fn may_hold_nul(body: &[u8]) -> bool {
    body.windows(6).any(|w| w == br"\u0000")
}

/// The path (`policies.risk_thresholds`, `tags[2]`) of the first string or key holding NUL.
fn nul_path(value: &serde_json::Value, path: &mut String) -> bool {
    use std::fmt::Write;
    match value {
        serde_json::Value::String(text) => text.contains('\0'),
        serde_json::Value::Array(items) => items.iter().enumerate().any(|(i, item)| {
            let len = path.len();
            let _ = write!(path, "[{i}]");
            let found = nul_path(item, path);
            if !found {
                path.truncate(len);
            }
            found
        }),
        serde_json::Value::Object(fields) => fields.iter().any(|(key, item)| {
            if key.contains('\0') {
                return true;
            }
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(key);
            let found = nul_path(item, path);
            if !found {
                path.truncate(len);
            }
            found
        }),
        _ => false,
    }
}

/// Refuses a JSON body holding NUL in any string or key: 422 naming the field. Bodies that
/// are not valid JSON are left to the typed parse (400).
fn refuse_nul(body: &[u8]) -> Result<(), ApiError> {
    if !may_hold_nul(body) {
        return Ok(());
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Ok(());
    };
    let mut path = String::new();
    if nul_path(&value, &mut path) {
        let field = if path.is_empty() { "body" } else { &path };
        return Err(ValidationErrors::single(field, NUL_MESSAGE).into());
    }
    Ok(())
}

/// Parses a JSON body: NUL refused, then the SPEC classification of serde errors.
fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    refuse_nul(body)?;
    serde_json::from_slice(body).map_err(|e| from_json_error(&e))
}

/// A required JSON body: 415 unless the content type is JSON, 413 over `MAX_BODY_BYTES`, 400
/// for malformed JSON or wrong types, 422 for missing or unknown fields and for NUL in any
/// string.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    /// The body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Json<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if !declares_json(req) {
            return Box::pin(ready(Err(ApiError::UnsupportedMediaType(NOT_JSON))));
        }
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let body = read_body(body).await?;
            parse_json(&body).map(Json)
        })
    }
}

/// An optional JSON body: no body, an empty one (whatever its content type) or `null` is
/// `None`; otherwise the rules of [`Json`] apply (a non-empty body of another type is 415).
#[derive(Debug)]
pub struct OptionalJson<T>(pub Option<T>);

impl<T> OptionalJson<T> {
    /// The body, if one was sent.
    pub fn into_inner(self) -> Option<T> {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for OptionalJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = declares_json(req);
        if !json && declared_length(req).is_some_and(|len| len > 0) {
            return Box::pin(ready(Err(ApiError::UnsupportedMediaType(NOT_JSON))));
        }
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let body = read_body(body).await?;
            if body.is_empty() {
                return Ok(OptionalJson(None));
            }
            if !json {
                return Err(ApiError::UnsupportedMediaType(NOT_JSON));
            }
            parse_json::<Option<T>>(&body).map(OptionalJson)
        })
    }
}

/// A body-less action's body: nothing, or an empty JSON object. Anything else says the client
/// expects an effect the action does not have: unknown fields are 422, other types 415.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoFields {}

/// Query strings: a parameter holding NUL is 422 naming it; wrong types are 400.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> Query<T> {
    /// The parameters.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Query<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// The name of the first query parameter whose name or value decodes to text holding NUL.
fn nul_parameter(query: &str) -> Option<String> {
    if !query.contains("%00") {
        return None;
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    pairs
        .into_iter()
        .find(|(name, value)| name.contains('\0') || value.contains('\0'))
        .map(|(name, _)| {
            if name.contains('\0') {
                "query".to_owned()
            } else {
                name
            }
        })
}

fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    if let Some(name) = nul_parameter(query) {
        return Err(ValidationErrors::single(name, NUL_MESSAGE).into());
    }
    serde_urlencoded::from_str(query)
        .map_err(|e| ApiError::BadRequest(format!("invalid query string: {e}")))
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse_query(req.query_string()).map(Query))
    }
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

#[cfg(test)]
mod tests;
