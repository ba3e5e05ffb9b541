//! End-to-end tests of the HTTP conventions of SPEC §3 (envelopes, errors, headers, CORS,
//! pagination, OpenAPI and docs), the health endpoints of §7 and the request limits of §5,
//! spoken to over real HTTP.

use std::collections::BTreeSet;

use ainative_test_support::http::{
    assert_json_csp, assert_security_headers, expect_validation, header,
};
use ainative_test_support::{
    expect_error, json_of, on_both_backends, register_body, Backend, TestApp,
};
use reqwest::Method;
use serde_json::json;

const REGISTER: &str = "/api/v1/auth/register";
const ME: &str = "/api/v1/auth/me";
const LIVE: &str = "/api/v1/health/live";

#[path = "conventions/rate_limits.rs"]
mod rate_limits;

async fn sqlite() -> TestApp {
    TestApp::spawn(Backend::Sqlite).await
}

async fn sqlite_with(overrides: &[(&str, &str)]) -> TestApp {
    TestApp::spawn_with(Backend::Sqlite, overrides).await
}

// ---------------------------------------------------------------------------------------------
// Envelopes and body errors

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_envelope_has_success_data_and_message() {
    let app = sqlite().await;
    let (status, body) = json_of(app.get(LIVE, None).await).await;
    assert_eq!(status, 200);
    let keys: BTreeSet<&str> = body
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from(["success", "data", "message"]),
        "{body}"
    );
    assert_eq!(body["success"], true);
    assert!(body["data"].is_object(), "{body}");
    assert!(
        body["message"].is_null() || body["message"].is_string(),
        "{body}"
    );

    let res = app.post(REGISTER, None, &register_body("envelope")).await;
    assert_eq!(res.status(), 201);
    let content_type = header(res.headers(), "content-type").expect("content type");
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let (_, body) = json_of(res).await;
    assert_eq!(body["success"], true);
    assert!(body["data"]["access_token"].is_string(), "{body}");
    // IDs are UUIDs, timestamps RFC 3339 UTC.
    let user = &body["data"]["user"];
    assert!(uuid::Uuid::parse_str(user["id"].as_str().expect("id")).is_ok());
    let created = user["created_at"].as_str().expect("created_at");
    assert!(
        created.ends_with('Z') || created.ends_with("+00:00"),
        "{created}"
    );
    assert!(created.contains('T'), "{created}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_is_400() {
    let app = sqlite().await;
    for raw in [
        r#"{"email": "#,
        "not json",
        r#"{"email": "a@example.com",}"#,
        "",
    ] {
        let res = app
            .send_raw(Method::POST, REGISTER, Some("application/json"), raw)
            .await;
        let body = expect_error(res, 400, "BAD_REQUEST").await;
        assert_eq!(body["error"]["details"], json!([]), "{raw}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_json_types_are_400() {
    let app = sqlite().await;
    let mut body = register_body("types");
    body["email"] = json!(42);
    expect_error(app.post(REGISTER, None, &body).await, 400, "BAD_REQUEST").await;
    let mut body = register_body("types");
    body["password"] = json!(["Analytical7Engine"]);
    expect_error(app.post(REGISTER, None, &body).await, 400, "BAD_REQUEST").await;
    expect_error(
        app.post(REGISTER, None, &json!([1, 2, 3])).await,
        400,
        "BAD_REQUEST",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_field_is_422_naming_it() {
    let app = sqlite().await;
    for field in ["email", "username", "password", "full_name"] {
        let mut body = register_body("missing");
        body.as_object_mut().expect("object").remove(field);
        let res = app.post(REGISTER, None, &body).await;
        let err = expect_validation(res, field).await;
        assert!(err["error"]["details"][0]["message"].is_string(), "{err}");
    }
}

/// Privileged fields on self-registration are rejected by name, and nothing is written.
async fn unknown_fields_are_rejected_and_nothing_is_written(app: TestApp) {
    let privileged = [
        ("roles", json!(["admin"])),
        ("is_active", json!(true)),
        ("is_verified", json!(true)),
        ("tier", json!("admin")),
        ("id", json!(uuid::Uuid::new_v4())),
    ];
    for (field, value) in privileged {
        let mut body = register_body("mallory");
        body[field] = value;
        let res = app.post(REGISTER, None, &body).await;
        expect_validation(res, field).await;
    }
    // Nothing was written: the same user registers normally, and is only a student.
    let data = app.register("mallory").await;
    assert_eq!(data["user"]["roles"], json!(["student"]), "{data}");
    assert_eq!(data["user"]["tier"], "free", "{data}");
    let token = data["access_token"].as_str().expect("token");
    let (status, me) = json_of(app.get(ME, Some(token)).await).await;
    assert_eq!(status, 200);
    assert_eq!(me["data"]["roles"], json!(["student"]), "{me}");
}

on_both_backends!(unknown_fields_are_rejected_and_nothing_is_written);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_body_is_413() {
    let app = sqlite_with(&[("MAX_BODY_BYTES", "2048")]).await;
    let mut body = register_body("big");
    body["full_name"] = json!("x".repeat(4096));
    let res = app.post(REGISTER, None, &body).await;
    assert_security_headers(res.headers(), false);
    expect_error(res, 413, "PAYLOAD_TOO_LARGE").await;

    // Without a Content-Length (chunked), the limit holds while streaming.
    let chunk = format!("{{\"full_name\": \"{}\"}}", "y".repeat(4096));
    let raw = format!(
        "POST {REGISTER} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len()
    );
    let answer = app.raw_exchange(raw.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("PAYLOAD_TOO_LARGE"), "{answer}");

    // A body under the limit is fine.
    let res = app.post(REGISTER, None, &register_body("small")).await;
    assert_eq!(res.status(), 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_json_content_type_is_415() {
    let app = sqlite().await;
    let json_text = register_body("mediatype").to_string();
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let res = app
            .send_raw(Method::POST, REGISTER, content_type, json_text.clone())
            .await;
        expect_error(res, 415, "UNSUPPORTED_MEDIA_TYPE").await;
    }
    // Nothing was registered by those attempts.
    app.register("mediatype").await;
}

// ---------------------------------------------------------------------------------------------
// Routing

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_route_is_404_in_the_envelope() {
    let app = sqlite().await;
    for path in [
        "/api/v1/nope",
        "/api/v2/auth/me",
        "/",
        "/api/v1/auth/me/extra",
    ] {
        let res = app.get(path, None).await;
        assert_security_headers(res.headers(), false);
        expect_error(res, 404, "NOT_FOUND").await;
    }
    let res = app.post("/api/v1/nope", None, &json!({})).await;
    expect_error(res, 404, "NOT_FOUND").await;
    // Metrics live on METRICS_ADDR only, never on the public port.
    expect_error(app.get("/metrics", None).await, 404, "NOT_FOUND").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_method_is_405_with_allow() {
    let app = sqlite().await;
    let id = uuid::Uuid::new_v4();
    let cases = [
        (Method::POST, ME.to_owned(), "GET"),
        (Method::DELETE, ME.to_owned(), "GET"),
        (Method::GET, REGISTER.to_owned(), "POST"),
        (Method::PUT, "/api/v1/auth/login".to_owned(), "POST"),
        (Method::GET, format!("/api/v1/admin/users/{id}"), "PATCH"),
        (Method::POST, LIVE.to_owned(), "GET"),
    ];
    for (method, path, allow) in cases {
        let res = app.call(method.clone(), &path, None, None).await;
        let allowed = header(res.headers(), "allow").unwrap_or_default();
        assert!(
            allowed.split(',').any(|m| m.trim() == allow),
            "{method} {path}: Allow = {allowed:?}"
        );
        assert!(
            !allowed.split(',').any(|m| m.trim() == method.as_str()),
            "{method} {path}: Allow = {allowed:?}"
        );
        expect_error(res, 405, "METHOD_NOT_ALLOWED").await;
    }
}

// ---------------------------------------------------------------------------------------------
// Request ids, security headers, 401s

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_id_is_echoed_when_sane_and_generated_otherwise() {
    let app = sqlite().await;
    let sane = "client-req_42.a:b";
    let res = app.get_with(LIVE, None, &[("x-request-id", sane)]).await;
    assert_eq!(header(res.headers(), "x-request-id").as_deref(), Some(sane));
    // Errors carry it in the body as well.
    let res = app
        .get_with("/api/v1/nope", None, &[("x-request-id", sane)])
        .await;
    let body = expect_error(res, 404, "NOT_FOUND").await;
    assert_eq!(body["error"]["request_id"], sane);

    let long = "a".repeat(300);
    for insane in ["has spaces in it", long.as_str(), "semi;colon", "quote\"d"] {
        let res = app.get_with(LIVE, None, &[("x-request-id", insane)]).await;
        let id = header(res.headers(), "x-request-id").expect("generated id");
        assert_ne!(id, insane);
        assert!(!id.is_empty() && id.len() <= 128, "{id}");
        assert!(!id.contains(' '), "{id}");
    }
    let first = header(app.get(LIVE, None).await.headers(), "x-request-id").expect("id");
    let second = header(app.get(LIVE, None).await.headers(), "x-request-id").expect("id");
    assert_ne!(first, second, "generated ids are unique");
    assert!(
        uuid::Uuid::parse_str(&first).is_ok() || first.len() >= 16,
        "{first}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_headers_on_success_and_error_without_hsts_outside_production() {
    let app = sqlite().await;
    let token = app.token_of("secure").await;
    let responses = [
        app.get(LIVE, None).await,
        app.get(ME, Some(&token)).await,
        app.get(ME, None).await,
        app.get("/api/v1/nope", None).await,
        app.call(Method::DELETE, ME, None, None).await,
        app.send_raw(Method::POST, REGISTER, Some("application/json"), "{")
            .await,
    ];
    for res in responses {
        assert_security_headers(res.headers(), false);
        assert_json_csp(res.headers());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_adds_hsts() {
    let app = sqlite_with(&[
        ("APP_ENV", "production"),
        ("ALLOW_SQLITE_IN_PRODUCTION", "true"),
        ("AUTO_MIGRATE", "true"),
    ])
    .await;
    for res in [
        app.get(LIVE, None).await,
        app.get("/api/v1/nope", None).await,
        app.get(ME, None).await,
    ] {
        assert_security_headers(res.headers(), true);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthorized_responses_carry_www_authenticate_bearer() {
    let app = sqlite().await;
    let data = app.register("tokens").await;
    let refresh = data["refresh_token"].as_str().expect("refresh");
    let cases: [Option<&str>; 4] = [
        None,
        Some("Bearer not-a-jwt"),
        Some("Basic dXNlcjpwYXNz"),
        Some("Bearer "),
    ];
    for authorization in cases {
        let mut req = app.client.get(app.url(ME));
        if let Some(value) = authorization {
            req = req.header("authorization", value);
        }
        let res = req.send().await.expect("sent");
        assert_eq!(
            header(res.headers(), "www-authenticate").as_deref(),
            Some("Bearer"),
            "{authorization:?}"
        );
        expect_error(res, 401, "UNAUTHORIZED").await;
    }
    // A refresh token is not an access token.
    let res = app.get(ME, Some(refresh)).await;
    assert_eq!(
        header(res.headers(), "www-authenticate").as_deref(),
        Some("Bearer")
    );
    expect_error(res, 401, "UNAUTHORIZED").await;
    // Auth responses are never cached, errors included.
    let res = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "tokens", "password": "Wrong-password-1"}),
        )
        .await;
    assert_eq!(
        header(res.headers(), "cache-control").as_deref(),
        Some("no-store")
    );
    expect_error(res, 401, "UNAUTHORIZED").await;
}

// ---------------------------------------------------------------------------------------------
// CORS

const ORIGIN: &str = "https://app.example.com";

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.client
        .request(Method::OPTIONS, app.url("/api/v1/auth/login"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type, authorization",
        )
        .send()
        .await
        .expect("preflight sent")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_allows_only_configured_origins() {
    let app = sqlite_with(&[("CORS_ORIGINS", ORIGIN)]).await;
    let res = preflight(&app, ORIGIN).await;
    assert!(res.status().is_success(), "{}", res.status());
    let h = res.headers();
    assert_eq!(
        header(h, "access-control-allow-origin").as_deref(),
        Some(ORIGIN)
    );
    let methods = header(h, "access-control-allow-methods").unwrap_or_default();
    assert!(methods.contains("POST"), "{methods}");
    let allowed = header(h, "access-control-allow-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(allowed.contains("authorization"), "{allowed}");
    for res in [&res] {
        for (name, value) in res.headers() {
            if name.as_str().starts_with("access-control-") {
                assert_ne!(value, "*", "{name} must not be *");
            }
        }
    }
    // A simple request from the origin gets the header too.
    let res = app.get_with(LIVE, None, &[("origin", ORIGIN)]).await;
    assert_eq!(
        header(res.headers(), "access-control-allow-origin").as_deref(),
        Some(ORIGIN)
    );
    let exposed = header(res.headers(), "access-control-expose-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(exposed.contains("x-request-id"), "{exposed}");

    // Another origin gets no allow-origin header, on preflight or simple requests.
    let res = preflight(&app, "https://evil.example.net").await;
    assert_eq!(header(res.headers(), "access-control-allow-origin"), None);
    let res = app
        .get_with(LIVE, None, &[("origin", "https://evil.example.net")])
        .await;
    assert_eq!(header(res.headers(), "access-control-allow-origin"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_cors_headers_without_cors_origins() {
    let app = sqlite().await;
    let responses = [
        preflight(&app, ORIGIN).await,
        app.get_with(LIVE, None, &[("origin", ORIGIN)]).await,
    ];
    for res in responses {
        let cors: Vec<_> = res
            .headers()
            .keys()
            .filter(|k| k.as_str().starts_with("access-control-"))
            .collect();
        assert!(cors.is_empty(), "{cors:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Pagination

const USERS: &str = "/api/v1/admin/users";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagination_bounds_and_default() {
    let app = sqlite().await;
    let admin = app.admin("pager").await;
    let token = admin["access_token"].as_str().expect("token");
    for query in ["limit=0", "limit=101", "limit=-5"] {
        let res = app.get(&format!("{USERS}?{query}"), Some(token)).await;
        expect_validation(res, "limit").await;
    }
    for query in ["limit=abc", "offset=xyz"] {
        let res = app.get(&format!("{USERS}?{query}"), Some(token)).await;
        expect_error(res, 400, "BAD_REQUEST").await;
    }
    for query in ["limit=1", "limit=100", "offset=0", "offset=1000"] {
        let res = app.get(&format!("{USERS}?{query}"), Some(token)).await;
        assert_eq!(res.status(), 200, "{query}");
    }

    for i in 0..21 {
        app.register(&format!("paged_{i:02}")).await;
    }
    let (status, body) = json_of(app.get(USERS, Some(token)).await).await;
    assert_eq!(status, 200, "{body}");
    let page = &body["data"];
    assert_eq!(page["items"].as_array().expect("items").len(), 20, "{page}");
    assert_eq!(page["total"], 22);
    assert_eq!(page["limit"], 20);
    assert_eq!(page["offset"], 0);

    let (_, body) = json_of(app.get(&format!("{USERS}?offset=20"), Some(token)).await).await;
    assert_eq!(body["data"]["items"].as_array().expect("items").len(), 2);
    assert_eq!(body["data"]["offset"], 20);
    assert_eq!(body["data"]["total"], 22);
    let (_, body) = json_of(app.get(&format!("{USERS}?limit=100"), Some(token)).await).await;
    assert_eq!(body["data"]["items"].as_array().expect("items").len(), 22);
    assert_eq!(body["data"]["limit"], 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn negative_offset_is_422_naming_offset() {
    let app = sqlite().await;
    let admin = app.admin("offset").await;
    let token = admin["access_token"].as_str().expect("token");
    let res = app.get(&format!("{USERS}?offset=-1"), Some(token)).await;
    let body = expect_validation(res, "offset").await;
    let fields: Vec<_> = body["error"]["details"]
        .as_array()
        .expect("details")
        .iter()
        .map(|d| d["field"].clone())
        .collect();
    assert_eq!(fields, [json!("offset")], "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn negative_offset_is_422() {
    let app = sqlite().await;
    let admin = app.admin("offset").await;
    let token = admin["access_token"].as_str().expect("token");
    for path in [
        format!("{USERS}?offset=-1"),
        "/api/v1/admin/audit?offset=-1".into(),
    ] {
        let res = app.get(&path, Some(token)).await;
        expect_error(res, 422, "VALIDATION_ERROR").await;
    }
}

// ---------------------------------------------------------------------------------------------
// OpenAPI and docs

/// Every route under /api/v1 (method, path template) of SPEC §4–§7.
const API_ROUTES: &[(&str, &str)] = &[
    ("post", "/api/v1/auth/register"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/token"),
    ("post", "/api/v1/auth/refresh"),
    ("post", "/api/v1/auth/logout"),
    ("get", "/api/v1/auth/me"),
    ("post", "/api/v1/auth/change-password"),
    ("get", "/api/v1/auth/rate-limit"),
    ("post", "/api/v1/auth/verify-email/request"),
    ("post", "/api/v1/auth/verify-email"),
    ("post", "/api/v1/auth/password-reset/request"),
    ("post", "/api/v1/auth/password-reset"),
    ("get", "/api/v1/admin/users"),
    ("patch", "/api/v1/admin/users/{id}"),
    ("get", "/api/v1/admin/audit"),
    ("get", "/api/v1/admin/errors"),
    ("get", "/api/v1/health"),
    ("get", "/api/v1/health/live"),
    ("get", "/api/v1/health/ready"),
    ("post", "/api/v1/activities"),
    ("get", "/api/v1/activities"),
    ("get", "/api/v1/activities/{id}"),
    ("patch", "/api/v1/activities/{id}"),
    ("post", "/api/v1/activities/{id}/publish"),
    ("post", "/api/v1/activities/{id}/archive"),
    ("post", "/api/v1/sessions"),
    ("get", "/api/v1/sessions"),
    ("get", "/api/v1/sessions/{id}"),
    ("post", "/api/v1/sessions/{id}/end"),
    ("post", "/api/v1/sessions/{id}/interactions"),
    ("get", "/api/v1/sessions/{id}/interactions"),
    ("post", "/api/v1/sessions/{id}/interactions/stream"),
    ("get", "/api/v1/sessions/{id}/traces"),
    ("get", "/api/v1/sessions/{id}/cognitive-path"),
    ("get", "/api/v1/sessions/{id}/risks"),
    ("get", "/api/v1/risks"),
    ("post", "/api/v1/risks/{id}/resolve"),
    ("get", "/api/v1/sessions/{id}/evaluation"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_is_3_1_and_lists_every_api_path() {
    let app = sqlite().await;
    let (status, doc) = json_of(app.get("/openapi.json", None).await).await;
    assert_eq!(status, 200);
    let version = doc["openapi"].as_str().expect("openapi version");
    assert!(version.starts_with("3.1"), "{version}");
    let paths = doc["paths"].as_object().expect("paths");
    for (method, path) in API_ROUTES {
        assert!(
            paths.get(*path).and_then(|p| p.get(*method)).is_some(),
            "{method} {path} missing from /openapi.json"
        );
    }
    // Everything documented is actually served (no 404 route, no 405).
    for (path, item) in paths {
        for method in item.as_object().expect("path item").keys() {
            let Ok(method) = method.to_ascii_uppercase().parse::<Method>() else {
                continue;
            };
            let concrete = path.replace("{id}", &uuid::Uuid::new_v4().to_string());
            let res = app.call(method.clone(), &concrete, None, None).await;
            let status = res.status();
            let (_, body) = json_of(res).await;
            assert_ne!(status, 405, "{method} {path}: {body}");
            assert!(
                !(status == 404 && body["error"]["message"] == "route not found"),
                "{method} {path} is documented but not routed"
            );
            assert!(status.as_u16() < 500, "{method} {path}: {status} {body}");
        }
    }
    // Bearer security is described, so Swagger UI can authorize.
    assert!(
        doc["components"]["securitySchemes"]
            .as_object()
            .is_some_and(|s| !s.is_empty()),
        "{}",
        doc["components"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swagger_ui_is_served_from_the_binary() {
    let app = sqlite().await;
    let res = app.get("/docs/", None).await;
    assert_eq!(res.status(), 200);
    let content_type = header(res.headers(), "content-type").unwrap_or_default();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert_security_headers(res.headers(), false);
    let csp = header(res.headers(), "content-security-policy").expect("csp");
    assert!(
        csp.contains("script-src 'self'"),
        "docs CSP allows its own scripts: {csp}"
    );
    let html = res.text().await.expect("html");
    assert!(html.to_ascii_lowercase().contains("swagger"), "{html}");
    // No CDN: every script and stylesheet is relative to the server.
    for marker in [
        "src=\"http",
        "href=\"http",
        "src='http",
        "href='http",
        "//cdn",
        "unpkg",
    ] {
        assert!(
            !html.contains(marker),
            "external asset ({marker}) in {html}"
        );
    }
    // The assets it references are served too.
    for asset in ["swagger-ui.css", "swagger-ui-bundle.js"] {
        assert!(html.contains(asset), "{asset} referenced");
        let res = app.get(&format!("/docs/{asset}"), None).await;
        assert_eq!(res.status(), 200, "/docs/{asset}");
    }
    // And it points at the document.
    let init = app.get("/docs/swagger-initializer.js", None).await;
    if init.status() == 200 {
        let js = init.text().await.expect("js");
        assert!(js.contains("/openapi.json"), "{js}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docs_without_slash_redirects_or_serves_the_page() {
    let app = sqlite().await;
    let res = app.get("/docs", None).await;
    let status = res.status();
    assert!(
        status.is_success() || status.is_redirection(),
        "/docs answered {status}"
    );
    if status.is_redirection() {
        let location = header(res.headers(), "location").expect("location");
        assert!(location.ends_with("/docs/"), "{location}");
    }
}

// ---------------------------------------------------------------------------------------------
// Health

async fn health_reports_components_without_internals(app: TestApp) {
    let res = app.get("/api/v1/health", None).await;
    assert_security_headers(res.headers(), false);
    let (status, body) = json_of(res).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);
    let h = &body["data"];
    assert_eq!(h["status"], "healthy", "{h}");
    assert!(h["version"].is_string(), "{h}");
    assert!(h["uptime_secs"].is_u64(), "{h}");
    let db = &h["components"]["database"];
    assert_eq!(db["status"], "healthy", "{db}");
    assert!(db["latency_ms"].as_f64().is_some_and(|l| l >= 0.0), "{db}");
    let pool = &db["pool"];
    let (size, idle, max) = (
        pool["size"].as_u64().expect("size"),
        pool["idle"].as_u64().expect("idle"),
        pool["max"].as_u64().expect("max"),
    );
    assert_eq!(max, 5, "DB_POOL_SIZE of the test settings: {pool}");
    assert!(idle <= size && size <= max, "{pool}");
    assert_eq!(h["components"]["redis"], json!({"status": "disabled"}));
    assert_eq!(h["components"]["cache"]["backend"], "memory");
    let llm = &h["components"]["llm"];
    assert_eq!(llm["provider"], "offline", "the default provider: {llm}");
    assert!(llm["status"].is_string(), "{llm}");

    // No hostnames, URLs, paths or database names.
    let text = body.to_string();
    for leak in [
        "://",
        "127.0.0.1",
        "localhost",
        "postgres",
        "sqlite",
        "ainative_e2e_",
        "test.db",
        "/tmp",
    ] {
        assert!(!text.contains(leak), "health leaks {leak:?}: {text}");
    }

    for path in ["/api/v1/health/live", "/api/v1/health/ready"] {
        let (status, body) = json_of(app.get(path, None).await).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(body["success"], true, "{body}");
        assert!(body["data"]["status"].is_string(), "{body}");
    }
}

on_both_backends!(health_reports_components_without_internals);

// ---------------------------------------------------------------------------------------------
// The NUL character

/// U+0000 in any JSON string or query parameter is a 422 naming the field, on both databases
/// (PostgreSQL cannot store it): never a 500, and nothing reaches the store.
async fn nul_characters_are_422_naming_the_field(app: TestApp) {
    let token = app.token_of("nulled").await;
    let login =
        json!({"email": "nulled@example.com\u{0}", "password": ainative_test_support::PASSWORD});
    expect_validation(app.post("/api/v1/auth/login", None, &login).await, "email").await;
    let mut register = register_body("zero");
    register["full_name"] = json!("Zero\u{0}Cool");
    expect_validation(app.post(REGISTER, None, &register).await, "full_name").await;
    let refresh = json!({"refresh_token": "\u{0}"});
    expect_validation(
        app.post("/api/v1/auth/refresh", None, &refresh).await,
        "refresh_token",
    )
    .await;
    let change = json!({"current_password": ainative_test_support::PASSWORD, "new_password": "Better8\u{0}Horse"});
    expect_validation(
        app.post("/api/v1/auth/change-password", Some(&token), &change)
            .await,
        "new_password",
    )
    .await;
    expect_validation(
        app.get("/api/v1/activities?tag=loops%00", Some(&token))
            .await,
        "tag",
    )
    .await;
    // The OAuth form: a NUL login names no account.
    let res = app
        .send_raw(
            Method::POST,
            "/api/v1/auth/token",
            Some("application/x-www-form-urlencoded"),
            "grant_type=password&username=nulled%00&password=x",
        )
        .await;
    let (status, body) = json_of(res).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_grant");
    // Nothing was registered.
    let login = json!({"username": "zero", "password": ainative_test_support::PASSWORD});
    expect_error(
        app.post("/api/v1/auth/login", None, &login).await,
        401,
        "UNAUTHORIZED",
    )
    .await;
}

on_both_backends!(nul_characters_are_422_naming_the_field);

// ---------------------------------------------------------------------------------------------
// Robustness

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_never_cause_server_errors() {
    let app = sqlite().await;
    let token = app.token_of("fuzzy").await;
    let bodies = [
        "null",
        "[]",
        "\"string\"",
        "{\"email\": null}",
        "{\"email\": {\"$ne\": 1}}",
        "{\"email\": \"\\u0000@example.com\", \"username\": \"a\", \"password\": \"b\", \"full_name\": \"c\"}",
    ];
    for path in [REGISTER, "/api/v1/auth/login", "/api/v1/auth/refresh"] {
        for raw in bodies {
            let res = app
                .send_raw(Method::POST, path, Some("application/json"), raw)
                .await;
            let status = res.status();
            let (_, body) = json_of(res).await;
            assert!(status.is_client_error(), "{path} {raw}: {status} {body}");
            assert_eq!(body["success"], false, "{body}");
        }
    }
    let res = app
        .call(
            Method::PATCH,
            "/api/v1/admin/users/not-a-uuid",
            Some(&token),
            Some(&json!({})),
        )
        .await;
    assert!(res.status().is_client_error());
}
