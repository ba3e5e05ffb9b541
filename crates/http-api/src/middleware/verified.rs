//! `REQUIRE_VERIFIED_EMAIL`: authenticated callers whose address is not verified get 403
//! `EMAIL_NOT_VERIFIED` on the tutoring endpoints; everything else (their own account, the
//! verification flow) stays open so they can verify.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage, ResponseError};
use ainative_auth::AccountService;

use crate::error::ApiError;
use crate::middleware::auth::AuthOutcome;

/// The tutoring endpoints (SPEC §6).
const GATED: [&str; 3] = ["/api/v1/activities", "/api/v1/sessions", "/api/v1/risks"];

fn is_gated(path: &str) -> bool {
    GATED.iter().any(|prefix| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// The middleware function.
pub async fn require_verified_email(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let accounts = req.app_data::<web::Data<AccountService>>().cloned();
    let caller = match (&accounts, is_gated(req.path())) {
        (Some(accounts), true) if accounts.config().require_verified_email => {
            match req.extensions().get::<AuthOutcome>() {
                Some(AuthOutcome::Authenticated(ctx)) => Some(ctx.clone()),
                _ => None,
            }
        }
        _ => None,
    };
    if let (Some(accounts), Some(ctx)) = (accounts, caller) {
        if let Err(err) = accounts.ensure_verified(&ctx).await {
            let response = ApiError::from(err).error_response();
            return Ok(req.into_response(response).map_into_right_body());
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

#[cfg(test)]
mod tests {
    use super::is_gated;

    #[test]
    fn only_tutoring_paths_are_gated() {
        for path in [
            "/api/v1/sessions",
            "/api/v1/sessions/x/interactions",
            "/api/v1/activities/1",
            "/api/v1/risks",
        ] {
            assert!(is_gated(path), "{path}");
        }
        for path in [
            "/api/v1/auth/me",
            "/api/v1/auth/verify-email",
            "/api/v1/sessionsx",
            "/api/v1/health",
        ] {
            assert!(!is_gated(path), "{path}");
        }
    }
}
