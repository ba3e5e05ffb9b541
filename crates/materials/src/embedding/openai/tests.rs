use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;

fn config(base_url: &str) -> OpenAiEmbedderConfig {
    OpenAiEmbedderConfig {
        base_url: base_url.to_owned(),
        api_key: Some("sk-test-secret".to_owned()),
        model: "text-embedding-3-small".to_owned(),
        dimensions: None,
        timeout: Duration::from_secs(5),
    }
}

fn embedder(server: &MockServer) -> OpenAiEmbedder {
    OpenAiEmbedder::new(config(&format!("{}/v1/", server.uri()))).expect("embedder")
}

fn inputs(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|t| (*t).to_owned()).collect()
}

#[tokio::test]
async fn speaks_the_openai_embeddings_protocol() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/embeddings"))
        .and(header("authorization", "Bearer sk-test-secret"))
        .and(body_json(json!({
            "model": "text-embedding-3-small",
            "input": ["first", "second"],
            "encoding_format": "float"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "list",
            "data": [
                {"object": "embedding", "index": 1, "embedding": [0.0, 1.0, 0.5]},
                {"object": "embedding", "index": 0, "embedding": [1.0, 0.0, -0.5]}
            ],
            "model": "text-embedding-3-small",
            "usage": {"prompt_tokens": 2, "total_tokens": 2}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let vectors = embedder(&server)
        .embed(&inputs(&["first", "second"]))
        .await
        .expect("vectors");
    assert_eq!(vectors, vec![vec![1.0, 0.0, -0.5], vec![0.0, 1.0, 0.5]]);
}

#[tokio::test]
async fn sends_dimensions_when_configured_and_nothing_for_no_input() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_json(json!({
            "model": "text-embedding-3-small",
            "input": ["x"],
            "encoding_format": "float",
            "dimensions": 2
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{"index": 0, "embedding": [0.6, 0.8]}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let client = OpenAiEmbedder::new(OpenAiEmbedderConfig {
        dimensions: Some(2),
        api_key: None,
        ..config(&server.uri())
    })
    .expect("embedder");
    assert_eq!(
        client.embed(&inputs(&["x"])).await.expect("vectors"),
        vec![vec![0.6, 0.8]]
    );
    assert!(client.embed(&[]).await.expect("no call").is_empty());
}

async fn failing_with(template: ResponseTemplate) -> PortError {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(template)
        .mount(&server)
        .await;
    embedder(&server)
        .embed(&inputs(&["a", "b"]))
        .await
        .expect_err("failure")
}

#[tokio::test]
async fn overload_and_server_errors_are_retryable() {
    for status in [429, 500, 503, 408] {
        let err = failing_with(ResponseTemplate::new(status).set_body_string("busy")).await;
        assert!(err.is_unavailable(), "{status}: {err:?}");
    }
}

#[tokio::test]
async fn refusals_and_bad_bodies_are_permanent() {
    let err = failing_with(
        ResponseTemplate::new(400).set_body_string("{\"error\":{\"message\":\"bad model\"}}"),
    )
    .await;
    assert!(matches!(err, PortError::Other(_)));
    assert!(ainative_ports::error_chain(&err).contains("bad model"));

    let err = failing_with(ResponseTemplate::new(200).set_body_string("not json")).await;
    assert!(matches!(err, PortError::Other(_)));

    let one_vector = json!({"data": [{"index": 0, "embedding": [1.0]}]});
    let err = failing_with(ResponseTemplate::new(200).set_body_json(one_vector)).await;
    assert!(
        ainative_ports::error_chain(&err).contains("1 vectors for 2 inputs"),
        "{err:?}"
    );

    let repeated = json!({"data": [
        {"index": 0, "embedding": [1.0]}, {"index": 0, "embedding": [2.0]}
    ]});
    let err = failing_with(ResponseTemplate::new(200).set_body_json(repeated)).await;
    assert!(
        ainative_ports::error_chain(&err).contains("repeated"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_slow_or_absent_endpoint_is_unavailable() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(10)))
        .mount(&server)
        .await;
    let slow = OpenAiEmbedder::new(OpenAiEmbedderConfig {
        timeout: Duration::from_millis(200),
        ..config(&server.uri())
    })
    .expect("embedder");
    assert!(slow
        .embed(&inputs(&["a"]))
        .await
        .expect_err("timeout")
        .is_unavailable());

    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let absent =
        OpenAiEmbedder::new(config(&format!("http://127.0.0.1:{port}"))).expect("embedder");
    assert!(absent
        .embed(&inputs(&["a"]))
        .await
        .expect_err("refused")
        .is_unavailable());
}

#[test]
fn settings_are_checked_and_the_key_never_shows() {
    assert!(matches!(
        OpenAiEmbedder::new(config("ftp://example.com")),
        Err(EmbedderConfigError::InvalidBaseUrl(_))
    ));
    assert!(matches!(
        OpenAiEmbedder::new(config("not a url")),
        Err(EmbedderConfigError::InvalidBaseUrl(_))
    ));
    assert_eq!(
        OpenAiEmbedder::new(OpenAiEmbedderConfig {
            model: " ".to_owned(),
            ..config("http://localhost:1")
        })
        .err(),
        Some(EmbedderConfigError::MissingModel)
    );
    let cfg = config("http://localhost:1/v1");
    assert!(!format!("{cfg:?}").contains("sk-test-secret"));
    let client = OpenAiEmbedder::new(cfg).expect("embedder");
    assert!(!format!("{client:?}").contains("sk-test-secret"));
    assert_eq!(client.model(), "text-embedding-3-small");
}
