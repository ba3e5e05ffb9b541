//! Bring your own model (SPEC §10.4) end to end: each activity's turns reach its owner's
//! endpoint with its owner's key, a student's session (where allowed) reaches the student's; suspension (also under load), limits, verification,
//! rotation; the owner and admin endpoints with their RBAC; SSRF refusals; and no secret in
//! logs, error bodies, audit rows or `check-config`.

#[path = "byom/api.rs"]
mod api;
#[path = "byom/rotation.rs"]
mod rotation;
#[path = "byom/routing.rs"]
mod routing;
#[path = "byom/student.rs"]
mod student;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use ainative_test_support::fake::wiremock::matchers::{header, method, path};
use ainative_test_support::fake::wiremock::{Mock, MockServer, ResponseTemplate};
use ainative_test_support::fake::{http_fake, openai_completion};
use ainative_test_support::fixtures::{data, instructor};
use ainative_test_support::{Backend, TestApp};
use serde_json::{json, Value};

/// Log output of every server in this test binary (the tracing subscriber is global).
#[derive(Clone, Default)]
pub(crate) struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

pub(crate) fn captured_logs() -> &'static Captured {
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

/// A server on `backend` that lets endpoints be on loopback (the fakes are).
pub(crate) async fn spawn(backend: Backend) -> TestApp {
    spawn_with(backend, &[]).await
}

pub(crate) async fn spawn_with(backend: Backend, extra: &[(&str, &str)]) -> TestApp {
    captured_logs();
    let mut env = vec![("ALLOW_PRIVATE_LLM_ENDPOINTS", "true")];
    env.extend_from_slice(extra);
    TestApp::spawn_with(backend, &env).await
}

/// An OpenAI-compatible fake that answers `text` to requests bearing `key` only.
pub(crate) async fn endpoint(key: &str, text: &str) -> MockServer {
    let server = http_fake().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", format!("Bearer {key}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(openai_completion(text)))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}
        })))
        .mount(&server)
        .await;
    server
}

/// Registers a credential of `token`'s user for `server`; returns its data.
pub(crate) async fn register(app: &TestApp, token: &str, server: &MockServer, key: &str) -> Value {
    data(
        app.post(
            "/api/v1/me/llm-credentials",
            Some(token),
            &json!({
                "provider": "openai-compatible",
                "base_url": format!("{}/v1", server.uri()),
                "model": "their-model",
                "api_key": key,
                "label": "my endpoint",
            }),
        )
        .await,
        201,
    )
    .await
}

/// The people of a test.
pub(crate) struct Cast {
    pub admin: String,
    pub alice: String,
    pub bob: String,
    pub student: String,
}

pub(crate) async fn cast(app: &TestApp) -> Cast {
    let admin = app.admin("root").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    Cast {
        alice: instructor(app, &admin, "alice").await,
        bob: instructor(app, &admin, "bob").await,
        student: app.token_of("student").await,
        admin,
    }
}

/// Runs each case on SQLite and PostgreSQL.
#[macro_export]
macro_rules! both_backends {
    ($($case:ident),+ $(,)?) => {
        $(
            mod $case {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$case(ainative_test_support::Backend::Sqlite).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$case(ainative_test_support::Backend::Postgres).await;
                }
            }
        )+
    };
}
