//! The one place where errors become HTTP: status, code string and the SPEC error envelope.

use std::borrow::Cow;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use ainative_ai_gateway::tutoring::TutoringError;
use ainative_auth::{AuthError, AuthFailure, OAuthError, TokenRejection};
use ainative_domain::{AccessDenied, FieldError, ValidationErrors};
use ainative_jobs::JobAdminError;
use ainative_ports::{error_chain, Cause, LlmError, ProviderError};
use serde::Serialize;

use crate::middleware::request_id::current_request_id;

/// The underlying error of a 500 or 503, kept as the source so the log line shows the chain.
pub type ErrorSource = Box<dyn std::error::Error + Send + Sync>;

/// Every error the API answers with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed JSON or wrong JSON types (400).
    #[error("{0}")]
    BadRequest(String),
    /// A verification or reset token that cannot be used (400); one message for every
    /// reason.
    #[error("invalid or expired token")]
    InvalidToken,
    /// `REQUIRE_VERIFIED_EMAIL` is on and the caller's address is not verified (403).
    #[error("verify your e-mail address first")]
    EmailNotVerified,
    /// Field rules failed (422).
    #[error("{0}")]
    Validation(ValidationErrors),
    /// Missing or unacceptable credentials (401); the reason feeds `auth_failures_total`.
    #[error("{}", unauthorized_message(.0))]
    Unauthorized(AuthFailure),
    /// Authenticated but not allowed (403).
    #[error("{0}")]
    Forbidden(Cow<'static, str>),
    /// The account is deactivated (403; an authentication failure).
    #[error("account is inactive")]
    AccountInactive,
    /// No such resource, or not visible to the caller (404).
    #[error("{0}")]
    NotFound(String),
    /// A unique field is taken, or the resource's state forbids the change (409).
    #[error("{0}")]
    Conflict(String),
    /// Social login found a local account with the provider's e-mail address; it is not
    /// linked silently (409 `ACCOUNT_EXISTS`).
    #[error("{0}")]
    AccountExists(String),
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
    /// A dependency is unavailable (503). The source is logged, never sent.
    #[error("service temporarily unavailable")]
    Unavailable(#[source] ErrorSource),
    /// The language model did not answer in time (504).
    #[error("the language model did not answer in time")]
    UpstreamTimeout,
    /// The language model failed (502). The source is logged, never sent.
    #[error("the language model failed; try again later")]
    UpstreamError(#[source] LlmError),
    /// Anything else (500). The source is logged, never sent.
    #[error("internal server error")]
    Internal(#[source] ErrorSource),
}

fn unauthorized_message(reason: &AuthFailure) -> &'static str {
    match reason {
        AuthFailure::MissingToken => "missing bearer token",
        AuthFailure::InvalidCredentials | AuthFailure::InactiveAccount => {
            "invalid login or password"
        }
        AuthFailure::Token(_) => "invalid, expired or revoked token",
    }
}

/// The whole error chain of a 5xx (logged and kept for `/admin/errors`; never sent to the
/// client), in the response extensions.
#[derive(Debug, Clone)]
pub struct ErrorDetail(pub String);

/// The SPEC code of an error response, kept in its extensions for metrics.
#[derive(Debug, Clone, Copy)]
pub struct ErrorCode(pub &'static str);

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
    /// Every SPEC code an error response can carry (the label values of `http_errors_total`).
    pub const CODES: [&'static str; 17] = [
        "BAD_REQUEST",
        "INVALID_TOKEN",
        "EMAIL_NOT_VERIFIED",
        "VALIDATION_ERROR",
        "UNAUTHORIZED",
        "FORBIDDEN",
        "NOT_FOUND",
        "CONFLICT",
        "ACCOUNT_EXISTS",
        "PAYLOAD_TOO_LARGE",
        "UNSUPPORTED_MEDIA_TYPE",
        "RATE_LIMITED",
        "METHOD_NOT_ALLOWED",
        "SERVICE_UNAVAILABLE",
        "UPSTREAM_TIMEOUT",
        "UPSTREAM_ERROR",
        "INTERNAL",
    ];

    /// The SPEC code string.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "BAD_REQUEST",
            Self::InvalidToken => "INVALID_TOKEN",
            Self::EmailNotVerified => "EMAIL_NOT_VERIFIED",
            Self::Validation(_) => "VALIDATION_ERROR",
            Self::Unauthorized(_) => "UNAUTHORIZED",
            Self::Forbidden(_) | Self::AccountInactive => "FORBIDDEN",
            Self::NotFound(_) => "NOT_FOUND",
            Self::Conflict(_) => "CONFLICT",
            Self::AccountExists(_) => "ACCOUNT_EXISTS",
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

    /// A 503 whose cause is only a message (for logs).
    pub fn unavailable(message: &'static str) -> Self {
        Self::Unavailable(Box::new(Cause::new(message)))
    }

    /// The `auth_failures_total` reason of this error, when it is an authentication failure.
    pub fn auth_failure(&self) -> Option<AuthFailure> {
        match self {
            Self::Unauthorized(reason) => Some(*reason),
            Self::AccountInactive => Some(AuthFailure::InactiveAccount),
            _ => None,
        }
    }

    /// The chain of causes of a 5xx, for logs and `/admin/errors`; `None` for other errors.
    pub fn internal_detail(&self) -> Option<String> {
        matches!(
            self,
            Self::Internal(_) | Self::Unavailable(_) | Self::UpstreamError(_)
        )
        .then(|| error_chain(self))
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        Self::Validation(errors)
    }
}

impl From<AccessDenied> for ApiError {
    fn from(denied: AccessDenied) -> Self {
        match denied {
            AccessDenied::Rule(rule) => Self::Forbidden(Cow::Borrowed(rule)),
            other => Self::Forbidden(Cow::Owned(other.to_string())),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::Validation(errors) => Self::Validation(errors),
            AuthError::InvalidCredentials => Self::Unauthorized(AuthFailure::InvalidCredentials),
            AuthError::AccountInactive => Self::AccountInactive,
            AuthError::InvalidToken(rejection) => Self::Unauthorized(AuthFailure::Token(rejection)),
            AuthError::Throttled { retry_after_secs } => Self::RateLimited {
                message: "too many failed login attempts; try again later",
                retry_after_secs,
            },
            AuthError::Forbidden(denied) => denied.into(),
            AuthError::InvalidAccountToken => Self::InvalidToken,
            AuthError::EmailNotVerified => Self::EmailNotVerified,
            AuthError::MailThrottled { retry_after_secs } => Self::RateLimited {
                message: "too many mail requests; try again later",
                retry_after_secs,
            },
            AuthError::NotFound(what) => Self::not_found(what),
            AuthError::Conflict(conflict) => Self::Conflict(conflict.to_string()),
            AuthError::Unavailable(err) => Self::Unavailable(Box::new(err)),
            AuthError::Internal(source) => Self::Internal(source),
        }
    }
}

impl From<JobAdminError> for ApiError {
    fn from(err: JobAdminError) -> Self {
        match err {
            JobAdminError::NotFound => Self::not_found("job"),
            JobAdminError::NotDead => Self::Conflict("only dead jobs can be retried".to_owned()),
            JobAdminError::Unavailable(err) => Self::Unavailable(Box::new(err)),
            JobAdminError::Internal(err) => Self::Internal(Box::new(err)),
        }
    }
}

impl From<OAuthError> for ApiError {
    fn from(err: OAuthError) -> Self {
        let text = err.to_string();
        match err {
            OAuthError::UnknownProvider | OAuthError::NotFound => Self::NotFound(text),
            OAuthError::RedirectNotAllowed
            | OAuthError::InvalidState
            | OAuthError::Denied(_)
            | OAuthError::NoEmail
            | OAuthError::InvalidLoginCode
            | OAuthError::Provider(ProviderError::Rejected(_)) => Self::BadRequest(text),
            OAuthError::Provider(ProviderError::InvalidIdToken(_)) => {
                Self::Unauthorized(AuthFailure::Token(TokenRejection::Malformed))
            }
            OAuthError::Provider(err @ ProviderError::Unavailable(_)) => {
                Self::Unavailable(Box::new(err))
            }
            OAuthError::AccountExists => Self::AccountExists(text),
            OAuthError::IdentityLinkedElsewhere | OAuthError::LastSignInMethod => {
                Self::Conflict(text)
            }
            OAuthError::Auth(err) => err.into(),
            OAuthError::Internal(source) => Self::Internal(source),
        }
    }
}

impl From<TutoringError> for ApiError {
    fn from(err: TutoringError) -> Self {
        match err {
            TutoringError::Validation(errors) => Self::Validation(errors),
            TutoringError::Forbidden(denied) => denied.into(),
            TutoringError::NotFound(what) => Self::not_found(what),
            TutoringError::Conflict(conflict) => Self::Conflict(conflict.to_string()),
            TutoringError::RateLimited {
                message,
                retry_after_secs,
            } => Self::RateLimited {
                message,
                retry_after_secs,
            },
            TutoringError::PayloadTooLarge => Self::PayloadTooLarge,
            TutoringError::UnsupportedContentType => Self::UnsupportedMediaType(
                "content_type must be text/markdown, text/plain or application/pdf",
            ),
            TutoringError::Llm(LlmError::Timeout) => Self::UpstreamTimeout,
            TutoringError::Llm(other) => Self::UpstreamError(other),
            TutoringError::Unavailable(err) => Self::Unavailable(Box::new(err)),
            TutoringError::Internal(source) => Self::Internal(source),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) | Self::InvalidToken => StatusCode::BAD_REQUEST,
            Self::EmailNotVerified => StatusCode::FORBIDDEN,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) | Self::AccountInactive => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) | Self::AccountExists(_) => StatusCode::CONFLICT,
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
        if let Some(reason) = self.auth_failure() {
            response.extensions_mut().insert(reason);
        }
        if let Some(detail) = self.internal_detail() {
            tracing::error!(%request_id, code = self.code(), error = %detail, "request failed");
            response.extensions_mut().insert(ErrorDetail(detail));
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
mod tests;
