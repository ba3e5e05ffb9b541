//! The real application on a random port (`Application::build`, `APP_PORT=0`,
//! `METRICS_ADDR=127.0.0.1:0`), on a SQLite file or a fresh PostgreSQL database per test,
//! spoken to over HTTP.

use std::collections::HashMap;

use actix_web::dev::ServerHandle;
use ainative_server::{Application, Settings};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::aside::block_on_aside;
use crate::fixtures::{json_of, register_body, PASSWORD};
use crate::postgres::TestDatabase;
use crate::sqlite::TempDir;

/// The database behind a test server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a fresh temporary directory.
    Sqlite,
    /// A fresh PostgreSQL database, dropped afterwards.
    Postgres,
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
    // Dropped after the server is stopped (see `Drop`), in this order.
    _pg: Option<TestDatabase>,
    _dir: TempDir,
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
        // The shipped default is EdDSA; most tests forge HS256 tokens with this secret, and
        // tests of asymmetric keys choose their algorithm.
        ("JWT_ALGORITHM", "HS256".to_owned()),
        (
            "JWT_SECRET_KEY",
            "e2e-secret-e2e-secret-e2e-secret-0123".to_owned(),
        ),
        // Base64 of 32 bytes: test servers never write a development key file.
        (
            "CREDENTIALS_ENCRYPTION_KEY",
            "ZTJlLWNyZWRlbnRpYWxzLWtleS0wMTIzNDU2Nzg5YWI=".to_owned(),
        ),
        (
            "API_KEY_PEPPER",
            "e2e-pepper-e2e-pepper-e2e-pepper-0123".to_owned(),
        ),
        ("BCRYPT_COST", "4".to_owned()),
        ("RATE_LIMIT_ANONYMOUS", "100000".to_owned()),
        ("RATE_LIMIT_FREE_TIER", "100000".to_owned()),
        ("RATE_LIMIT_PREMIUM_TIER", "100000".to_owned()),
        ("RATE_LIMIT_OAUTH", "100000".to_owned()),
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
        let dir = TempDir::create("e2e");
        let pg = match backend {
            // Boxed: the nested futures are otherwise too deep for the compiler's layout queries.
            Backend::Postgres => Some(Box::pin(TestDatabase::create()).await),
            Backend::Sqlite => None,
        };
        let url = match &pg {
            Some(db) => db.url().to_owned(),
            None => format!("sqlite://{}", dir.join("test.db").display()),
        };
        let mut env = base_env(&url);
        for (k, v) in overrides {
            env.insert((*k).to_owned(), (*v).to_owned());
        }
        let settings = Settings::from_layers(env, &dir.join("config"), &dir.join("data"))
            .expect("test settings");
        let app = Box::pin(Application::build(settings.clone()))
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
            _dir: dir,
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
        // Stop the server before its database and directory go (the fields, after this).
        let _ = block_on_aside(async move { handle.stop(false).await });
    }
}

/// Generates one test per backend for an async case `fn(TestApp)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($case:ident),+ $(,)?) => {
        $(
            mod $case {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$case($crate::TestApp::spawn($crate::Backend::Sqlite).await).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$case($crate::TestApp::spawn($crate::Backend::Postgres).await).await;
                }
            }
        )+
    };
}
