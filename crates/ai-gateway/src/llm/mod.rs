//! Language models as the gateway uses them: a provider behind timeouts, retries, a circuit
//! breaker, the response cache and request coalescing.

use ainative_ports::{LlmError, LlmRequest, LlmResponse, LlmStream};
use async_trait::async_trait;

/// A completion and whether it came from the response cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completed {
    /// The answer.
    pub response: LlmResponse,
    /// Served from the cache.
    pub cache_hit: bool,
}

/// A streamed completion and whether it came from the response cache.
pub struct CompletionStream {
    /// Deltas, then `Done` with the whole answer.
    pub events: LlmStream,
    /// Served from the cache (then the stream replays the cached answer).
    pub cache_hit: bool,
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
pub use metered::{outcome_of, LlmObserver, MeteredProvider};
pub use offline::OfflineProvider;
pub use openai::{OpenAiConfig, OpenAiProvider};
pub use resilient::{
    backoff_delay, CircuitBreaker, CircuitState, ResilienceConfig, ResilientProvider,
};
pub use stats::{LlmStats, LlmStatsSnapshot};

/// Prefix of the message of an [`LlmError::Upstream`] that retrying cannot fix (a 4xx answer,
/// a malformed body). The port's error type has no retryable flag, so providers of this crate
/// mark permanent failures with it; see [`permanent_error`] and [`is_retryable`].
pub const PERMANENT_MARKER: &str = "permanent: ";

/// An upstream error that must not be retried (the provider rejected the request).
pub fn permanent_error(message: impl std::fmt::Display) -> LlmError {
    LlmError::Upstream(format!("{PERMANENT_MARKER}{message}"))
}

/// Whether retrying a call that failed with `error` may succeed.
///
/// Only upstream failures not marked with [`PERMANENT_MARKER`] (5xx, 429, connection errors)
/// are retryable. Timeouts are not: the per-call timeout is the caller's whole budget, and
/// retrying would multiply it. An open circuit is not retryable by definition.
pub fn is_retryable(error: &LlmError) -> bool {
    match error {
        LlmError::Upstream(message) => !message.starts_with(PERMANENT_MARKER),
        LlmError::Timeout | LlmError::CircuitOpen => false,
    }
}

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
