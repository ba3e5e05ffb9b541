//! Verifies the bearer token once per request and records the outcome for the extractor and
//! the rate limiter.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage};
use ainative_auth::{AuthError, AuthService, Principal};

/// What the authentication middleware found.
#[derive(Debug, Clone)]
pub enum AuthOutcome {
    /// No `Authorization` header.
    Anonymous,
    /// A valid access token.
    Authenticated(Principal),
    /// A header that is not an acceptable bearer token.
    Rejected,
    /// The token could not be checked (revocation list unavailable).
    Unavailable(String),
}

fn bearer(req: &ServiceRequest) -> Option<Result<&str, ()>> {
    let value = req.headers().get(header::AUTHORIZATION)?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty());
    Some(token.ok_or(()))
}

/// Why a presented token was rejected (for `auth_failures_total`).
#[derive(Debug, Clone, Copy)]
pub struct TokenFailure(pub &'static str);

/// The middleware function.
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let outcome = match (bearer(&req), req.app_data::<web::Data<AuthService>>()) {
        (None, _) => AuthOutcome::Anonymous,
        (Some(Err(())), _) | (_, None) => AuthOutcome::Rejected,
        (Some(Ok(token)), Some(auth)) => match auth.authenticate(token).await {
            Ok(principal) => AuthOutcome::Authenticated(principal),
            Err(AuthError::Unavailable(msg)) => AuthOutcome::Unavailable(msg),
            Err(err) => {
                tracing::debug!(reason = %err, "bearer token rejected");
                let reason = match err {
                    AuthError::InvalidToken(rejection) => rejection.as_str(),
                    _ => "invalid_token",
                };
                req.extensions_mut().insert(TokenFailure(reason));
                AuthOutcome::Rejected
            }
        },
    };
    req.extensions_mut().insert(outcome);
    next.call(req).await
}
