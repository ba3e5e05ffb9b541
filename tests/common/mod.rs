#![allow(dead_code)] // shared by several test binaries; each uses a part
//! The end-to-end harness: starts the real application on a random port, on SQLite or on a
//! fresh PostgreSQL database per test, and talks to it over HTTP.

pub mod http;

use std::collections::HashMap;
use std::path::PathBuf;

use actix_web::dev::ServerHandle;
use ainative_server::{Application, Settings};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

/// The database behind a test server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a fresh temporary directory.
    Sqlite,
    /// A fresh PostgreSQL database, dropped afterwards.
    Postgres,
}

/// The admin connection used to create per-test PostgreSQL databases.
pub fn postgres_admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A PostgreSQL database that is dropped when this guard is.
pub struct PgTestDb {
    name: String,
    /// URL of the database.
    pub url: String,
}

impl PgTestDb {
    /// Creates a fresh database.
    pub async fn create() -> Self {
        let admin = postgres_admin_url();
        let name = format!("ainative_e2e_{}", Uuid::new_v4().simple());
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
            .await
            .unwrap_or_else(|e| {
                panic!("PostgreSQL must be running at {admin} (set TEST_DATABASE_URL): {e}")
            });
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let base = admin
            .rsplit_once('/')
            .map_or(admin.as_str(), |(b, _)| b)
            .to_owned();
        Self {
            url: format!("{base}/{name}"),
            name,
        }
    }
}

impl Drop for PgTestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let admin = postgres_admin_url();
        // Drop cannot be async: use a private runtime on a plain thread.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(mut conn) =
                    <sqlx::PgConnection as sqlx::Connection>::connect(&admin).await
                {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await;
                }
            });
        })
        .join();
    }
}

/// A running server and a client for it.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The bound port.
    pub port: u16,
    /// The port of the internal metrics listener.
    pub metrics_port: u16,
    /// HTTP client (no redirects followed, so they can be asserted).
    pub client: reqwest::Client,
    /// The settings the server runs with.
    pub settings: Settings,
    /// Which backend.
    pub backend: Backend,
    handle: ServerHandle,
    _pg: Option<PgTestDb>,
    dir: PathBuf,
}

/// Settings every test server starts from; limits are high so tests do not trip them unless
/// they mean to.
fn base_env(database_url: &str) -> HashMap<String, String> {
    [
        ("APP_ENV", "test".to_owned()),
        ("APP_HOST", "127.0.0.1".to_owned()),
        ("APP_PORT", "0".to_owned()),
        ("DATABASE_URL", database_url.to_owned()),
        ("DB_POOL_SIZE", "5".to_owned()),
        (
            "JWT_SECRET_KEY",
            "e2e-secret-e2e-secret-e2e-secret-0123".to_owned(),
        ),
        ("BCRYPT_COST", "4".to_owned()),
        ("RATE_LIMIT_ANONYMOUS", "100000".to_owned()),
        ("RATE_LIMIT_FREE_TIER", "100000".to_owned()),
        ("RATE_LIMIT_PREMIUM_TIER", "100000".to_owned()),
        ("LOG_LEVEL", "warn".to_owned()),
        ("SHUTDOWN_TIMEOUT_SECS", "2".to_owned()),
        ("METRICS_ADDR", "127.0.0.1:0".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

impl TestApp {
    /// Starts a server with default test settings.
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, &[]).await
    }

    /// Starts a server with some variables overridden.
    pub async fn spawn_with(backend: Backend, overrides: &[(&str, &str)]) -> Self {
        let dir = std::env::temp_dir().join(format!("ainative-e2e-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let pg = match backend {
            Backend::Postgres => Some(PgTestDb::create().await),
            Backend::Sqlite => None,
        };
        let url = match &pg {
            Some(db) => db.url.clone(),
            None => format!("sqlite://{}/test.db", dir.display()),
        };
        let mut env = base_env(&url);
        for (k, v) in overrides {
            env.insert((*k).to_owned(), (*v).to_owned());
        }
        let settings = Settings::from_layers(env, &dir.join("config"), &dir.join("data"))
            .expect("test settings");
        let app = Application::build(settings.clone())
            .await
            .expect("application builds");
        let port = app.port();
        let metrics_port = app.metrics_port();
        let handle = app.handle();
        tokio::spawn(app.run_until(std::future::pending()));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self {
            base: format!("http://127.0.0.1:{port}"),
            port,
            metrics_port,
            client,
            settings,
            backend,
            handle,
            _pg: pg,
            dir,
        }
    }

    /// Full URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends a request with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let mut req = self.client.request(method, self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        req.send().await.expect("request sent")
    }

    /// POST JSON.
    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.call(Method::POST, path, token, Some(body)).await
    }

    /// GET.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.call(Method::GET, path, token, None).await
    }

    /// Registers a user; returns the `data` of the response (tokens + user).
    pub async fn register(&self, username: &str) -> Value {
        let res = self
            .post("/api/v1/auth/register", None, &register_body(username))
            .await;
        let (status, body) = json_of(res).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["data"].clone()
    }

    /// Registers a user and returns its access token.
    pub async fn token_of(&self, username: &str) -> String {
        self.register(username).await["access_token"]
            .as_str()
            .expect("token")
            .to_owned()
    }

    /// Creates an administrator (as `ainative create-admin` does) and logs in; returns data.
    pub async fn admin(&self, username: &str) -> Value {
        ainative_server::commands::create_admin_with(
            &self.settings,
            format!("{username}@example.com"),
            username.to_owned(),
            None,
            PASSWORD.to_owned().into(),
        )
        .await
        .expect("admin created");
        let res = self
            .post(
                "/api/v1/auth/login",
                None,
                &json!({"username": username, "password": PASSWORD}),
            )
            .await;
        let (status, body) = json_of(res).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"].clone()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        // Stop the server before its database is dropped.
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(handle.stop(false));
            }
        })
        .join();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The password every test user has.
pub const PASSWORD: &str = "Analytical7Engine";

/// A valid registration body.
pub fn register_body(username: &str) -> Value {
    json!({
        "email": format!("{username}@example.com"),
        "username": username,
        "password": PASSWORD,
        "full_name": format!("User {username}"),
    })
}

/// Status and JSON body of a response.
pub async fn json_of(res: Response) -> (StatusCode, Value) {
    let status = res.status();
    let text = res.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

/// Asserts the SPEC error envelope with this status and code; returns the body.
pub async fn expect_error(res: Response, status: u16, code: &str) -> Value {
    let headers = res.headers().clone();
    let (actual, body) = json_of(res).await;
    assert_eq!(actual.as_u16(), status, "{body}");
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
    assert!(body["error"]["details"].is_array(), "{body}");
    let request_id = body["error"]["request_id"].as_str().expect("request_id");
    assert_eq!(
        headers.get("x-request-id").and_then(|v| v.to_str().ok()),
        Some(request_id)
    );
    body
}

/// Generates one test per backend for an async case `fn(TestApp)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($case:ident),+ $(,)?) => {
        $(
            mod $case {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$case($crate::common::TestApp::spawn($crate::common::Backend::Sqlite).await).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$case($crate::common::TestApp::spawn($crate::common::Backend::Postgres).await).await;
                }
            }
        )+
    };
}
