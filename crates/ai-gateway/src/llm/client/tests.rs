use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use ainative_domain::{Agent, HelpLevel, Intent, SimulatorType};
use ainative_ports::{ChatRole, LlmStream, PortError, PortResult};

use super::*;
use crate::llm::ResilienceConfig;

fn message(role: ChatRole, content: &str) -> ChatMessage {
    ChatMessage {
        role,
        content: content.to_owned(),
    }
}

fn request() -> LlmRequest {
    LlmRequest {
        messages: vec![
            message(ChatRole::System, "You are a tutor."),
            message(ChatRole::User, "What is a vector?"),
            message(ChatRole::Assistant, "What do you know already?"),
            message(ChatRole::User, "It grows."),
        ],
        temperature: 0.3,
        max_tokens: 400,
        guidance: Guidance {
            agent: Agent::Tutor,
            intent: Intent::ConceptualQuestion,
            help_level: HelpLevel::Low,
            simulator_type: None,
            activity_title: "Vectors".to_owned(),
            subject: "Rust".to_owned(),
            allow_code_snippets: false,
        },
    }
}

fn key(request: &LlmRequest) -> String {
    cache_key("openai", "m", request).expect("key")
}

#[test]
fn the_key_is_a_stable_hex_sha256() {
    let k = key(&request());
    assert_eq!(k.len(), 64);
    assert!(k.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(k, key(&request().clone()));
}

#[test]
fn the_key_changes_with_every_message_history_included() {
    let base = key(&request());
    for i in 0..request().messages.len() {
        let mut changed = request();
        changed.messages[i].content.push('!');
        assert_ne!(key(&changed), base, "content of message {i}");
        let mut changed = request();
        changed.messages[i].role = match changed.messages[i].role {
            ChatRole::User => ChatRole::Assistant,
            _ => ChatRole::User,
        };
        assert_ne!(key(&changed), base, "role of message {i}");
    }
    let mut dropped = request();
    dropped.messages.remove(1);
    assert_ne!(key(&dropped), base, "history removed");
    let mut swapped = request();
    swapped.messages.swap(1, 3);
    assert_ne!(key(&swapped), base, "order of messages");
}

#[test]
fn the_key_changes_with_parameters_guidance_provider_and_model() {
    let base = key(&request());
    let mut r = request();
    r.temperature = 0.4;
    assert_ne!(key(&r), base);
    let mut r = request();
    r.max_tokens = 401;
    assert_ne!(key(&r), base);
    let mut r = request();
    r.guidance.help_level = HelpLevel::High;
    assert_ne!(key(&r), base);
    let mut r = request();
    r.guidance.agent = Agent::Simulator;
    r.guidance.simulator_type = Some(SimulatorType::Client);
    assert_ne!(key(&r), base);
    let mut r = request();
    r.guidance.allow_code_snippets = true;
    assert_ne!(key(&r), base);
    assert_ne!(cache_key("offline", "m", &request()), Some(base.clone()));
    assert_ne!(cache_key("openai", "m2", &request()), Some(base));
}

#[test]
fn message_boundaries_are_part_of_the_key() {
    let mut a = request();
    a.messages = vec![message(ChatRole::User, "ab"), message(ChatRole::User, "c")];
    let mut b = request();
    b.messages = vec![message(ChatRole::User, "a"), message(ChatRole::User, "bc")];
    assert_ne!(key(&a), key(&b));
}

/// A provider that answers after a delay (or fails) and counts its calls.
struct SlowProvider {
    calls: AtomicUsize,
    fail: bool,
}

#[async_trait]
impl LlmProvider for SlowProvider {
    fn name(&self) -> &str {
        "slow"
    }
    fn model(&self) -> &str {
        "slow-1"
    }
    async fn complete(&self, request: &LlmRequest) -> Result<LlmResponse, LlmError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(50)).await;
        if self.fail {
            return Err(crate::llm::permanent_error("HTTP 400: nope"));
        }
        Ok(LlmResponse {
            content: format!("answer #{n} to {}", request.messages.len()),
            model: "slow-1".to_owned(),
            tokens_in: 1,
            tokens_out: 2,
        })
    }
    async fn stream(&self, request: &LlmRequest) -> Result<LlmStream, LlmError> {
        let response = self.complete(request).await?;
        Ok(stream::iter(vec![
            Ok(StreamEvent::Delta(response.content.clone())),
            Ok(StreamEvent::Done(response)),
        ])
        .boxed())
    }
}

#[derive(Default)]
struct MapCache(parking_lot::Mutex<HashMap<String, String>>);

#[async_trait]
impl ResponseCache for MapCache {
    async fn get(&self, key: &str) -> PortResult<Option<String>> {
        Ok(self.0.lock().get(key).cloned())
    }
    async fn put(&self, key: &str, value: &str, _ttl: Duration) -> PortResult<()> {
        self.0.lock().insert(key.to_owned(), value.to_owned());
        Ok(())
    }
}

struct DownCache;

#[async_trait]
impl ResponseCache for DownCache {
    async fn get(&self, _key: &str) -> PortResult<Option<String>> {
        Err(PortError::Unavailable("redis down".into()))
    }
    async fn put(&self, _key: &str, _value: &str, _ttl: Duration) -> PortResult<()> {
        Err(PortError::Unavailable("redis down".into()))
    }
}

fn client(fail: bool, cache: Arc<dyn ResponseCache>) -> (Arc<LlmClient>, Arc<SlowProvider>) {
    let provider = Arc::new(SlowProvider {
        calls: AtomicUsize::new(0),
        fail,
    });
    let resilient = ResilientProvider::new(
        provider.clone(),
        ResilienceConfig {
            max_retries: 0,
            ..ResilienceConfig::default()
        },
    );
    (
        Arc::new(LlmClient::new(
            Arc::new(resilient),
            cache,
            Duration::from_secs(60),
        )),
        provider,
    )
}

#[tokio::test]
async fn identical_calls_share_one_flight_then_hit_the_cache() {
    let (client, provider) = client(false, Arc::new(MapCache::default()));
    let calls = (0..20).map(|_| {
        let client = Arc::clone(&client);
        tokio::spawn(async move { client.complete(&request()).await })
    });
    let results = futures::future::join_all(calls).await;
    for result in &results {
        let completed = result.as_ref().expect("task").as_ref().expect("answer");
        assert_eq!(completed.response.content, "answer #0 to 4");
        assert!(!completed.cache_hit);
    }
    assert_eq!(provider.calls.load(Ordering::SeqCst), 1);
    assert_eq!(client.in_flight(), 0);
    let hit = client.complete(&request()).await.expect("hit");
    assert!(hit.cache_hit);
    assert_eq!(hit.response.content, "answer #0 to 4");
    let stats = client.stats();
    assert_eq!(stats.calls, 21);
    assert_eq!(stats.cache_hits, 1);
    assert_eq!(stats.cache_misses, 20);
    assert_eq!(stats.coalesced_waiters, 19);
    assert_eq!(stats.provider_attempts, 1);
    assert_eq!((stats.tokens_in, stats.tokens_out), (1, 2));
}

#[tokio::test]
async fn waiters_share_the_same_error_and_errors_are_not_cached() {
    let (client, provider) = client(true, Arc::new(MapCache::default()));
    let calls = (0..10).map(|_| {
        let client = Arc::clone(&client);
        tokio::spawn(async move { client.complete(&request()).await })
    });
    for result in futures::future::join_all(calls).await {
        let error = result.expect("task").expect_err("fails");
        assert_eq!(error, crate::llm::permanent_error("HTTP 400: nope"));
    }
    assert_eq!(provider.calls.load(Ordering::SeqCst), 1);
    assert_eq!(client.in_flight(), 0);
    assert!(client.complete(&request()).await.is_err());
    assert_eq!(
        provider.calls.load(Ordering::SeqCst),
        2,
        "the error was not cached"
    );
    assert_eq!(client.stats().failures_upstream, 11);
}

#[tokio::test]
async fn a_caller_going_away_does_not_cancel_the_flight() {
    let cache = Arc::new(MapCache::default());
    let (client, provider) = client(false, cache.clone());
    let abandoned = {
        let client = Arc::clone(&client);
        tokio::spawn(async move { client.complete(&request()).await })
    };
    tokio::time::sleep(Duration::from_millis(10)).await;
    abandoned.abort();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(client.in_flight(), 0);
    assert!(client.complete(&request()).await.expect("hit").cache_hit);
    assert_eq!(provider.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_down_cache_never_fails_the_call() {
    let (client, provider) = client(false, Arc::new(DownCache));
    let first = client.complete(&request()).await.expect("answer");
    assert!(!first.cache_hit);
    let streamed = client.stream(&request()).await.expect("stream");
    let events: Vec<_> = streamed.events.collect().await;
    assert!(matches!(events.last(), Some(Ok(StreamEvent::Done(_)))));
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(provider.calls.load(Ordering::SeqCst), 2);
    assert!(client.stats().cache_errors >= 3);
}

#[tokio::test]
async fn a_streamed_answer_is_cached_and_replayed() {
    let (client, provider) = client(false, Arc::new(MapCache::default()));
    let miss = client.stream(&request()).await.expect("stream");
    assert!(!miss.cache_hit);
    let first: Vec<_> = miss.events.collect().await;
    tokio::time::sleep(Duration::from_millis(20)).await; // the cache write is spawned
    let hit = client.stream(&request()).await.expect("stream");
    assert!(hit.cache_hit);
    let replayed: Vec<_> = hit.events.collect().await;
    assert_eq!(first, replayed);
    assert!(client.complete(&request()).await.expect("hit").cache_hit);
    assert_eq!(provider.calls.load(Ordering::SeqCst), 1);
}
