//! Per-client request limits (SPEC §5): anonymous callers per IP, authenticated ones per user
//! by tier, over a sliding one-minute window. A limiter failure never fails the request.

use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage, ResponseError};
use ainative_domain::Tier;
use ainative_ports::{RateDecision, RateLimiter};

use crate::error::ApiError;
use crate::middleware::auth::AuthOutcome;
use crate::middleware::client_ip::ClientIp;
use crate::state::{HttpSettings, RateLimits};

/// The window of request limits.
pub const WINDOW: Duration = Duration::from_secs(60);

/// Which limit applies to a request: (limiter key, requests per minute, policy name).
pub fn limit_for(
    outcome: Option<&AuthOutcome>,
    ip: Option<&ClientIp>,
    limits: &RateLimits,
) -> (String, u32, &'static str) {
    match outcome {
        Some(AuthOutcome::Authenticated(ctx)) => {
            let (limit, name) = match ctx.tier {
                Tier::Free => (limits.free, "free"),
                Tier::Premium => (limits.premium, "premium"),
                Tier::Admin => (limits.admin, "admin"),
            };
            (format!("rl:user:{}", ctx.user_id), limit, name)
        }
        _ => {
            let ip = ip
                .map(|ip| ip.0.to_string())
                .unwrap_or_else(|| "unknown".into());
            (format!("rl:ip:{ip}"), limits.anonymous, "anonymous")
        }
    }
}

fn is_exempt(path: &str) -> bool {
    path.starts_with("/api/v1/health") || path == "/metrics"
}

/// Writes the `X-RateLimit-*` and IETF `RateLimit-Policy` / `RateLimit` fields.
pub fn write_headers(headers: &mut HeaderMap, decision: &RateDecision, policy: &str) {
    let mut set = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), v);
        }
    };
    set("x-ratelimit-limit", decision.limit.to_string());
    set("x-ratelimit-remaining", decision.remaining.to_string());
    set("x-ratelimit-reset", decision.reset_secs.to_string());
    set(
        "ratelimit-policy",
        format!("\"{policy}\";q={};w={}", decision.limit, WINDOW.as_secs()),
    );
    set(
        "ratelimit",
        format!(
            "\"{policy}\";r={};t={}",
            decision.remaining, decision.reset_secs
        ),
    );
}

/// Which limit refused a request (`rate_limit_rejections_total{scope}`); a 429 without it
/// comes from login throttling.
#[derive(Debug, Clone, Copy)]
pub struct RejectionScope(pub &'static str);

/// How long the handler (everything inside this innermost middleware) took.
#[derive(Debug, Clone, Copy)]
pub struct HandlerTime(pub std::time::Duration);

/// Calls the handler, recording its duration so the outer middleware can tell its own
/// overhead apart.
async fn timed<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, Error> {
    let started = std::time::Instant::now();
    let res = next.call(req).await?;
    res.request()
        .extensions_mut()
        .insert(HandlerTime(started.elapsed()));
    Ok(res)
}

/// The middleware function.
pub async fn rate_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let (Some(settings), Some(limiter)) = (
        req.app_data::<web::Data<HttpSettings>>().cloned(),
        req.app_data::<web::Data<dyn RateLimiter>>().cloned(),
    ) else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    if is_exempt(req.path()) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let (key, limit, policy) = {
        let ext = req.extensions();
        limit_for(
            ext.get::<AuthOutcome>(),
            ext.get::<ClientIp>(),
            &settings.rate_limits,
        )
    };
    if limit == 0 {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let decision = match limiter.check(&key, limit, WINDOW).await {
        Ok(decision) => decision,
        Err(err) => {
            tracing::warn!(error = %err, "rate limiter unavailable; letting the request through");
            return next
                .call(req)
                .await
                .map(ServiceResponse::map_into_left_body);
        }
    };
    if !decision.allowed {
        let scope = if policy == "anonymous" { "ip" } else { "user" };
        let error = ApiError::RateLimited {
            message: "rate limit exceeded; slow down",
            retry_after_secs: decision.reset_secs.max(1),
        };
        let mut response = error.error_response();
        response.extensions_mut().insert(RejectionScope(scope));
        write_headers(response.headers_mut(), &decision, policy);
        return Ok(req.into_response(response).map_into_right_body());
    }
    let mut res = timed(req, next).await?;
    write_headers(res.headers_mut(), &decision, policy);
    Ok(res.map_into_left_body())
}

/// True for the sign-in steps anyone can call: authorize, callback, exchange (and link,
/// which starts a flow too). Listing and unlinking accounts fall under the user's limit.
fn is_oauth_flow(path: &str) -> bool {
    path.strip_prefix("/api/v1/auth/oauth/")
        .is_some_and(|rest| !rest.starts_with("accounts"))
}

/// A dedicated per-IP limit on the social sign-in steps (`RATE_LIMIT_OAUTH` per minute, 0 =
/// off), on top of the general one: each step costs provider calls and stored flows, and
/// codes and states must not be guessed at speed. 429 in the envelope with `Retry-After`.
pub async fn oauth_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let (Some(settings), Some(limiter)) = (
        req.app_data::<web::Data<HttpSettings>>().cloned(),
        req.app_data::<web::Data<dyn RateLimiter>>().cloned(),
    ) else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let limit = settings.rate_limits.oauth;
    if limit == 0 || !is_oauth_flow(req.path()) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let ip = req
        .extensions()
        .get::<ClientIp>()
        .map(|ip| ip.0.to_string())
        .unwrap_or_else(|| "unknown".into());
    let decision = match limiter
        .check(&format!("rl:oauth:{ip}"), limit, WINDOW)
        .await
    {
        Ok(decision) => decision,
        Err(err) => {
            tracing::warn!(error = %err, "rate limiter unavailable; letting the request through");
            return next
                .call(req)
                .await
                .map(ServiceResponse::map_into_left_body);
        }
    };
    if !decision.allowed {
        let error = ApiError::RateLimited {
            message: "too many sign-in requests from this address; slow down",
            retry_after_secs: decision.reset_secs.max(1),
        };
        let mut response = error.error_response();
        response.extensions_mut().insert(RejectionScope("oauth"));
        write_headers(response.headers_mut(), &decision, "oauth");
        return Ok(req.into_response(response).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

#[cfg(test)]
mod oauth_tests {
    use super::is_oauth_flow;

    #[test]
    fn only_the_flow_steps_get_the_oauth_limit() {
        for path in [
            "/api/v1/auth/oauth/google/authorize",
            "/api/v1/auth/oauth/github/callback",
            "/api/v1/auth/oauth/exchange",
            "/api/v1/auth/oauth/acme/link",
        ] {
            assert!(is_oauth_flow(path), "{path}");
        }
        for path in [
            "/api/v1/auth/oauth/accounts",
            "/api/v1/auth/oauth/accounts/5",
            "/api/v1/auth/login",
        ] {
            assert!(!is_oauth_flow(path), "{path}");
        }
    }
}
