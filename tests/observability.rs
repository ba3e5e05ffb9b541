//! Observability end to end: `/metrics` only on the internal listener, route templates as
//! labels, the SPEC §7 series, and no secrets in logs.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use std::time::Duration;

use ainative_test_support::{json_of, wait_for, Backend, TestApp, PASSWORD};
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

/// Every SPEC §7 series is on `/metrics` of a fresh server, at zero, for its known label
/// values: rates and alerts never meet a missing series.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_server_exports_every_series_at_zero() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let text = scrape(&app).await;
    for series in [
        r#"http_requests_total{method="GET",route="/api/v1/auth/me",status="200"} 0"#,
        r#"http_requests_total{method="POST",route="/api/v1/sessions/{id}/interactions",status="201"} 0"#,
        r#"http_request_duration_seconds_count{method="POST",route="/api/v1/risks/{id}/resolve"} 0"#,
        "http_requests_in_flight 0",
        r#"http_errors_total{code="RATE_LIMITED"} 0"#,
        r#"http_errors_total{code="INTERNAL"} 0"#,
        r#"db_pool_connections{state="max"}"#,
        r#"db_query_duration_seconds_count{op="ping"}"#,
        r#"cache_requests_total{cache="llm",result="hit"} 0"#,
        r#"cache_requests_total{cache="llm",result="miss"} 0"#,
        r#"cache_requests_total{cache="llm",result="coalesced"} 0"#,
        r#"rate_limit_rejections_total{scope="ip"} 0"#,
        r#"rate_limit_rejections_total{scope="user"} 0"#,
        r#"rate_limit_rejections_total{scope="login"} 0"#,
        r#"auth_failures_total{reason="invalid_credentials"} 0"#,
        r#"auth_failures_total{reason="expired"} 0"#,
        r#"auth_failures_total{reason="missing_token"} 0"#,
        r#"llm_requests_total{model="rule-based-socratic-v1",outcome="success",provider="offline"} 0"#,
        r#"llm_requests_total{model="rule-based-socratic-v1",outcome="timeout",provider="offline"} 0"#,
        r#"llm_requests_total{model="rule-based-socratic-v1",outcome="upstream_error",provider="offline"} 0"#,
        r#"llm_requests_total{model="rule-based-socratic-v1",outcome="circuit_open",provider="offline"} 0"#,
        "llm_request_duration_seconds_count 0",
        r#"llm_tokens_total{kind="prompt"} 0"#,
        r#"llm_tokens_total{kind="completion"} 0"#,
        "cognitive_traces_created_total 0",
        r#"risks_detected_total{dimension="cognitive",level="high"} 0"#,
        r#"risks_detected_total{dimension="governance",level="critical"} 0"#,
    ] {
        assert!(text.contains(series), "{series} missing:\n{text}");
    }
}

/// A 500 caused by a storage failure logs the whole chain down to the database's own error,
/// with the request id, and keeps it for `/admin/errors`; the client sees none of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storage_failure_logs_its_cause_and_hides_it_from_the_client() {
    use secrecy::ExposeSecret;

    let logs = captured_logs();
    let app = TestApp::spawn(Backend::Postgres).await;
    let admin = app.admin("root").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let student = app.token_of("lena").await;
    let url = app.settings.database.url.expose_secret().to_owned();
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .expect("connect");
    sqlx::query("ALTER TABLE activities RENAME TO activities_elsewhere")
        .execute(&mut conn)
        .await
        .expect("rename");

    let res = app.get("/api/v1/activities", Some(&student)).await;
    let request_id = res
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("request id")
        .to_owned();
    let (status, body) = json_of(res).await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["error"]["code"], "INTERNAL");
    assert_eq!(body["error"]["message"], "internal server error");
    let text = body.to_string();
    for internal in ["activities", "exist", "relation", "storage", "database"] {
        assert!(
            !text.contains(internal),
            "{internal} reached the client: {text}"
        );
    }

    let cause = "relation \\\"activities\\\" does not exist";
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let line = logged
        .lines()
        .find(|l| l.contains("request failed") && l.contains(&request_id))
        .unwrap_or_else(|| panic!("no error line for {request_id}"));
    assert!(line.contains(cause), "the cause is logged: {line}");
    assert!(line.contains("internal server error: "), "{line}");

    // The entry is written by a background task, so it shows up shortly after the response.
    let entry = wait_for(
        Duration::from_secs(10),
        "the error in /admin/errors",
        || async {
            let (status, errors) =
                json_of(app.get("/api/v1/admin/errors", Some(&admin)).await).await;
            assert_eq!(status, 200, "{errors}");
            errors["data"]["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["request_id"] == request_id.as_str())
                .cloned()
        },
    )
    .await;
    assert!(
        entry["detail"]
            .as_str()
            .unwrap()
            .contains("relation \"activities\" does not exist"),
        "{entry}"
    );
}
