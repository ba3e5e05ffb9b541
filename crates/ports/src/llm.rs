//! Language-model providers.

use ainative_domain::{Agent, HelpLevel, Intent, SimulatorType};
use async_trait::async_trait;
use futures_core::stream::BoxStream;

/// Who wrote a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatRole {
    /// Instructions to the model.
    System,
    /// The student.
    User,
    /// The model.
    Assistant,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ChatMessage {
    /// Author.
    pub role: ChatRole,
    /// Text.
    pub content: String,
}

/// What the gateway decided about this turn; rule-based providers answer from it, and it is
/// part of the cache key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Guidance {
    /// Answering agent.
    pub agent: Agent,
    /// Classified intent.
    pub intent: Intent,
    /// Help level to apply.
    pub help_level: HelpLevel,
    /// Role in simulator mode.
    pub simulator_type: Option<SimulatorType>,
    /// Activity title.
    pub activity_title: String,
    /// Activity subject.
    pub subject: String,
    /// Whether code snippets may be shown.
    pub allow_code_snippets: bool,
}

/// A completion request.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LlmRequest {
    /// The whole conversation, system prompt first.
    pub messages: Vec<ChatMessage>,
    /// Sampling temperature.
    pub temperature: f32,
    /// Completion budget.
    pub max_tokens: u32,
    /// The gateway's decisions for this turn.
    pub guidance: Guidance,
}

/// A completed answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LlmResponse {
    /// Answer text.
    pub content: String,
    /// Model that answered.
    pub model: String,
    /// Prompt tokens.
    pub tokens_in: u32,
    /// Completion tokens.
    pub tokens_out: u32,
}

/// One event of a streamed answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEvent {
    /// A piece of text.
    Delta(String),
    /// The end, with the whole answer and its usage.
    Done(LlmResponse),
}

/// A streamed answer.
pub type LlmStream = BoxStream<'static, Result<StreamEvent, LlmError>>;

/// Why a provider call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    /// No answer within the timeout (maps to 504).
    #[error("the language model did not answer in time")]
    Timeout,
    /// The upstream failed or answered garbage (maps to 502).
    #[error("the language model failed: {0}")]
    Upstream(String),
    /// The circuit breaker is open: the provider is failing, calls fail fast (maps to 502).
    #[error("the language model is unavailable")]
    CircuitOpen,
}

/// A language-model provider. Adding a provider is adding an implementation of this trait.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait LlmProvider: Send + Sync {
    /// Provider name recorded on interactions (`offline`, `openai`).
    fn name(&self) -> &str;

    /// Model name recorded on interactions.
    fn model(&self) -> &str;

    /// Completes a conversation.
    async fn complete(&self, request: &LlmRequest) -> Result<LlmResponse, LlmError>;

    /// Streams a completion: deltas, then one `Done` carrying the whole answer.
    async fn stream(&self, request: &LlmRequest) -> Result<LlmStream, LlmError>;
}
