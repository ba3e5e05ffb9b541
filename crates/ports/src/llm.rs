//! Language-model providers.

use std::borrow::Cow;
use std::fmt;

use ainative_domain::{Agent, HelpLevel, Intent, SimulatorType};
use async_trait::async_trait;
use futures_core::stream::BoxStream;

use crate::Cause;

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
    /// Passages of the activity's course material retrieved for this turn, best first
    /// (their chunk ids are thus part of the cache key). Empty, and left out of the key,
    /// when the activity has no processed material.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grounding: Vec<GroundingPassage>,
}

/// A passage of course material that grounds a turn.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct GroundingPassage {
    /// The material.
    pub material_id: uuid::Uuid,
    /// The chunk.
    pub chunk_id: uuid::Uuid,
    /// Heading path or page, for citing.
    pub section: Option<String>,
    /// The passage's text.
    pub text: String,
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

/// Why a provider call failed. Retries, the circuit breaker and the HTTP mapping decide on
/// the variant and the [`UpstreamKind`], never on the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    /// No answer within the timeout (maps to 504).
    #[error("the language model did not answer in time")]
    Timeout,
    /// The upstream failed or answered garbage (maps to 502).
    #[error("the language model failed ({kind})")]
    Upstream {
        /// What failed; says whether a retry may help.
        kind: UpstreamKind,
        /// Details for logs (an excerpt of the provider's answer, the transport error).
        #[source]
        cause: Cause,
    },
    /// The circuit breaker is open: the provider is failing, calls fail fast (maps to 502).
    #[error("the language model is unavailable")]
    CircuitOpen,
}

impl LlmError {
    /// An upstream failure of `kind` described by `message`.
    pub fn upstream(kind: UpstreamKind, message: impl Into<Cow<'static, str>>) -> Self {
        Self::Upstream {
            kind,
            cause: Cause::new(message),
        }
    }

    /// An upstream failure of `kind` caused by `source`.
    pub fn upstream_from(
        kind: UpstreamKind,
        message: impl Into<Cow<'static, str>>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Upstream {
            kind,
            cause: Cause::with_source(message, source),
        }
    }

    /// The kind of an upstream failure; `None` for timeouts and an open circuit.
    pub fn upstream_kind(&self) -> Option<UpstreamKind> {
        match self {
            Self::Upstream { kind, .. } => Some(*kind),
            Self::Timeout | Self::CircuitOpen => None,
        }
    }

    /// Whether retrying the call may succeed: only upstream failures of a retryable kind.
    /// Timeouts are not (the per-call timeout is the caller's whole budget, retrying would
    /// multiply it); an open circuit is not by definition.
    pub fn is_retryable(&self) -> bool {
        self.upstream_kind().is_some_and(UpstreamKind::is_retryable)
    }
}

/// What kind of upstream failure an [`LlmError::Upstream`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UpstreamKind {
    /// The provider answered with this HTTP error status.
    Status(u16),
    /// The connection failed or broke (refused, reset, a body that could not be read).
    Connection,
    /// A stream ended before its final answer, or reported an error event.
    Interrupted,
    /// The answer could not be understood (malformed JSON, no content).
    Malformed,
    /// The request could not be sent as built; nothing reached the provider.
    InvalidRequest,
}

impl UpstreamKind {
    /// Whether a retry may succeed: 5xx, 408 and 429 answers, connection failures and
    /// interrupted streams. Other 4xx answers, malformed answers and unusable requests
    /// would fail the same way again.
    pub fn is_retryable(self) -> bool {
        match self {
            Self::Status(status) => status >= 500 || status == 408 || status == 429,
            Self::Connection | Self::Interrupted => true,
            Self::Malformed | Self::InvalidRequest => false,
        }
    }
}

impl fmt::Display for UpstreamKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status(status) => write!(f, "HTTP {status}"),
            Self::Connection => f.write_str("connection failed"),
            Self::Interrupted => f.write_str("stream interrupted"),
            Self::Malformed => f.write_str("malformed answer"),
            Self::InvalidRequest => f.write_str("invalid request"),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error_chain;

    #[test]
    fn the_kind_decides_retries_never_the_message() {
        for (kind, retryable) in [
            (UpstreamKind::Status(500), true),
            (UpstreamKind::Status(503), true),
            (UpstreamKind::Status(429), true),
            (UpstreamKind::Status(408), true),
            (UpstreamKind::Status(400), false),
            (UpstreamKind::Status(404), false),
            (UpstreamKind::Connection, true),
            (UpstreamKind::Interrupted, true),
            (UpstreamKind::Malformed, false),
            (UpstreamKind::InvalidRequest, false),
        ] {
            let err = LlmError::upstream(kind, "permanent: retry me");
            assert_eq!(err.is_retryable(), retryable, "{kind}");
        }
        assert!(!LlmError::Timeout.is_retryable());
        assert!(!LlmError::CircuitOpen.is_retryable());
    }

    #[test]
    fn the_chain_shows_kind_message_and_source() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
        let err = LlmError::upstream_from(UpstreamKind::Connection, "request failed", io);
        assert_eq!(
            error_chain(&err),
            "the language model failed (connection failed): request failed: reset by peer"
        );
        let err = LlmError::upstream(UpstreamKind::Status(400), "max_tokens is too large");
        assert_eq!(err.to_string(), "the language model failed (HTTP 400)");
        assert_eq!(err.upstream_kind(), Some(UpstreamKind::Status(400)));
    }
}
