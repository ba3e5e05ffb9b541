//! Verifies the bearer token once per request and records the outcome (the caller's
//! [`RequestContext`], or why there is none) for the extractor and the rate limiter.

use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage};
use ainative_auth::{ApiKeyService, AuthError, AuthService, TokenRejection};
use ainative_domain::{RequestContext, TraceParent};

use crate::middleware::request_id::{current_request_id, TRACEPARENT};

/// What the authentication middleware found.
#[derive(Debug, Clone)]
pub enum AuthOutcome {
    /// No `Authorization` header.
    Anonymous,
    /// A valid access token: the caller's context.
    Authenticated(RequestContext),
    /// A header that is not an acceptable bearer token, and why.
    Rejected(TokenRejection),
    /// The token could not be checked (revocation list unavailable or failing).
    Failed(Arc<AuthError>),
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

/// The W3C trace context the request carries, when it carries a valid one.
fn trace_parent(req: &ServiceRequest) -> Option<TraceParent> {
    req.headers()
        .get(&TRACEPARENT)
        .and_then(|v| v.to_str().ok())
        .and_then(TraceParent::parse)
}

/// The middleware function.
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let outcome = match (bearer(&req), req.app_data::<web::Data<AuthService>>()) {
        (None, _) => AuthOutcome::Anonymous,
        (Some(Err(())), _) | (_, None) => AuthOutcome::Rejected(TokenRejection::Malformed),
        (Some(Ok(token)), Some(auth)) => {
            let request_id = current_request_id().unwrap_or_default();
            let checked = if ainative_auth::is_api_key(token) {
                match req.app_data::<web::Data<ApiKeyService>>() {
                    Some(keys) => {
                        keys.authenticate(token, &request_id, trace_parent(&req))
                            .await
                    }
                    None => Err(AuthError::InvalidToken(TokenRejection::Malformed)),
                }
            } else {
                auth.authenticate(token, &request_id, trace_parent(&req))
                    .await
            };
            match checked {
                Ok(ctx) => AuthOutcome::Authenticated(ctx),
                Err(AuthError::InvalidToken(rejection)) => {
                    tracing::debug!(reason = rejection.as_str(), "bearer token rejected");
                    AuthOutcome::Rejected(rejection)
                }
                Err(err) => AuthOutcome::Failed(Arc::new(err)),
            }
        }
    };
    req.extensions_mut().insert(outcome);
    next.call(req).await
}
