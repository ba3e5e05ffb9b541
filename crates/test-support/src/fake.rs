//! Fake external systems on loopback, speaking the real protocol. Start here when a test
//! needs an external service (an LLM provider, a mail relay's HTTP API, an OAuth server…).
//!
//! - **HTTP**: [`http_fake`] starts a [`wiremock`] server on `127.0.0.1:<random port>`; mount
//!   the answers the test needs and point the application at [`MockServer::uri`]:
//!
//!   ```ignore
//!   use ainative_test_support::fake::{http_fake, openai_completion, openai_env};
//!   use ainative_test_support::fake::wiremock::{matchers::{method, path}, Mock, ResponseTemplate};
//!
//!   let llm = http_fake().await;
//!   Mock::given(method("POST"))
//!       .and(path("/v1/chat/completions"))
//!       .respond_with(ResponseTemplate::new(200).set_body_json(openai_completion("Hi")))
//!       .expect(1) // verified when `llm` drops
//!       .mount(&llm)
//!       .await;
//!   let env = openai_env(&llm, 5);
//!   let app = TestApp::spawn_with(Backend::Sqlite, &as_overrides(&env)).await;
//!   ```
//!
//! - **TCP services under fault**: [`crate::RedisServer`] (a private `redis-server` to kill
//!   or freeze) and [`crate::TcpProxy`] (cut off or silence any TCP upstream, e.g. PostgreSQL).
//!
//! A fake of a protocol wiremock cannot speak belongs here as a module of its own, on a
//! `tokio::net::TcpListener` bound to `127.0.0.1:0`.

use serde_json::{json, Value};
pub use wiremock;
pub use wiremock::MockServer;

/// Starts a loopback HTTP fake on a random port.
pub async fn http_fake() -> MockServer {
    MockServer::start().await
}

/// An OpenAI-compatible `chat.completion` answering `text`, with usage 42 + 7 tokens.
pub fn openai_completion(text: &str) -> Value {
    json!({
        "id": "x", "object": "chat.completion", "model": "test-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 42, "completion_tokens": 7, "total_tokens": 49}
    })
}

/// The settings pointing the application's `openai` provider at `server` (model
/// `test-model`, one retry, `timeout_secs` per call).
pub fn openai_env(server: &MockServer, timeout_secs: u64) -> Vec<(&'static str, String)> {
    vec![
        ("LLM_PROVIDER", "openai".to_owned()),
        ("LLM_BASE_URL", format!("{}/v1", server.uri())),
        ("LLM_MODEL", "test-model".to_owned()),
        ("LLM_API_KEY", "sk-test-upstream-key".to_owned()),
        ("LLM_TIMEOUT_SECS", timeout_secs.to_string()),
        ("LLM_MAX_RETRIES", "1".to_owned()),
    ]
}

/// Borrows owned overrides as the `&[(&str, &str)]` that `TestApp::spawn_with` takes.
pub fn as_overrides<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'a str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}
