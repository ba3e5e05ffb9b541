//! Language models as the gateway uses them: a provider behind timeouts, retries, a circuit
//! breaker, the response cache and request coalescing.

use async_trait::async_trait;
use ainative_ports::{LlmError, LlmRequest, LlmResponse, LlmStream};

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
