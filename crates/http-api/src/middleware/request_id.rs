//! Request ids, security headers, the per-request log line and the record of server errors;
//! the `http.request` span around each request, a child of the caller's trace when the request
//! carries a W3C `traceparent`.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage};
use opentelemetry::propagation::Extractor;
use tracing::field::Empty;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use uuid::Uuid;

use ainative_auth::AuthFailure;

use crate::error::{ErrorCode, ErrorDetail};
use crate::error_log::ErrorLog;
use crate::metrics::Metrics;
use crate::middleware::auth::AuthOutcome;
use crate::middleware::client_ip::{resolve_client_ip, ClientIp};
use crate::middleware::rate_limit::{HandlerTime, RejectionScope};
use crate::state::HttpSettings;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being served, when called inside one.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// The request id header.
pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

const JSON_CSP: &str = "default-src 'none'; frame-ancestors 'none'";
const DOCS_CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'";

/// Accepts a client's id when it is short and printable, so it cannot inject into logs.
fn sane_client_id(value: &HeaderValue) -> Option<String> {
    let s = value.to_str().ok()?;
    let ok = (1..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    ok.then(|| s.to_owned())
}

/// The W3C trace context header.
pub static TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// Reads propagation headers (`traceparent`, `tracestate`) from a request.
struct HeaderExtractor<'a>(&'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

/// The `http.request` span of a request, a child of the trace context the request carries
/// (through the global propagator) when it carries one. `route`, `status` and `user_id` are
/// recorded when the response is ready.
fn request_span(req: &ServiceRequest, request_id: &str) -> tracing::Span {
    let span = tracing::info_span!(
        "http.request",
        otel.kind = "server",
        method = %req.method(),
        route = Empty,
        status = Empty,
        request_id = %request_id,
        user_id = Empty,
        otel.status_code = Empty,
    );
    if !span.is_disabled() && req.headers().contains_key(&TRACEPARENT) {
        let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
            propagator.extract(&HeaderExtractor(req.headers()))
        });
        // Fails only without an OpenTelemetry layer, when there is no trace to join.
        let _ = span.set_parent(parent);
    }
    span
}

/// Sets the request id (the client's if sane, else a new UUID), the client IP, the security
/// headers, logs one line per request and records server errors for `/admin/errors`. The
/// handler runs inside the request's `http.request` span.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let request_id = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(sane_client_id)
        .unwrap_or_else(|| Uuid::new_v4().to_string());
    let settings = req.app_data::<web::Data<HttpSettings>>().cloned();
    let errors = req.app_data::<web::Data<ErrorLog>>().cloned();
    if let Some(settings) = &settings {
        let ip = resolve_client_ip(&req, &settings.trusted_proxies);
        req.extensions_mut().insert(ClientIp(ip));
    }
    let is_docs = req.path().starts_with("/docs");
    let method = req.method().clone();
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    if let Some(m) = &metrics {
        m.in_flight.inc();
    }

    let span = request_span(&req, &request_id);
    let call = span.in_scope(|| next.call(req));
    let result = REQUEST_ID
        .scope(request_id.clone(), call)
        .instrument(span.clone())
        .await;
    if let Some(m) = &metrics {
        m.in_flight.dec();
    }
    let mut res = result?;

    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let status = res.status();
    let user_id = match res.request().extensions().get::<AuthOutcome>() {
        Some(AuthOutcome::Authenticated(ctx)) => Some(ctx.user_id.to_string()),
        _ => None,
    };
    let headers = res.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert(X_REQUEST_ID.clone(), value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(if is_docs { DOCS_CSP } else { JSON_CSP }),
    );
    if settings.as_ref().is_some_and(|s| s.production) {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    span.record("route", route.as_str());
    span.record("status", status.as_u16());
    if let Some(user_id) = &user_id {
        span.record("user_id", user_id.as_str());
    }
    if status.is_server_error() {
        span.record("otel.status_code", "error");
    }
    let elapsed = started.elapsed();
    if let Some(m) = &metrics {
        record(m, &res, method.as_str(), &route, elapsed);
    }
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    tracing::info!(
        request_id = %request_id,
        method = %method,
        route = %route,
        status = status.as_u16(),
        latency_ms,
        user_id = user_id.as_deref().unwrap_or("-"),
        "request"
    );
    if status.is_server_error() {
        if let Some(errors) = &errors {
            let detail = res
                .response()
                .extensions()
                .get::<ErrorDetail>()
                .map(|d| d.0.clone())
                .unwrap_or_else(|| status.to_string());
            errors.record(
                request_id,
                method.to_string(),
                route,
                status.as_u16(),
                detail,
            );
        }
    }
    Ok(res)
}

fn record<B>(
    m: &Metrics,
    res: &ServiceResponse<B>,
    method: &str,
    route: &str,
    elapsed: std::time::Duration,
) {
    let status = res.status();
    m.http_requests
        .with_label_values(&[method, route, status.as_str()])
        .inc();
    m.http_duration
        .with_label_values(&[method, route])
        .observe(elapsed.as_secs_f64());
    if let Some(handler) = res.request().extensions().get::<HandlerTime>() {
        m.overhead
            .observe(elapsed.saturating_sub(handler.0).as_secs_f64());
    }
    let extensions = res.response().extensions();
    if let Some(code) = extensions.get::<ErrorCode>() {
        m.http_errors.with_label_values(&[code.0]).inc();
        if code.0 == "RATE_LIMITED" {
            let scope = extensions.get::<RejectionScope>().map_or("login", |s| s.0);
            m.rate_limit_rejections.with_label_values(&[scope]).inc();
        }
    }
    if let Some(reason) = extensions.get::<AuthFailure>() {
        m.auth_failures.with_label_values(&[reason.as_str()]).inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_are_sanitised() {
        assert_eq!(
            sane_client_id(&HeaderValue::from_static("abc-123")),
            Some("abc-123".into())
        );
        assert_eq!(sane_client_id(&HeaderValue::from_static("a b")), None);
        assert_eq!(
            sane_client_id(&HeaderValue::from_str(&"x".repeat(129)).unwrap()),
            None
        );
    }
}
