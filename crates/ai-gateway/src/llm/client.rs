//! [`LlmClient`]: the [`LanguageModel`] the gateway uses — the resilient provider behind the
//! response cache, with request coalescing.
//!
//! - Cache key: [`cache_key`], the hex SHA-256 of a canonical JSON of the provider, the model,
//!   the whole message list (history included), the parameters and the guidance; answers are
//!   shared only where the conversation is truly identical.
//! - Coalescing: the first caller starts a *flight* (a spawned task that looks at the cache
//!   as it claims the key, and on a miss calls the provider once and stores the answer);
//!   identical calls arriving meanwhile await the same flight and get the same answer or the
//!   same error (an answer the flight found in the cache is a cache hit for them too). Only the first caller's answer has
//!   [`AnswerSource::Provider`]; the others are [`AnswerSource::Coalesced`], so the provider's
//!   usage is accounted once. The flight is keyed in a map and
//!   removed when it ends. Because the flight is a task of its own, a caller that goes away
//!   does not cancel it: the answer still reaches the cache and the other waiters.
//! - Across instances: a flight first claims its key in the shared [`FlightLock`] (Redis).
//!   The holder calls the provider and fills the cache; a flight that finds the key claimed
//!   by another instance polls the cache for the answer (its callers count as coalesced),
//!   claims the key itself if the holder gives up without an answer, and calls the provider
//!   anyway once the holder's lease (the longest a provider call can take) has passed. The
//!   wait is bounded, so a dead holder delays identical calls by at most one lease.
//! - The cache is best effort: a failed read is a miss, a failed write is logged; a request
//!   never fails because the cache is down.
//! - Streams are not coalesced: every streaming caller wants its own live deltas, and fanning
//!   one upstream stream out to late joiners would need buffering and replay, and would tie
//!   all viewers to the slowest one (and cancelling one viewer must not cancel the others).
//!   Identical concurrent streams are rare; the final answer of a stream is cached, so later
//!   identical requests (streamed or not) are hits.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use ainative_ports::{
    ChatMessage, Claim, FlightLock, Guidance, LlmError, LlmProvider, LlmRequest, LlmResponse,
    ResponseCache, StreamEvent, UpstreamKind,
};
use async_trait::async_trait;
use futures::future::{BoxFuture, FutureExt, Shared};
use futures::stream::{self, StreamExt};
use parking_lot::Mutex;
use sha2::{Digest, Sha256};
use tracing::Instrument;
use uuid::Uuid;

use super::{
    AnswerSource, CircuitState, Completed, CompletionStream, LanguageModel, LlmStats,
    LlmStatsSnapshot, ResilientProvider,
};

/// The first pause between two looks at the cache while another instance's flight is out;
/// it doubles up to [`MAX_POLL`].
const FIRST_POLL: Duration = Duration::from_millis(5);
/// The longest pause between two looks at the cache.
const MAX_POLL: Duration = Duration::from_millis(100);

/// Version of the key material; bump it when the format of cached values changes.
const KEY_VERSION: u32 = 1;

/// The answer of one flight: from the provider, or from the cache (filled by an identical
/// flight that landed just before this one took off).
type FlightResult = Result<(LlmResponse, AnswerSource), LlmError>;
type Flight = Shared<BoxFuture<'static, FlightResult>>;
type Flights = Arc<Mutex<HashMap<String, Flight>>>;

#[derive(serde::Serialize)]
struct KeyMaterial<'a> {
    v: u32,
    provider: &'a str,
    model: &'a str,
    messages: &'a [ChatMessage],
    temperature: f32,
    max_tokens: u32,
    guidance: &'a Guidance,
}

/// The response-cache key of `request` answered by `provider`/`model`: the hex SHA-256 of a
/// canonical JSON (fixed field order, compact) of the provider, the model, the whole message
/// list, the temperature, the token budget and the guidance.
///
/// `None` only if the request cannot be serialised, which well-formed requests never hit;
/// such a request bypasses the cache and coalescing.
pub fn cache_key(provider: &str, model: &str, request: &LlmRequest) -> Option<String> {
    let material = KeyMaterial {
        v: KEY_VERSION,
        provider,
        model,
        messages: &request.messages,
        temperature: request.temperature,
        max_tokens: request.max_tokens,
        guidance: &request.guidance,
    };
    let json = serde_json::to_vec(&material).ok()?;
    Some(hex::encode(Sha256::digest(&json)))
}

/// The gateway's [`LanguageModel`]: a [`ResilientProvider`] behind the response cache and
/// request coalescing (see the module documentation).
pub struct LlmClient {
    provider: Arc<ResilientProvider>,
    cache: Arc<dyn ResponseCache>,
    ttl: Duration,
    flights: Flights,
    shared: SharedFlights,
    stats: Arc<LlmStats>,
    /// Prefix of every cache key: a user's own credential answers never share entries with
    /// the platform's or another credential's.
    namespace: Option<String>,
}

/// The cross-instance side of coalescing: the claim store and how long a claim lasts.
#[derive(Clone)]
struct SharedFlights {
    lock: Arc<dyn FlightLock>,
    lease: Duration,
}

impl std::fmt::Debug for LlmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmClient")
            .field("provider", &self.provider)
            .field("ttl", &self.ttl)
            .field("in_flight", &self.flights.lock().len())
            .finish_non_exhaustive()
    }
}

impl LlmClient {
    /// A client of `provider` that caches answers in `cache` for `ttl`, coalescing identical
    /// calls within this process only. Counters are shared with the provider's
    /// ([`ResilientProvider::stats`]).
    pub fn new(
        provider: Arc<ResilientProvider>,
        cache: Arc<dyn ResponseCache>,
        ttl: Duration,
    ) -> Self {
        let lease = provider.longest_call();
        let lock = Arc::new(ainative_ports::LocalFlightLock::new(Arc::clone(&cache)));
        Self::shared(provider, cache, ttl, lock, lease)
    }

    /// Like [`LlmClient::new`], coalescing identical calls across every instance that shares
    /// `lock` and `cache` (`lock` lands answers where `cache` reads them). `lease` bounds a claim: the longest one provider call (retries
    /// included) may take.
    pub fn shared(
        provider: Arc<ResilientProvider>,
        cache: Arc<dyn ResponseCache>,
        ttl: Duration,
        lock: Arc<dyn FlightLock>,
        lease: Duration,
    ) -> Self {
        let stats = Arc::clone(provider.stats());
        Self {
            provider,
            cache,
            ttl,
            flights: Arc::new(Mutex::new(HashMap::new())),
            shared: SharedFlights { lock, lease },
            stats,
            namespace: None,
        }
    }

    /// The same client with its cache keys (and coalescing flights) under `namespace`.
    pub fn with_namespace(mut self, namespace: String) -> Self {
        self.namespace = Some(namespace);
        self
    }

    /// A snapshot of the counters (calls, cache, coalescing, failures, tokens).
    pub fn stats(&self) -> LlmStatsSnapshot {
        self.stats.snapshot()
    }

    /// The state of the provider's circuit breaker (for health reports).
    pub fn circuit_state(&self) -> CircuitState {
        self.provider.circuit_state()
    }

    /// Identical calls currently waiting on the provider (for tests and diagnostics).
    pub fn in_flight(&self) -> usize {
        self.flights.lock().len()
    }

    /// The cache key of `request` for this client's provider and model.
    pub fn key_of(&self, request: &LlmRequest) -> Option<String> {
        let key = cache_key(self.provider.name(), self.provider.model(), request)?;
        Some(match &self.namespace {
            Some(namespace) => format!("{namespace}:{key}"),
            None => key,
        })
    }

    /// The flight for `key`, joined if one is in the air, started otherwise; `true` if joined.
    fn flight(&self, key: &str, request: &LlmRequest) -> (Flight, bool) {
        let mut flights = self.flights.lock();
        if let Some(flight) = flights.get(key) {
            return (flight.clone(), true);
        }
        let task = FlightTask {
            key: key.to_owned(),
            request: request.clone(),
            provider: Arc::clone(&self.provider),
            cache: Arc::clone(&self.cache),
            ttl: self.ttl,
            stats: Arc::clone(&self.stats),
            flights: Arc::clone(&self.flights),
            shared: self.shared.clone(),
        };
        // Spawned while the map is locked: the task removes its entry when it ends, which
        // must happen after the entry is inserted below.
        // The flight runs in the caller's span, so the provider call joins its trace.
        let handle = tokio::spawn(task.run().in_current_span());
        let flight = async move {
            handle.await.unwrap_or_else(|e| {
                Err(LlmError::upstream_from(
                    UpstreamKind::Interrupted,
                    "language model task failed",
                    e,
                ))
            })
        }
        .boxed()
        .shared();
        flights.insert(key.to_owned(), flight.clone());
        (flight, false)
    }

    /// Counts the outcome of a call that started (not joined) a flight.
    fn count(&self, result: &FlightResult) {
        match result {
            Ok((_, AnswerSource::Cache)) => self.stats.cache_hit(),
            Ok((_, AnswerSource::Coalesced)) => self.stats.coalesced(),
            Ok(_) => self.stats.cache_miss(),
            Err(error) => {
                self.stats.cache_miss();
                self.stats.failure(error);
            }
        }
    }
}

/// One provider call for a key, run as a task of its own.
struct FlightTask {
    key: String,
    request: LlmRequest,
    provider: Arc<ResilientProvider>,
    cache: Arc<dyn ResponseCache>,
    ttl: Duration,
    stats: Arc<LlmStats>,
    flights: Flights,
    shared: SharedFlights,
}

/// Removes a flight from the map when its task ends, however it ends.
struct Landing {
    key: String,
    flights: Flights,
}

impl Drop for Landing {
    fn drop(&mut self) {
        self.flights.lock().remove(&self.key);
    }
}

impl FlightTask {
    async fn run(self) -> FlightResult {
        let _landing = Landing {
            key: self.key.clone(),
            flights: Arc::clone(&self.flights),
        };
        let holder = Uuid::new_v4().to_string();
        match self.await_claim(&holder).await {
            Claimed::Answered(response, source) => Ok((response, source)),
            Claimed::Held => {
                let result = self.provider.complete(&self.request).await;
                let answer = result
                    .as_ref()
                    .ok()
                    .and_then(|r| serde_json::to_string(r).ok());
                let landed = self
                    .shared
                    .lock
                    .land(&self.key, &holder, answer, self.ttl)
                    .await;
                if let Err(error) = landed {
                    self.stats.cache_error();
                    tracing::warn!(
                        %error,
                        "response cache write failed; the answer is not cached and the claim \
                         expires by itself"
                    );
                }
                result.map(|response| (response, AnswerSource::Provider))
            }
            Claimed::Unclaimed => {
                // The claim failed (a shared cache down: its in-process stand-in may still
                // hold the answer), or found no usable answer in time.
                if let Some(response) = read(&*self.cache, &self.key, &self.stats).await {
                    return Ok((response, AnswerSource::Cache));
                }
                let response = self.provider.complete(&self.request).await?;
                write(&*self.cache, &self.key, &response, self.ttl, &self.stats).await;
                Ok((response, AnswerSource::Provider))
            }
        }
    }

    /// Claims the key (one look at the cache and the claim), or waits for the instance
    /// holding it to store the answer.
    async fn await_claim(&self, holder: &str) -> Claimed {
        let SharedFlights { lock, lease } = &self.shared;
        let deadline = tokio::time::Instant::now() + *lease;
        let mut pause = FIRST_POLL;
        let mut source = AnswerSource::Cache;
        loop {
            match lock.claim(&self.key, holder, *lease).await {
                Ok(Claim::Held) => return Claimed::Held,
                Ok(Claim::Answered(value)) => {
                    return match parse(&value, &self.stats) {
                        Some(response) => Claimed::Answered(response, source),
                        // Unreadable: called again, and overwritten.
                        None => Claimed::Unclaimed,
                    };
                }
                Ok(Claim::Taken) => {}
                Err(error) => {
                    // Without the shared claim, this instance answers for itself.
                    self.stats.cache_error();
                    tracing::warn!(%error, "flight claim unavailable; answering without it");
                    return Claimed::Unclaimed;
                }
            }
            if tokio::time::Instant::now() >= deadline {
                tracing::warn!(
                    "another instance's flight outlived its lease; calling the provider"
                );
                return Claimed::Unclaimed;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(MAX_POLL);
            source = AnswerSource::Coalesced;
        }
    }
}

/// What a flight found about the shared claim on its key.
enum Claimed {
    /// This flight holds it: it calls the provider and lands the answer.
    Held,
    /// The cache holds the answer: stored before the claim (`Cache`) or by the holder this
    /// flight waited for (`Coalesced`).
    Answered(LlmResponse, AnswerSource),
    /// No claim (unavailable, unreadable answer, or not in time): call the provider
    /// unclaimed.
    Unclaimed,
}

/// A cached answer; an unreadable one is counted, logged and read as a miss.
fn parse(value: &str, stats: &LlmStats) -> Option<LlmResponse> {
    match serde_json::from_str(value) {
        Ok(response) => Some(response),
        Err(error) => {
            stats.cache_error();
            tracing::warn!(%error, "unreadable response cache entry; calling the provider");
            None
        }
    }
}

/// The cached answer of `key`; any cache failure is logged and read as a miss.
async fn read(cache: &dyn ResponseCache, key: &str, stats: &LlmStats) -> Option<LlmResponse> {
    match cache.get(key).await {
        Ok(Some(value)) => parse(&value, stats),
        Ok(None) => None,
        Err(error) => {
            stats.cache_error();
            tracing::warn!(%error, "response cache read failed; calling the provider");
            None
        }
    }
}

/// Stores `response` under `key`; a failure is logged and ignored.
async fn write(
    cache: &dyn ResponseCache,
    key: &str,
    response: &LlmResponse,
    ttl: Duration,
    stats: &LlmStats,
) {
    let stored = match serde_json::to_string(response) {
        Ok(value) => cache.put(key, &value, ttl).await.map_err(|e| e.to_string()),
        Err(error) => Err(error.to_string()),
    };
    if let Err(error) = stored {
        stats.cache_error();
        tracing::warn!(%error, "response cache write failed; the answer is not cached");
    }
}

/// A cached answer as a stream: the whole text as one delta, then `Done`.
fn replay(response: LlmResponse) -> ainative_ports::LlmStream {
    let mut events = Vec::with_capacity(2);
    if !response.content.is_empty() {
        events.push(Ok(StreamEvent::Delta(response.content.clone())));
    }
    events.push(Ok(StreamEvent::Done(response)));
    stream::iter(events).boxed()
}

#[async_trait]
impl LanguageModel for LlmClient {
    fn provider(&self) -> &str {
        self.provider.name()
    }

    fn model(&self) -> &str {
        self.provider.model()
    }

    #[tracing::instrument(name = "llm.client.complete", skip_all, fields(provider = self.provider.name(), model = self.provider.model()))]
    async fn complete(&self, request: &LlmRequest) -> Result<Completed, LlmError> {
        self.stats.call();
        let Some(key) = self.key_of(request) else {
            let result = self
                .provider
                .complete(request)
                .await
                .map(|r| (r, AnswerSource::Provider));
            self.count(&result);
            return result.map(|(response, source)| Completed { response, source });
        };
        // No read of the cache first: the flight's claim looks at it (one round trip to a
        // shared cache for a hit or a miss, instead of two for a miss).
        let (flight, joined) = self.flight(&key, request);
        let result = flight.await;
        if joined {
            // A waiter shares the flight's answer (or error): the provider call was not its.
            match &result {
                Ok((_, AnswerSource::Cache)) => self.stats.cache_hit(),
                Ok(_) => self.stats.coalesced(),
                Err(error) => {
                    self.stats.coalesced();
                    self.stats.failure(error);
                }
            }
            return result.map(|(response, source)| Completed {
                response,
                source: match source {
                    AnswerSource::Cache => AnswerSource::Cache,
                    _ => AnswerSource::Coalesced,
                },
            });
        }
        self.count(&result);
        result.map(|(response, source)| Completed { response, source })
    }

    #[tracing::instrument(name = "llm.client.stream", skip_all, fields(provider = self.provider.name(), model = self.provider.model()))]
    async fn stream(&self, request: &LlmRequest) -> Result<CompletionStream, LlmError> {
        self.stats.call();
        let key = self.key_of(request);
        if let Some(key) = &key {
            if let Some(response) = read(&*self.cache, key, &self.stats).await {
                self.stats.cache_hit();
                return Ok(CompletionStream {
                    events: replay(response),
                    source: AnswerSource::Cache,
                });
            }
        }
        self.stats.cache_miss();
        let upstream = self.provider.stream(request).await.inspect_err(|error| {
            self.stats.failure(error);
        })?;
        let cache = Arc::clone(&self.cache);
        let stats = Arc::clone(&self.stats);
        let ttl = self.ttl;
        let events = upstream
            .inspect(move |event| match event {
                Ok(StreamEvent::Done(response)) => {
                    if let Some(key) = key.clone() {
                        let (cache, stats, response) =
                            (Arc::clone(&cache), Arc::clone(&stats), response.clone());
                        tokio::spawn(async move {
                            write(&*cache, &key, &response, ttl, &stats).await;
                        });
                    }
                }
                Ok(StreamEvent::Delta(_)) => {}
                Err(error) => stats.failure(error),
            })
            .boxed();
        Ok(CompletionStream {
            events,
            source: AnswerSource::Provider,
        })
    }
}

#[cfg(test)]
mod tests;
