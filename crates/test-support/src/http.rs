//! Helpers for asserting HTTP-level conventions (SPEC §3): headers, raw requests.

use reqwest::header::HeaderMap;
use reqwest::{Method, Response};
use std::io::{Read, Write};
use std::time::Duration;

use serde_json::Value;

use crate::app::TestApp;
use crate::fixtures::expect_error;

/// The value of a header as text, if present.
pub fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The value of a header parsed as an unsigned integer; panics when absent or not a number.
pub fn int_header(headers: &HeaderMap, name: &str) -> u64 {
    let value = header(headers, name).unwrap_or_else(|| panic!("missing {name}: {headers:?}"));
    value
        .parse()
        .unwrap_or_else(|_| panic!("{name} is not an integer: {value:?}"))
}

/// Asserts the security headers every response carries; HSTS only in production.
pub fn assert_security_headers(headers: &HeaderMap, production: bool) {
    assert_eq!(
        header(headers, "x-content-type-options").as_deref(),
        Some("nosniff"),
        "{headers:?}"
    );
    assert_eq!(
        header(headers, "x-frame-options").as_deref(),
        Some("DENY"),
        "{headers:?}"
    );
    assert_eq!(
        header(headers, "referrer-policy").as_deref(),
        Some("no-referrer"),
        "{headers:?}"
    );
    let csp = header(headers, "content-security-policy").expect("CSP present");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let hsts = header(headers, "strict-transport-security");
    if production {
        let hsts = hsts.expect("HSTS in production");
        assert!(hsts.contains("max-age="), "{hsts}");
    } else {
        assert_eq!(hsts, None, "no HSTS outside production");
    }
    let request_id = header(headers, "x-request-id").expect("X-Request-ID on every response");
    assert!(!request_id.is_empty());
}

/// The strict policy JSON responses carry.
pub fn assert_json_csp(headers: &HeaderMap) {
    let csp = header(headers, "content-security-policy").expect("CSP present");
    assert!(csp.contains("default-src 'none'"), "{csp}");
}

/// Asserts a 422 whose details name `field`; returns the body.
pub async fn expect_validation(res: Response, field: &str) -> Value {
    let body = expect_error(res, 422, "VALIDATION_ERROR").await;
    let fields: Vec<&str> = body["error"]["details"]
        .as_array()
        .expect("details")
        .iter()
        .filter_map(|d| d["field"].as_str())
        .collect();
    assert!(
        fields.contains(&field),
        "details should name {field}: {body}"
    );
    body
}

/// Asserts the `X-RateLimit-*`, `RateLimit-Policy` and `RateLimit` headers of a limited route.
pub fn assert_limit_headers(headers: &HeaderMap, limit: u64, remaining: u64) {
    assert_eq!(
        int_header(headers, "x-ratelimit-limit"),
        limit,
        "{headers:?}"
    );
    assert_eq!(
        int_header(headers, "x-ratelimit-remaining"),
        remaining,
        "{headers:?}"
    );
    assert!(
        int_header(headers, "x-ratelimit-reset") <= 60,
        "{headers:?}"
    );
    let policy = header(headers, "ratelimit-policy").expect("RateLimit-Policy");
    assert!(policy.contains(&format!("q={limit}")), "{policy}");
    assert!(policy.contains("w=60"), "{policy}");
    let current = header(headers, "ratelimit").expect("RateLimit");
    assert!(current.contains(&format!("r={remaining}")), "{current}");
    assert!(current.contains("t="), "{current}");
}

/// Asserts a 429 with every header SPEC §5 lists.
pub async fn expect_limited(res: Response, limit: u64) {
    let headers = res.headers().clone();
    let retry_after = int_header(&headers, "retry-after");
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    assert_eq!(
        header(&headers, "cache-control").as_deref(),
        Some("no-store")
    );
    assert_limit_headers(&headers, limit, 0);
    assert_security_headers(&headers, false);
    expect_error(res, 429, "RATE_LIMITED").await;
}

impl TestApp {
    /// Sends a request with a raw body and content type (or none).
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Response {
        let mut req = self.client.request(method, self.url(path)).body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        req.send().await.expect("request sent")
    }

    /// Sends a request with extra headers and an optional bearer token.
    pub async fn get_with(
        &self,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Response {
        let mut req = self.client.get(self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.expect("request sent")
    }

    /// Writes raw HTTP/1.1 bytes on a fresh connection and returns everything read back
    /// until the server closes it (send `Connection: close`).
    pub async fn raw_exchange(&self, request: &[u8]) -> String {
        let port = self.port;
        let request = request.to_vec();
        tokio::task::spawn_blocking(move || {
            let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .expect("timeout");
            stream.write_all(&request).expect("write request");
            let mut out = Vec::new();
            // A reset after the answer (the server closing early) still leaves the answer.
            let _ = stream.read_to_end(&mut out);
            String::from_utf8_lossy(&out).into_owned()
        })
        .await
        .expect("raw exchange")
    }
}
