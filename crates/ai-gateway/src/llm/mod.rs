//! Language models as the gateway uses them: a provider behind timeouts, retries, a circuit
//! breaker, the response cache and request coalescing.

use ainative_ports::{LlmError, LlmRequest, LlmResponse, LlmStream};
use async_trait::async_trait;

/// Where an answer came from, and so whether it cost a provider call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnswerSource {
    /// This call made the provider call (its usage is this call's).
    Provider,
    /// The response cache.
    Cache,
    /// An identical call in flight at the same time, whose provider call this one shared.
    Coalesced,
}

impl AnswerSource {
    /// True when no provider call was made for this call (cache or coalesced): it consumed
    /// no tokens, and interactions record it as `cache_hit`.
    pub fn is_shared(self) -> bool {
        self != Self::Provider
    }
}

/// A completion and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completed {
    /// The answer (with the usage of the provider call that produced it).
    pub response: LlmResponse,
    /// Provider, cache or a coalesced flight.
    pub source: AnswerSource,
}

/// A streamed completion and where it comes from (streams are never coalesced).
pub struct CompletionStream {
    /// Deltas, then `Done` with the whole answer.
    pub events: LlmStream,
    /// [`AnswerSource::Cache`] when the stream replays a cached answer, else
    /// [`AnswerSource::Provider`].
    pub source: AnswerSource,
}

/// What the gateway needs from a language model.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait LanguageModel: Send + Sync {
    /// Provider name recorded on interactions.
    fn provider(&self) -> &str;

    /// Model name recorded on interactions.
    fn model(&self) -> &str;

    /// Completes a request (cached and coalesced).
    async fn complete(&self, request: &LlmRequest) -> Result<Completed, LlmError>;

    /// Streams a completion. Dropping the stream cancels the upstream call.
    async fn stream(&self, request: &LlmRequest) -> Result<CompletionStream, LlmError>;
}

pub mod build;
pub mod client;
pub mod metered;
pub mod offline;
pub mod openai;
pub mod resilient;
pub mod sse;
pub mod stats;

pub use build::{build_language_model, LlmConfig, LlmConfigError};
pub use client::{cache_key, LlmClient};
pub use metered::{
    outcome_of, LlmObserver, MeteredProvider, OUTCOMES, OWN_CREDENTIAL, OWN_MODEL_LABEL,
    PLATFORM_CREDENTIAL,
};
pub use offline::OfflineProvider;
pub use openai::{ApiKey, KeySource, OpenAiConfig, OpenAiProvider};
pub use resilient::{
    backoff_delay, CircuitBreaker, CircuitState, ResilienceConfig, ResilientProvider,
};
pub use stats::{LlmStats, LlmStatsSnapshot};

/// Approximate token count of `text`: its number of whitespace-separated words.
///
/// A documented approximation used by the offline provider and when an OpenAI-compatible
/// server reports no usage; real tokenisers give roughly 1.3 tokens per English word.
pub fn estimate_tokens(text: &str) -> u32 {
    u32::try_from(text.split_whitespace().count()).unwrap_or(u32::MAX)
}

/// Approximate prompt tokens of a whole conversation (see [`estimate_tokens`]).
pub fn estimate_prompt_tokens(messages: &[ainative_ports::ChatMessage]) -> u32 {
    messages
        .iter()
        .map(|m| estimate_tokens(&m.content))
        .fold(0u32, u32::saturating_add)
}
