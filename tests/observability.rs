//! Observability end to end: `/metrics` only on the internal listener, route templates as
//! labels, the SPEC §7 series, and no secrets in logs.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use ainative_test_support::{json_of, Backend, TestApp, PASSWORD};
use serde_json::json;

/// Log output captured by this test binary's subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn captured_logs() -> &'static Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        let writer = logs.clone();
        tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .init();
        logs
    })
}

async fn scrape(app: &TestApp) -> String {
    let url = format!("http://127.0.0.1:{}/metrics", app.metrics_port);
    let res = app.client.get(url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_internal_and_use_route_templates() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    assert_eq!(
        app.get("/metrics", None).await.status(),
        404,
        "never on the public port"
    );
    let token = app.token_of("mia").await;
    for _ in 0..3 {
        app.get("/api/v1/auth/me", Some(&token)).await;
    }
    let unknown = uuid::Uuid::new_v4();
    app.get(&format!("/api/v1/sessions/{unknown}"), Some(&token))
        .await;
    app.get("/api/v1/auth/me", Some("forged.token.value")).await;
    let text = scrape(&app).await;
    assert!(
        text.contains(
            r#"http_requests_total{method="GET",route="/api/v1/auth/me",status="200"} 3"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/api/v1/sessions/{id}""#),
        "templates, not raw paths"
    );
    assert!(
        !text.contains(&unknown.to_string()),
        "raw ids must not become labels"
    );
    assert!(text.contains(r#"http_errors_total{code="NOT_FOUND"}"#));
    assert!(
        text.contains(r#"auth_failures_total{reason="malformed"}"#),
        "{text}"
    );
    for series in [
        "http_request_duration_seconds_bucket",
        "http_requests_in_flight",
        "http_request_overhead_seconds_bucket",
        "db_pool_connections{state=\"max\"}",
        "cognitive_traces_created_total",
        "db_query_duration_seconds_bucket{op=\"users.create\"",
        "process_resident_memory_bytes",
    ] {
        assert!(text.contains(series), "{series} missing");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_the_logs() {
    let logs = captured_logs();
    let app = TestApp::spawn_with(Backend::Sqlite, &[("LOG_LEVEL", "trace")]).await;
    let data = app.register("noah").await;
    let access = data["access_token"].as_str().unwrap().to_owned();
    let refresh = data["refresh_token"].as_str().unwrap().to_owned();
    app.post(
        "/api/v1/auth/login",
        None,
        &json!({"username": "noah", "password": PASSWORD}),
    )
    .await;
    app.post(
        "/api/v1/auth/login",
        None,
        &json!({"username": "noah", "password": "Wrong7Secretive"}),
    )
    .await;
    app.post(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": refresh}),
    )
    .await;
    let (status, _) = json_of(app.get("/api/v1/auth/me", Some(&access)).await).await;
    assert_eq!(status, 200);
    app.get(
        "/api/v1/auth/me",
        Some("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."),
    )
    .await;
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("request"),
        "the capture works: {} bytes",
        text.len()
    );
    for secret in [
        PASSWORD,
        "Wrong7Secretive",
        access.as_str(),
        refresh.as_str(),
        "e2e-secret-e2e-secret-e2e-secret-0123",
    ] {
        assert!(!text.contains(secret), "a secret reached the logs");
    }
}
