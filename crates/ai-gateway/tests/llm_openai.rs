//! The `openai` provider, the resilience decorator and the caching, coalescing client against
//! local OpenAI-compatible servers (wiremock, and a raw TCP server for split writes).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ainative_ai_gateway::llm::{
    AnswerSource, CircuitState, LanguageModel, LlmClient, OpenAiConfig, OpenAiProvider,
    ResilienceConfig, ResilientProvider,
};
use ainative_domain::{Agent, HelpLevel, Intent};
use ainative_ports::{
    error_chain, ChatMessage, ChatRole, Guidance, LlmError, LlmProvider, LlmRequest, LlmResponse,
    LlmStream, PortError, PortResult, ResponseCache, StreamEvent, UpstreamKind,
};
use async_trait::async_trait;
use futures::StreamExt;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const COMPLETIONS: &str = "/v1/chat/completions";

fn request(prompt: &str) -> LlmRequest {
    LlmRequest {
        messages: vec![
            ChatMessage {
                role: ChatRole::System,
                content: "You are a Socratic tutor.".to_owned(),
            },
            ChatMessage {
                role: ChatRole::User,
                content: prompt.to_owned(),
            },
        ],
        temperature: 0.2,
        max_tokens: 256,
        guidance: Guidance {
            agent: Agent::Tutor,
            intent: Intent::ConceptualQuestion,
            help_level: HelpLevel::Medium,
            simulator_type: None,
            activity_title: "Recursion".to_owned(),
            subject: "Python".to_owned(),
            allow_code_snippets: false,
            grounding: Vec::new(),
        },
    }
}

fn completion(content: &str) -> serde_json::Value {
    json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "tutor-model-0613",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 21, "completion_tokens": 9, "total_tokens": 30}
    })
}

const SSE_BODY: &str = concat!(
    "data: {\"id\":\"c\",\"model\":\"tutor-model-0613\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n",
    "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"What is \"}}]}\n\n",
    "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"the base case\"}}]}\n\n",
    "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" — ¿sí?\"},\"finish_reason\":\"stop\"}]}\n\n",
    "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":21,\"completion_tokens\":7,\"total_tokens\":28}}\n\n",
    "data: [DONE]\n\n",
);

const SSE_TEXT: &str = "What is the base case — ¿sí?";

fn provider_at(base_url: String, timeout: Duration) -> OpenAiProvider {
    OpenAiProvider::new(OpenAiConfig {
        base_url,
        api_key: Some("sk-test".to_owned()),
        model: "tutor-model".to_owned(),
        timeout,
    })
    .expect("provider")
}

fn provider(server: &MockServer) -> OpenAiProvider {
    provider_at(format!("{}/v1", server.uri()), Duration::from_secs(5))
}

fn fast_config() -> ResilienceConfig {
    ResilienceConfig {
        timeout: Duration::from_secs(5),
        max_retries: 2,
        base_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        failure_threshold: 5,
        open_duration: Duration::from_secs(30),
    }
}

fn resilient(server: &MockServer, config: ResilienceConfig) -> Arc<ResilientProvider> {
    Arc::new(ResilientProvider::new(Arc::new(provider(server)), config))
}

async fn collect(stream: LlmStream) -> (String, Vec<Result<StreamEvent, LlmError>>) {
    let events: Vec<_> = stream.collect().await;
    let text = events
        .iter()
        .filter_map(|e| match e {
            Ok(StreamEvent::Delta(d)) => Some(d.as_str()),
            _ => None,
        })
        .collect();
    (text, events)
}

async fn received(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

/// Polls `condition` every 10 ms until it holds; fails after `within`.
async fn until(what: &str, within: Duration, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + within;
    while !condition() {
        assert!(Instant::now() < deadline, "not within {within:?}: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A response cache in a map.
#[derive(Default)]
struct MapCache(std::sync::Mutex<HashMap<String, String>>);

#[async_trait]
impl ResponseCache for MapCache {
    async fn get(&self, key: &str) -> PortResult<Option<String>> {
        Ok(self.0.lock().expect("lock").get(key).cloned())
    }
    async fn put(&self, key: &str, value: &str, _ttl: Duration) -> PortResult<()> {
        self.0
            .lock()
            .expect("lock")
            .insert(key.to_owned(), value.to_owned());
        Ok(())
    }
}

/// A response cache that is always down.
struct DownCache;

#[async_trait]
impl ResponseCache for DownCache {
    async fn get(&self, _key: &str) -> PortResult<Option<String>> {
        Err(PortError::Unavailable("cache down".into()))
    }
    async fn put(&self, _key: &str, _value: &str, _ttl: Duration) -> PortResult<()> {
        Err(PortError::Unavailable("cache down".into()))
    }
}

#[tokio::test]
async fn json_completion_sends_the_conversation_and_records_usage() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(COMPLETIONS))
        .and(header("authorization", "Bearer sk-test"))
        .and(body_partial_json(json!({
            "model": "tutor-model",
            "max_tokens": 256,
            "messages": [
                {"role": "system", "content": "You are a Socratic tutor."},
                {"role": "user", "content": "What is recursion?"}
            ]
        })))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(completion("What do you think a base case is?")),
        )
        .expect(1)
        .mount(&server)
        .await;

    let provider = provider(&server);
    assert_eq!(
        (provider.name(), provider.model()),
        ("openai", "tutor-model")
    );
    let response = provider
        .complete(&request("What is recursion?"))
        .await
        .expect("answer");
    assert_eq!(
        response,
        LlmResponse {
            content: "What do you think a base case is?".to_owned(),
            model: "tutor-model-0613".to_owned(),
            tokens_in: 21,
            tokens_out: 9,
        }
    );
    let requests = server.received_requests().await.expect("recorded");
    let sent: serde_json::Value = serde_json::from_slice(&requests[0].body).expect("json");
    assert!(sent.get("stream").is_none(), "no stream flag: {sent}");
    assert!((sent["temperature"].as_f64().expect("temperature") - 0.2).abs() < 1e-6);
}

#[tokio::test]
async fn usage_is_estimated_when_the_server_reports_none() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(COMPLETIONS))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "choices": [{"message": {"role": "assistant", "content": "three little words"}}]
        })))
        .mount(&server)
        .await;
    let response = provider(&server)
        .complete(&request("one two"))
        .await
        .expect("answer");
    assert_eq!(response.tokens_out, 3);
    assert_eq!(response.tokens_in, 5 + 2); // words of the system prompt and the question
    assert_eq!(response.model, "tutor-model");
}

#[tokio::test]
async fn sse_stream_yields_deltas_then_done_with_usage() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(COMPLETIONS))
        .and(body_partial_json(
            json!({"stream": true, "stream_options": {"include_usage": true}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_raw(SSE_BODY, "text/event-stream"))
        .expect(1)
        .mount(&server)
        .await;
    let stream = provider(&server)
        .stream(&request("What is recursion?"))
        .await
        .expect("stream");
    let (text, events) = collect(stream).await;
    assert_eq!(text, SSE_TEXT);
    assert_eq!(events.len(), 4);
    assert_eq!(
        events.last(),
        Some(&Ok(StreamEvent::Done(LlmResponse {
            content: SSE_TEXT.to_owned(),
            model: "tutor-model-0613".to_owned(),
            tokens_in: 21,
            tokens_out: 7,
        })))
    );
}

/// Serves one HTTP request on a raw socket, writing the SSE body in `pieces` with a pause
/// between writes, then closing. The handle reports whether a write failed (the client went
/// away).
async fn split_sse_server(
    pieces: Vec<Vec<u8>>,
    pause: Duration,
) -> (String, tokio::task::JoinHandle<bool>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let handle = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.expect("accept");
        let mut seen = Vec::new();
        let mut buffer = [0u8; 4096];
        // Read the head and the body announced by Content-Length.
        loop {
            let n = socket.read(&mut buffer).await.expect("read");
            seen.extend_from_slice(&buffer[..n]);
            let text = String::from_utf8_lossy(&seen).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse::<usize>().expect("length"))
                    })
                    .unwrap_or(0);
                if seen.len() >= end + 4 + length {
                    break;
                }
            }
            if n == 0 {
                break;
            }
        }
        let head =
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";
        if socket.write_all(head.as_bytes()).await.is_err() {
            return true;
        }
        for piece in pieces {
            if socket.write_all(&piece).await.is_err() || socket.flush().await.is_err() {
                return true;
            }
            // Pacing, not waiting for a condition: a gap between writes makes each piece
            // arrive in a read of its own, as a slow upstream's chunks do.
            tokio::time::sleep(pause).await;
        }
        false
    });
    (format!("http://{address}/v1"), handle)
}

#[tokio::test]
async fn sse_chunks_split_across_tcp_writes_are_reassembled() {
    // Cuts inside `data:`, inside JSON documents, between the two `\n` of an event end and
    // inside the multi-byte UTF-8 character `¿`.
    let bytes = SSE_BODY.as_bytes();
    let accent = SSE_BODY.find('¿').expect("accent") + 1;
    let event_end = SSE_BODY.find("\n\n").expect("event end") + 1;
    let mut cuts = vec![3, 60, event_end, accent, accent + 5, bytes.len() - 8];
    cuts.sort_unstable();
    let mut pieces = Vec::new();
    let mut start = 0;
    for cut in cuts {
        pieces.push(bytes[start..cut].to_vec());
        start = cut;
    }
    pieces.push(bytes[start..].to_vec());
    let (base_url, server) = split_sse_server(pieces, Duration::from_millis(15)).await;
    let provider = provider_at(base_url, Duration::from_secs(5));
    let stream = provider
        .stream(&request("What is recursion?"))
        .await
        .expect("stream");
    let (text, events) = collect(stream).await;
    assert_eq!(text, SSE_TEXT);
    assert!(matches!(
        events.last(),
        Some(Ok(StreamEvent::Done(done))) if done.content == SSE_TEXT && done.tokens_out == 7
    ));
    assert!(
        !server.await.expect("server"),
        "the server wrote everything"
    );
}

#[tokio::test]
async fn dropping_the_stream_closes_the_upstream_connection() {
    let mut pieces =
        vec![b"data: {\"choices\":[{\"delta\":{\"content\":\"Think \"}}]}\n\n".to_vec()];
    for _ in 0..200 {
        pieces.push(b"data: {\"choices\":[{\"delta\":{\"content\":\"more \"}}]}\n\n".to_vec());
    }
    let (base_url, server) = split_sse_server(pieces, Duration::from_millis(20)).await;
    let provider = provider_at(base_url, Duration::from_secs(5));
    let mut stream = provider.stream(&request("hi")).await.expect("stream");
    assert_eq!(
        stream.next().await,
        Some(Ok(StreamEvent::Delta("Think ".to_owned())))
    );
    drop(stream);
    let client_went_away = tokio::time::timeout(Duration::from_secs(3), server)
        .await
        .expect("the server noticed within 3 s")
        .expect("server");
    assert!(client_went_away);
}

#[tokio::test]
async fn a_500_then_a_200_is_retried_and_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(COMPLETIONS))
        .respond_with(ResponseTemplate::new(500).set_body_string("overloaded"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(COMPLETIONS))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion("Second time lucky?")))
        .mount(&server)
        .await;
    let provider = resilient(&server, fast_config());
    let response = provider
        .complete(&request("retry me"))
        .await
        .expect("answer");
    assert_eq!(response.content, "Second time lucky?");
    assert_eq!(received(&server).await, 2);
    let stats = provider.stats().snapshot();
    assert_eq!((stats.provider_attempts, stats.retries), (2, 1));
}

#[tokio::test]
async fn a_stream_is_retried_while_it_is_being_opened() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(COMPLETIONS))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(COMPLETIONS))
        .respond_with(ResponseTemplate::new(200).set_body_raw(SSE_BODY, "text/event-stream"))
        .mount(&server)
        .await;
    let stream = resilient(&server, fast_config())
        .stream(&request("s"))
        .await
        .expect("stream");
    assert_eq!(collect(stream).await.0, SSE_TEXT);
    assert_eq!(received(&server).await, 2);
}

#[tokio::test]
async fn a_400_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(COMPLETIONS))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": {"message": "max_tokens is too large", "type": "invalid_request_error"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let provider = resilient(&server, fast_config());
    let error = provider
        .complete(&request("bad"))
        .await
        .expect_err("rejected");
    assert_eq!(
        error.upstream_kind(),
        Some(UpstreamKind::Status(400)),
        "{error:?}"
    );
    assert_eq!(
        error_chain(&error),
        "the language model failed (HTTP 400): max_tokens is too large"
    );
    assert!(!error.is_retryable());
    assert_eq!(provider.circuit_state(), CircuitState::Closed);
}

#[tokio::test]
async fn a_slow_answer_is_a_timeout_and_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(COMPLETIONS))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(completion("late"))
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&server)
        .await;
    let inner = provider_at(format!("{}/v1", server.uri()), Duration::from_millis(300));
    let provider = ResilientProvider::new(
        Arc::new(inner),
        ResilienceConfig {
            timeout: Duration::from_millis(300),
            ..fast_config()
        },
    );
    let started = Instant::now();
    assert_eq!(
        provider.complete(&request("slow")).await,
        Err(LlmError::Timeout)
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(received(&server).await, 1);

    // The bare provider's own timeout too, for JSON and for streams.
    let bare = provider_at(format!("{}/v1", server.uri()), Duration::from_millis(300));
    assert_eq!(
        bare.complete(&request("slow")).await,
        Err(LlmError::Timeout)
    );
    assert_eq!(
        bare.stream(&request("slow")).await.err(),
        Some(LlmError::Timeout)
    );
}

#[tokio::test]
async fn an_unreachable_server_is_a_retryable_upstream_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let provider = provider_at(
        format!("http://127.0.0.1:{port}/v1"),
        Duration::from_secs(2),
    );
    let error = provider
        .complete(&request("anyone?"))
        .await
        .expect_err("refused");
    assert_eq!(
        error.upstream_kind(),
        Some(UpstreamKind::Connection),
        "{error:?}"
    );
    assert!(error.is_retryable());
    let chain = error_chain(&error);
    assert!(
        chain.starts_with("the language model failed (connection failed): request failed: "),
        "{chain}"
    );
    assert!(!chain.contains("sk-test"));
}

#[tokio::test]
async fn repeated_failures_open_the_circuit_which_then_fails_fast() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(COMPLETIONS))
        .respond_with(ResponseTemplate::new(502))
        .expect(3)
        .mount(&server)
        .await;
    let provider = resilient(
        &server,
        ResilienceConfig {
            max_retries: 0,
            failure_threshold: 3,
            open_duration: Duration::from_millis(400),
            ..fast_config()
        },
    );
    for _ in 0..3 {
        let error = provider.complete(&request("down")).await.expect_err("down");
        assert_eq!(error.upstream_kind(), Some(UpstreamKind::Status(502)));
    }
    assert_eq!(provider.circuit_state(), CircuitState::Open);
    let started = Instant::now();
    for _ in 0..10 {
        assert_eq!(
            provider.complete(&request("down")).await,
            Err(LlmError::CircuitOpen)
        );
        assert_eq!(
            provider.stream(&request("down")).await.err(),
            Some(LlmError::CircuitOpen)
        );
    }
    assert!(started.elapsed() < Duration::from_millis(100), "fails fast");
    assert_eq!(
        received(&server).await,
        3,
        "no request reached the server while open"
    );
    server.verify().await;

    // After the open period one trial goes through; its success closes the circuit.
    server.reset().await;
    Mock::given(method("POST"))
        .and(path(COMPLETIONS))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion("back")))
        .mount(&server)
        .await;
    // The breaker keeps real time (std `Instant`): wait for the open period to end.
    until("the circuit half-opens", Duration::from_secs(5), || {
        provider.circuit_state() == CircuitState::HalfOpen
    })
    .await;
    assert_eq!(
        provider
            .complete(&request("up"))
            .await
            .expect("trial")
            .content,
        "back"
    );
    assert_eq!(provider.circuit_state(), CircuitState::Closed);
}

#[tokio::test]
async fn retries_stop_when_the_circuit_opens() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(COMPLETIONS))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let provider = resilient(
        &server,
        ResilienceConfig {
            max_retries: 10,
            failure_threshold: 2,
            ..fast_config()
        },
    );
    let error = provider.complete(&request("down")).await.expect_err("down");
    assert_eq!(error.upstream_kind(), Some(UpstreamKind::Status(500)));
    assert_eq!(received(&server).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_identical_calls_reach_the_server_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(COMPLETIONS))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(completion("What would the smallest input be?"))
                .set_delay(Duration::from_millis(200)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = Arc::new(LlmClient::new(
        resilient(&server, fast_config()),
        Arc::new(MapCache::default()),
        Duration::from_secs(60),
    ));
    let calls: Vec<_> = (0..100)
        .map(|_| {
            let client = Arc::clone(&client);
            tokio::spawn(async move { client.complete(&request("How do I start?")).await })
        })
        .collect();
    let mut sources = Vec::new();
    for call in futures::future::join_all(calls).await {
        let completed = call.expect("task").expect("answer");
        assert_eq!(
            completed.response.content,
            "What would the smallest input be?"
        );
        assert_eq!(
            (completed.response.tokens_in, completed.response.tokens_out),
            (21, 9)
        );
        sources.push(completed.source);
    }
    assert_eq!(received(&server).await, 1);
    // One caller made the provider call; the others shared it (a straggler arriving after
    // the flight landed finds the cache).
    let providers = sources
        .iter()
        .filter(|s| **s == AnswerSource::Provider)
        .count();
    assert_eq!(providers, 1, "{sources:?}");
    let coalesced = sources
        .iter()
        .filter(|s| **s == AnswerSource::Coalesced)
        .count() as u64;
    assert!(coalesced >= 1);

    let hit = client
        .complete(&request("How do I start?"))
        .await
        .expect("hit");
    assert_eq!(hit.source, AnswerSource::Cache);
    assert_eq!(hit.response.content, "What would the smallest input be?");
    assert_eq!(received(&server).await, 1);

    let stats = client.stats();
    assert_eq!(stats.calls, 101);
    assert_eq!(stats.cache_misses, 1);
    assert_eq!(stats.coalesced_waiters, coalesced);
    assert_eq!(stats.cache_hits, 100 - coalesced);
    assert_eq!(stats.provider_attempts, 1);
    assert_eq!(
        (stats.tokens_in, stats.tokens_out),
        (21, 9),
        "usage counted once"
    );
    assert_eq!(client.in_flight(), 0);
    server.verify().await;

    // A different history is a different conversation: a new call.
    let mut longer = request("How do I start?");
    longer.messages.insert(
        1,
        ChatMessage {
            role: ChatRole::User,
            content: "earlier".to_owned(),
        },
    );
    server.reset().await;
    Mock::given(method("POST"))
        .and(path(COMPLETIONS))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion("Other")))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(
        client.complete(&longer).await.expect("answer").source,
        AnswerSource::Provider
    );
}

#[tokio::test]
async fn a_cache_that_always_fails_never_fails_the_call() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(COMPLETIONS))
        .and(body_partial_json(json!({"stream": true})))
        .respond_with(ResponseTemplate::new(200).set_body_raw(SSE_BODY, "text/event-stream"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(COMPLETIONS))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion("Still here.")))
        .mount(&server)
        .await;
    let client = LlmClient::new(
        resilient(&server, fast_config()),
        Arc::new(DownCache),
        Duration::from_secs(60),
    );
    for _ in 0..2 {
        let completed = client
            .complete(&request("cache down"))
            .await
            .expect("answer");
        assert_eq!(completed.response.content, "Still here.");
        assert_eq!(completed.source, AnswerSource::Provider);
    }
    let streamed = client.stream(&request("cache down")).await.expect("stream");
    assert_eq!(streamed.source, AnswerSource::Provider);
    assert_eq!(collect(streamed.events).await.0, SSE_TEXT);
    assert_eq!(received(&server).await, 3);
    assert!(client.stats().cache_errors >= 4);
}

#[tokio::test]
async fn a_streamed_answer_is_cached_for_later_calls() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(COMPLETIONS))
        .respond_with(ResponseTemplate::new(200).set_body_raw(SSE_BODY, "text/event-stream"))
        .expect(1)
        .mount(&server)
        .await;
    let cache = Arc::new(MapCache::default());
    let client: Arc<dyn LanguageModel> = Arc::new(LlmClient::new(
        resilient(&server, fast_config()),
        cache.clone(),
        Duration::from_secs(60),
    ));
    let first = client.stream(&request("stream me")).await.expect("stream");
    assert_eq!(first.source, AnswerSource::Provider);
    assert_eq!(collect(first.events).await.0, SSE_TEXT);
    until("the spawned cache write", Duration::from_secs(5), || {
        cache.0.lock().expect("lock").len() == 1
    })
    .await;

    let replay = client.stream(&request("stream me")).await.expect("stream");
    assert_eq!(replay.source, AnswerSource::Cache);
    let (text, events) = collect(replay.events).await;
    assert_eq!(text, SSE_TEXT);
    assert!(matches!(events.last(), Some(Ok(StreamEvent::Done(d))) if d.tokens_out == 7));
    let completed = client.complete(&request("stream me")).await.expect("hit");
    assert_eq!(completed.source, AnswerSource::Cache);
    assert_eq!(completed.response.content, SSE_TEXT);
}
