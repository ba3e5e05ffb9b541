//! Test support for the whole workspace (a dev-dependency only; `publish = false`).
//!
//! | need | use |
//! |---|---|
//! | a PostgreSQL database per test | [`TestDatabase::create`] → [`TestDatabase::url`]; dropped with the guard, stale ones swept |
//! | a SQLite database per test | [`TestSqlite::new`] → [`TestSqlite::url`]; its directory removed with the guard |
//! | a Redis key prefix per test | [`RedisPrefix::new`] → [`RedisPrefix::url`], [`RedisPrefix::prefix`]; its keys deleted with the guard |
//! | a Redis to kill or freeze | [`RedisServer::start`] |
//! | a TCP dependency to cut off | [`TcpProxy::start`] |
//! | an external HTTP service | [`fake::http_fake`] (wiremock) |
//! | an OpenAI-compatible model with a fixed latency, shared by processes | [`FakeLlmProvider::start`] |
//! | an OAuth 2.0 / OIDC provider (Google, GitHub, Keycloak…) | [`oauth::FakeProvider`] |
//! | an SMTP server that keeps what it receives | [`SmtpSink::start`] |
//! | to wait for something | [`wait_until`], [`wait_for`], [`within`] — never a bare `sleep` |
//! | load during a fault | [`Load`] |
//! | the real server (feature `app`) | [`TestApp::spawn`], [`on_both_backends!`], [`fixtures`], [`http`] |
//!
//! Every helper fails the test loudly when the service it needs is missing: these tests
//! never skip.

pub mod aside;
pub mod fake;
pub mod llm_provider;
pub mod load;
pub mod net;
pub mod oauth;
pub mod postgres;
pub mod redis;
pub mod resp;
pub mod smtp;
pub mod sqlite;
pub mod wait;

#[cfg(feature = "app")]
pub mod app;
#[cfg(feature = "app")]
pub mod fixtures;
#[cfg(feature = "app")]
pub mod http;

pub use llm_provider::FakeLlmProvider;
pub use load::{Load, Shot, Tally, PHASES};
pub use net::{free_port, host_port, via_port, TcpProxy};
pub use postgres::TestDatabase;
pub use redis::{redis_url, require_redis, RedisPrefix, RedisServer};
pub use resp::{redis_addr, redis_command, redis_keys, Reply};
pub use smtp::{ReceivedMail, SmtpSink};
pub use sqlite::{TempDir, TestSqlite};
pub use wait::{wait_for, wait_until, within};

#[cfg(feature = "app")]
pub use app::{Backend, TestApp};
#[cfg(feature = "app")]
pub use fixtures::{expect_error, json_of, register_body, PASSWORD};
