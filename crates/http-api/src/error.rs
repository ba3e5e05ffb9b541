//! The one place where errors become HTTP: status, code string and the SPEC error envelope.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use ainative_ai_gateway::tutoring::TutoringError;
use ainative_auth::AuthError;
use ainative_domain::{FieldError, ValidationErrors};
use ainative_ports::LlmError;
use serde::Serialize;

use crate::middleware::request_id::current_request_id;

/// Every error the API answers with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed JSON or wrong JSON types (400).
    #[error("{0}")]
    BadRequest(String),
    /// Field rules failed (422).
    #[error("{0}")]
    Validation(ValidationErrors),
    /// Missing or unacceptable credentials (401).
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Authenticated but not allowed (403).
    #[error("{0}")]
    Forbidden(&'static str),
    /// No such resource, or not visible to the caller (404).
    #[error("{0}")]
    NotFound(String),
    /// A unique field is taken (409).
    #[error("{0}")]
    Conflict(String),
    /// Body larger than the limit (413).
    #[error("request body is too large")]
    PayloadTooLarge,
    /// Body is not of the expected media type (415).
    #[error("{0}")]
    UnsupportedMediaType(&'static str),
    /// Rate limit exceeded (429).
    #[error("{message}")]
    RateLimited {
        /// What was limited.
        message: &'static str,
        /// Seconds until a retry can succeed.
        retry_after_secs: u64,
    },
    /// Method not allowed on an existing route (405); carries the `Allow` value.
    #[error("method not allowed")]
    MethodNotAllowed(&'static str),
    /// A dependency is unavailable (503).
    #[error("service temporarily unavailable")]
    Unavailable(String),
    /// The language model did not answer in time (504).
    #[error("the language model did not answer in time")]
    UpstreamTimeout,
    /// The language model failed (502).
    #[error("the language model failed; try again later")]
    UpstreamError(String),
    /// Anything else (500). The payload is logged, never sent.
    #[error("internal server error")]
    Internal(String),
}

/// Internal detail of a 5xx, kept in the response extensions for logs and `/admin/errors`.
#[derive(Debug, Clone)]
pub struct ErrorDetail(pub String);

/// The SPEC code of an error response, kept in its extensions for metrics.
#[derive(Debug, Clone, Copy)]
pub struct ErrorCode(pub &'static str);

/// Why authentication failed, kept in the response extensions for `auth_failures_total`.
#[derive(Debug, Clone, Copy)]
pub struct AuthFailure(pub &'static str);

#[derive(Serialize)]
struct ErrorBody<'a> {
    success: bool,
    error: ErrorInfo<'a>,
}

#[derive(Serialize)]
struct ErrorInfo<'a> {
    code: &'a str,
    message: String,
    details: &'a [FieldError],
    request_id: String,
}

impl ApiError {
    /// The SPEC code string.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "BAD_REQUEST",
            Self::Validation(_) => "VALIDATION_ERROR",
            Self::Unauthorized(_) => "UNAUTHORIZED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::NotFound(_) => "NOT_FOUND",
            Self::Conflict(_) => "CONFLICT",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::UnsupportedMediaType(_) => "UNSUPPORTED_MEDIA_TYPE",
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::MethodNotAllowed(_) => "METHOD_NOT_ALLOWED",
            Self::Unavailable(_) => "SERVICE_UNAVAILABLE",
            Self::UpstreamTimeout => "UPSTREAM_TIMEOUT",
            Self::UpstreamError(_) => "UPSTREAM_ERROR",
            Self::Internal(_) => "INTERNAL",
        }
    }

    /// A 404 for a route or resource.
    pub fn not_found(what: &str) -> Self {
        Self::NotFound(format!("{what} not found"))
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        Self::Validation(errors)
    }
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::Validation(errors) => Self::Validation(errors),
            AuthError::InvalidCredentials => Self::Unauthorized("invalid login or password"),
            AuthError::AccountInactive => Self::Forbidden("account is inactive"),
            AuthError::Throttled { retry_after_secs } => Self::RateLimited {
                message: "too many failed login attempts; try again later",
                retry_after_secs,
            },
            AuthError::InvalidToken(_) => Self::Unauthorized("invalid, expired or revoked token"),
            AuthError::Forbidden => Self::Forbidden("you are not allowed to do this"),
            AuthError::NotFound(what) => Self::not_found(what),
            AuthError::Conflict(conflict) => Self::Conflict(conflict.to_string()),
            AuthError::Unavailable(msg) => Self::Unavailable(msg),
            AuthError::Internal(msg) => Self::Internal(msg),
        }
    }
}

impl From<TutoringError> for ApiError {
    fn from(err: TutoringError) -> Self {
        match err {
            TutoringError::Validation(errors) => Self::Validation(errors),
            TutoringError::Forbidden(msg) => Self::Forbidden(msg),
            TutoringError::NotFound(what) => Self::not_found(what),
            TutoringError::Conflict(msg) => Self::Conflict(msg),
            TutoringError::Llm(LlmError::Timeout) => Self::UpstreamTimeout,
            TutoringError::Llm(other) => Self::UpstreamError(other.to_string()),
            TutoringError::Unavailable(msg) => Self::Unavailable(msg),
            TutoringError::Internal(msg) => Self::Internal(msg),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::UpstreamTimeout => StatusCode::GATEWAY_TIMEOUT,
            Self::UpstreamError(_) => StatusCode::BAD_GATEWAY,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let request_id = current_request_id().unwrap_or_default();
        let mut builder = HttpResponse::build(status);
        match self {
            Self::Unauthorized(_) => {
                builder.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            Self::RateLimited {
                retry_after_secs, ..
            } => {
                builder.insert_header((header::RETRY_AFTER, retry_after_secs.max(&1).to_string()));
                builder.insert_header((header::CACHE_CONTROL, "no-store"));
            }
            Self::MethodNotAllowed(allow) => {
                builder.insert_header((header::ALLOW, *allow));
            }
            Self::Unavailable(_) => {
                builder.insert_header((header::RETRY_AFTER, "5"));
            }
            _ => {}
        }
        let message = match self {
            Self::Validation(_) => "request validation failed".to_owned(),
            other => other.to_string(),
        };
        let details: &[FieldError] = match self {
            Self::Validation(errors) => &errors.0,
            _ => &[],
        };
        let body = ErrorBody {
            success: false,
            error: ErrorInfo {
                code: self.code(),
                message,
                details,
                request_id: request_id.clone(),
            },
        };
        let mut response = builder.json(body);
        response.extensions_mut().insert(ErrorCode(self.code()));
        let auth_failure = match self {
            Self::Unauthorized("invalid login or password") => Some("invalid_credentials"),
            Self::Unauthorized("missing bearer token") => Some("missing_token"),
            Self::Forbidden("account is inactive") => Some("inactive_account"),
            _ => None,
        };
        if let Some(reason) = auth_failure {
            response.extensions_mut().insert(AuthFailure(reason));
        }
        if let Self::Internal(detail) | Self::Unavailable(detail) | Self::UpstreamError(detail) =
            self
        {
            tracing::error!(%request_id, code = self.code(), error = %detail, "request failed");
            response
                .extensions_mut()
                .insert(ErrorDetail(detail.clone()));
        }
        response
    }
}

/// Classifies a JSON body error: syntax and type errors are 400; a missing or unknown field is
/// a 422 naming the field.
pub(crate) fn from_json_error(err: &serde_json::Error) -> ApiError {
    let text = err.to_string();
    for (prefix, message) in [
        ("missing field `", "is required"),
        ("unknown field `", "is not allowed"),
    ] {
        if let Some(rest) = text.strip_prefix(prefix) {
            if let Some(field) = rest.split('`').next() {
                return ApiError::Validation(ValidationErrors::single(field, message));
            }
        }
    }
    ApiError::BadRequest(format!("malformed JSON body: {text}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    async fn body_of(err: ApiError) -> (StatusCode, serde_json::Value, HttpResponse) {
        let resp = err.error_response();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = to_bytes(resp.into_body()).await.unwrap();
        let mut rebuilt = HttpResponse::build(status);
        for (k, v) in headers.iter() {
            rebuilt.insert_header((k.clone(), v.clone()));
        }
        (
            status,
            serde_json::from_slice(&bytes).unwrap(),
            rebuilt.finish(),
        )
    }

    #[actix_web::test]
    async fn internal_errors_never_leak_their_detail() {
        let (status, body, _) = body_of(ApiError::Internal(
            "password=hunter2 at db.internal:5432".into(),
        ))
        .await;
        assert_eq!(status, 500);
        assert_eq!(body["error"]["code"], "INTERNAL");
        assert!(!body.to_string().contains("hunter2"));
        assert!(!body.to_string().contains("5432"));
    }

    #[actix_web::test]
    async fn each_kind_has_its_status_code_and_headers() {
        let (s, b, r) = body_of(ApiError::Unauthorized("x")).await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (401, Some("UNAUTHORIZED"))
        );
        assert_eq!(r.headers().get("www-authenticate").unwrap(), "Bearer");
        let (s, _, r) = body_of(ApiError::RateLimited {
            message: "x",
            retry_after_secs: 0,
        })
        .await;
        assert_eq!(s, 429);
        assert_eq!(r.headers().get("retry-after").unwrap(), "1");
        let (s, _, r) = body_of(ApiError::MethodNotAllowed("GET, POST")).await;
        assert_eq!(s, 405);
        assert_eq!(r.headers().get("allow").unwrap(), "GET, POST");
        let (s, b, _) = body_of(ValidationErrors::single("email", "bad").into()).await;
        assert_eq!(s, 422);
        assert_eq!(b["error"]["details"][0]["field"], "email");
        assert_eq!(b["success"], false);
    }

    #[test]
    fn json_errors_are_classified() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Body {
            a: i32,
        }
        let cases = [
            (r#"{"a": 1, "roles": ["admin"]}"#, "VALIDATION_ERROR"),
            (r#"{}"#, "VALIDATION_ERROR"),
            (r#"{"a": "x"}"#, "BAD_REQUEST"),
            (r#"{"a": 1"#, "BAD_REQUEST"),
        ];
        for (json, code) in cases {
            let err = serde_json::from_str::<Body>(json).unwrap_err();
            assert_eq!(from_json_error(&err).code(), code, "{json}");
        }
    }
}
