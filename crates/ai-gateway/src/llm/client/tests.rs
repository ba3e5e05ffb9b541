use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use ainative_domain::{Agent, HelpLevel, Intent, SimulatorType};
use ainative_ports::{ChatRole, LlmStream, PortError, PortResult, UpstreamKind};

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
            grounding: Vec::new(),
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
fn the_retrieved_chunk_ids_are_part_of_the_key() {
    // An ungrounded request keeps the key material of before grounding existed.
    let json = serde_json::to_string(&request().guidance).expect("json");
    assert!(!json.contains("grounding"), "{json}");
    let passage = |chunk: u128| ainative_ports::GroundingPassage {
        material_id: uuid::Uuid::from_u128(7),
        chunk_id: uuid::Uuid::from_u128(chunk),
        section: None,
        text: "same text".to_owned(),
    };
    let grounded = |chunks: &[u128]| {
        let mut r = request();
        r.guidance.grounding = chunks.iter().map(|c| passage(*c)).collect();
        key(&r)
    };
    assert_ne!(grounded(&[1]), key(&request()));
    assert_ne!(grounded(&[1]), grounded(&[2]), "same text, another chunk");
    assert_ne!(grounded(&[1, 2]), grounded(&[2, 1]), "order matters");
    assert_eq!(grounded(&[1, 2]), grounded(&[1, 2]));
}

#[test]
fn message_boundaries_are_part_of_the_key() {
    let mut a = request();
    a.messages = vec![message(ChatRole::User, "ab"), message(ChatRole::User, "c")];
    let mut b = request();
    b.messages = vec![message(ChatRole::User, "a"), message(ChatRole::User, "bc")];
    assert_ne!(key(&a), key(&b));
}

/// A provider that answers after a delay (or fails) and counts its calls. Tests run on
/// tokio's paused clock, so the delay costs no real time and every concurrent caller has
/// arrived before it ends.
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
            return Err(rejected());
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

fn rejected() -> LlmError {
    LlmError::upstream(UpstreamKind::Status(400), "nope")
}

/// Waits (on the paused clock) until `condition` holds; fails after a virtual minute.
async fn until(what: &str, condition: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !condition() {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(1)).await;
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

#[tokio::test(start_paused = true)]
async fn identical_calls_share_one_flight_whose_usage_counts_once() {
    let (client, provider) = client(false, Arc::new(MapCache::default()));
    let calls = (0..20).map(|_| {
        let client = Arc::clone(&client);
        tokio::spawn(async move { client.complete(&request()).await })
    });
    let results = futures::future::join_all(calls).await;
    let mut sources = Vec::new();
    for result in &results {
        let completed = result.as_ref().expect("task").as_ref().expect("answer");
        assert_eq!(completed.response.content, "answer #0 to 4");
        sources.push(completed.source);
    }
    let count = |source| sources.iter().filter(|s| **s == source).count();
    assert_eq!(count(AnswerSource::Provider), 1, "{sources:?}");
    assert_eq!(count(AnswerSource::Coalesced), 19, "{sources:?}");
    assert_eq!(provider.calls.load(Ordering::SeqCst), 1);
    assert_eq!(client.in_flight(), 0);
    let hit = client.complete(&request()).await.expect("hit");
    assert_eq!(hit.source, AnswerSource::Cache);
    assert_eq!(hit.response.content, "answer #0 to 4");
    let stats = client.stats();
    assert_eq!(stats.calls, 21);
    assert_eq!(stats.cache_hits, 1);
    assert_eq!(stats.cache_misses, 1, "only the caller that flew");
    assert_eq!(stats.coalesced_waiters, 19);
    assert_eq!(stats.provider_attempts, 1);
    assert_eq!(
        (stats.tokens_in, stats.tokens_out),
        (1, 2),
        "usage counted once"
    );
}

#[tokio::test(start_paused = true)]
async fn waiters_share_the_same_error_and_errors_are_not_cached() {
    let (client, provider) = client(true, Arc::new(MapCache::default()));
    let calls = (0..10).map(|_| {
        let client = Arc::clone(&client);
        tokio::spawn(async move { client.complete(&request()).await })
    });
    for result in futures::future::join_all(calls).await {
        let error = result.expect("task").expect_err("fails");
        assert_eq!(error, rejected());
    }
    assert_eq!(provider.calls.load(Ordering::SeqCst), 1);
    assert_eq!(client.in_flight(), 0);
    assert!(client.complete(&request()).await.is_err());
    assert_eq!(
        provider.calls.load(Ordering::SeqCst),
        2,
        "the error was not cached"
    );
    let stats = client.stats();
    assert_eq!(stats.failures_upstream, 11);
    assert_eq!((stats.cache_misses, stats.coalesced_waiters), (2, 9));
}

#[tokio::test(start_paused = true)]
async fn a_caller_going_away_does_not_cancel_the_flight() {
    let cache = Arc::new(MapCache::default());
    let (client, provider) = client(false, cache.clone());
    let abandoned = {
        let client = Arc::clone(&client);
        tokio::spawn(async move { client.complete(&request()).await })
    };
    until("the flight took off", || client.in_flight() == 1).await;
    abandoned.abort();
    until("the flight landed", || client.in_flight() == 0).await;
    assert_eq!(cache.0.lock().len(), 1, "the answer reached the cache");
    let hit = client.complete(&request()).await.expect("hit");
    assert_eq!(hit.source, AnswerSource::Cache);
    assert_eq!(provider.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn a_down_cache_never_fails_the_call() {
    let (client, provider) = client(false, Arc::new(DownCache));
    let first = client.complete(&request()).await.expect("answer");
    assert_eq!(first.source, AnswerSource::Provider);
    let streamed = client.stream(&request()).await.expect("stream");
    let events: Vec<_> = streamed.events.collect().await;
    assert!(matches!(events.last(), Some(Ok(StreamEvent::Done(_)))));
    // Reads: the call's, its flight's claim, the stream's; writes: the flight's, and the
    // stream's in a spawned task.
    until("the streamed answer's cache write failed", || {
        client.stats().cache_errors == 5
    })
    .await;
    assert_eq!(provider.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn a_streamed_answer_is_cached_and_replayed() {
    let cache = Arc::new(MapCache::default());
    let (client, provider) = client(false, cache.clone());
    let miss = client.stream(&request()).await.expect("stream");
    assert_eq!(miss.source, AnswerSource::Provider);
    let first: Vec<_> = miss.events.collect().await;
    until("the spawned cache write", || cache.0.lock().len() == 1).await;
    let hit = client.stream(&request()).await.expect("stream");
    assert_eq!(hit.source, AnswerSource::Cache);
    let replayed: Vec<_> = hit.events.collect().await;
    assert_eq!(first, replayed);
    let again = client.complete(&request()).await.expect("hit");
    assert_eq!(again.source, AnswerSource::Cache);
    assert_eq!(provider.calls.load(Ordering::SeqCst), 1);
}

/// Claims in process memory with the lease semantics of the Redis store, on tokio's clock,
/// over a shared cache that answers claims and takes landed answers.
struct MapLock {
    claims: parking_lot::Mutex<HashMap<String, (String, tokio::time::Instant)>>,
    cache: Arc<MapCache>,
}

impl MapLock {
    fn over(cache: &Arc<MapCache>) -> Arc<Self> {
        Arc::new(Self {
            claims: parking_lot::Mutex::default(),
            cache: Arc::clone(cache),
        })
    }
}

#[async_trait]
impl FlightLock for MapLock {
    async fn claim(&self, key: &str, holder: &str, lease: Duration) -> PortResult<Claim> {
        if let Some(answer) = self.cache.0.lock().get(key) {
            return Ok(Claim::Answered(answer.clone()));
        }
        let now = tokio::time::Instant::now();
        let mut claims = self.claims.lock();
        if claims.get(key).is_some_and(|(_, until)| *until > now) {
            return Ok(Claim::Taken);
        }
        claims.insert(key.to_owned(), (holder.to_owned(), now + lease));
        Ok(Claim::Held)
    }
    async fn land(
        &self,
        key: &str,
        holder: &str,
        answer: Option<String>,
        _ttl: Duration,
    ) -> PortResult<()> {
        if let Some(answer) = answer {
            self.cache.0.lock().insert(key.to_owned(), answer);
        }
        let mut claims = self.claims.lock();
        if claims.get(key).is_some_and(|(h, _)| h == holder) {
            claims.remove(key);
        }
        Ok(())
    }
}

/// An instance: its own client (own flight map) on the shared provider, cache and claims.
fn instance(
    provider: &Arc<SlowProvider>,
    cache: &Arc<MapCache>,
    lock: Arc<dyn FlightLock>,
) -> Arc<LlmClient> {
    let resilient = ResilientProvider::new(
        provider.clone(),
        ResilienceConfig {
            timeout: Duration::from_secs(1),
            max_retries: 0,
            ..ResilienceConfig::default()
        },
    );
    let lease = resilient.longest_call();
    Arc::new(LlmClient::shared(
        Arc::new(resilient),
        cache.clone(),
        Duration::from_secs(60),
        lock,
        lease,
    ))
}

#[tokio::test(start_paused = true)]
async fn identical_calls_on_two_instances_make_one_provider_call() {
    let provider = Arc::new(SlowProvider {
        calls: AtomicUsize::new(0),
        fail: false,
    });
    let cache = Arc::new(MapCache::default());
    let lock = MapLock::over(&cache);
    let (a, b) = (
        instance(&provider, &cache, lock.clone()),
        instance(&provider, &cache, lock.clone()),
    );
    let calls = (0..10).map(|i| {
        let client = Arc::clone(if i % 2 == 0 { &a } else { &b });
        tokio::spawn(async move { client.complete(&request()).await })
    });
    let results = futures::future::join_all(calls).await;
    let mut sources = Vec::new();
    for result in &results {
        let completed = result.as_ref().expect("task").as_ref().expect("answer");
        assert_eq!(completed.response.content, "answer #0 to 4");
        sources.push(completed.source);
    }
    assert_eq!(provider.calls.load(Ordering::SeqCst), 1, "{sources:?}");
    let count = |source| sources.iter().filter(|s| **s == source).count();
    assert_eq!(count(AnswerSource::Provider), 1, "{sources:?}");
    assert_eq!(count(AnswerSource::Coalesced), 9, "{sources:?}");
    assert!(
        lock.claims.lock().is_empty(),
        "the holder released its claim"
    );
    let (sa, sb) = (a.stats(), b.stats());
    assert_eq!(sa.provider_attempts + sb.provider_attempts, 1);
    assert_eq!(sa.coalesced_waiters + sb.coalesced_waiters, 9);
}

#[tokio::test(start_paused = true)]
async fn a_holder_that_died_delays_the_others_by_one_lease_at_most() {
    let provider = Arc::new(SlowProvider {
        calls: AtomicUsize::new(0),
        fail: false,
    });
    let cache = Arc::new(MapCache::default());
    let lock = MapLock::over(&cache);
    let client = instance(&provider, &cache, lock.clone());
    let lease = Duration::from_secs(1);
    assert_eq!(
        lock.claim(&client.key_of(&request()).expect("key"), "ghost", lease)
            .await,
        Ok(Claim::Held)
    );

    let started = tokio::time::Instant::now();
    let answer = client.complete(&request()).await.expect("answer");
    assert_eq!(answer.source, AnswerSource::Provider);
    assert_eq!(provider.calls.load(Ordering::SeqCst), 1);
    let waited = started.elapsed();
    assert!(waited >= lease, "the live claim was respected: {waited:?}");
    assert!(waited < lease * 2, "no longer than the lease: {waited:?}");
}

#[tokio::test(start_paused = true)]
async fn a_waiter_takes_over_when_the_holder_fails_without_an_answer() {
    let failing = Arc::new(SlowProvider {
        calls: AtomicUsize::new(0),
        fail: true,
    });
    let healthy = Arc::new(SlowProvider {
        calls: AtomicUsize::new(0),
        fail: false,
    });
    let cache = Arc::new(MapCache::default());
    let lock = MapLock::over(&cache);
    let (a, b) = (
        instance(&failing, &cache, lock.clone()),
        instance(&healthy, &cache, lock.clone()),
    );
    let first = tokio::spawn({
        let a = Arc::clone(&a);
        async move { a.complete(&request()).await }
    });
    until("a holds the claim", || !lock.claims.lock().is_empty()).await;
    let second = b.complete(&request()).await.expect("b answers");
    assert!(first.await.expect("task").is_err(), "a's provider failed");
    assert_eq!(second.source, AnswerSource::Provider);
    assert_eq!(healthy.calls.load(Ordering::SeqCst), 1);
}

/// A shared claim that is down (Redis unreachable).
struct DownLock;

#[async_trait]
impl FlightLock for DownLock {
    async fn claim(&self, _key: &str, _holder: &str, _lease: Duration) -> PortResult<Claim> {
        Err(PortError::Unavailable("redis down".into()))
    }
    async fn land(
        &self,
        _key: &str,
        _holder: &str,
        _answer: Option<String>,
        _ttl: Duration,
    ) -> PortResult<()> {
        Err(PortError::Unavailable("redis down".into()))
    }
}

#[tokio::test(start_paused = true)]
async fn with_the_claim_down_a_cached_answer_is_still_a_hit() {
    let provider = Arc::new(SlowProvider {
        calls: AtomicUsize::new(0),
        fail: false,
    });
    let cache = Arc::new(MapCache::default());
    let client = instance(&provider, &cache, Arc::new(DownLock));
    let first = client.complete(&request()).await.expect("first");
    assert_eq!(first.source, AnswerSource::Provider);
    let second = client.complete(&request()).await.expect("second");
    assert_eq!(second.source, AnswerSource::Cache);
    assert_eq!(second.response, first.response);
    assert_eq!(provider.calls.load(Ordering::SeqCst), 1);
    let stats = client.stats();
    assert_eq!((stats.cache_hits, stats.cache_misses), (1, 1));
}

#[tokio::test(start_paused = true)]
async fn identical_calls_answered_by_the_cache_are_all_cache_hits() {
    let (client, provider) = client(false, Arc::new(MapCache::default()));
    let first = client.complete(&request()).await.expect("first");
    let calls = (0..10).map(|_| {
        let client = Arc::clone(&client);
        tokio::spawn(async move { client.complete(&request()).await })
    });
    for result in futures::future::join_all(calls).await {
        let completed = result.expect("task").expect("answer");
        assert_eq!(completed.source, AnswerSource::Cache);
        assert_eq!(completed.response, first.response);
    }
    assert_eq!(provider.calls.load(Ordering::SeqCst), 1);
    let stats = client.stats();
    assert_eq!(
        (
            stats.cache_hits,
            stats.cache_misses,
            stats.coalesced_waiters
        ),
        (10, 1, 0)
    );
}
