//! The `openai` provider: any OpenAI-compatible `/chat/completions` endpoint (OpenAI, Ollama,
//! vLLM, llama.cpp server), JSON or SSE streaming.
//!
//! Error mapping: a request that does not finish within the timeout is
//! [`LlmError::Timeout`]; an error status is [`LlmError::Upstream`] of kind
//! [`UpstreamKind::Status`] (retryable for 5xx, 408 and 429), a transport failure of kind
//! `Connection` (retryable), an unreadable answer of kind `Malformed` (not retryable). The
//! API key is sent as a bearer token and never logged.
//!
//! Every request carries the W3C trace context (`traceparent`) of the current span, through
//! the global propagator, so the upstream call joins the caller's trace.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use ainative_ports::{
    ChatMessage, LlmError, LlmProvider, LlmRequest, LlmResponse, LlmStream, StreamEvent,
    UpstreamKind,
};
use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::{self, BoxStream};
use futures::StreamExt;
use opentelemetry::propagation::Injector;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::sse::SseDecoder;
use super::{estimate_prompt_tokens, estimate_tokens, LlmConfigError};

/// Provider name recorded on interactions.
pub const OPENAI_PROVIDER: &str = "openai";

/// Longest excerpt of an upstream error body kept in an error message.
const ERROR_EXCERPT_CHARS: usize = 200;

/// Settings of an OpenAI-compatible endpoint.
#[derive(Clone)]
pub struct OpenAiConfig {
    /// Base URL up to the API version, e.g. `https://api.openai.com/v1` or
    /// `http://localhost:11434/v1`; `/chat/completions` is appended.
    pub base_url: String,
    /// Sent as `Authorization: Bearer …` when set. Never logged.
    pub api_key: Option<String>,
    /// Model name sent with every request.
    pub model: String,
    /// Whole-request timeout of `complete`; for `stream`, the time to the response headers and
    /// the longest silence between two chunks.
    pub timeout: Duration,
}

impl std::fmt::Debug for OpenAiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("model", &self.model)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Opens an API key for one call (a user's sealed key); the plaintext is dropped, zeroized,
/// when the request has been built.
pub trait KeySource: Send + Sync {
    /// The key, or why it cannot be had (reported as a non-retryable upstream error).
    fn open(&self) -> Result<SecretString, LlmError>;
}

/// Where the API key of a provider comes from.
#[derive(Clone, Default)]
pub enum ApiKey {
    /// No `Authorization` header.
    #[default]
    None,
    /// The platform's configured key.
    Fixed(SecretString),
    /// Opened per call.
    Sealed(Arc<dyn KeySource>),
}

impl ApiKey {
    fn open(&self) -> Result<Option<SecretString>, LlmError> {
        match self {
            Self::None => Ok(None),
            Self::Fixed(key) => Ok(Some(key.clone())),
            Self::Sealed(source) => source.open().map(Some),
        }
    }
}

/// A client of one OpenAI-compatible `/chat/completions` endpoint.
#[derive(Clone)]
pub struct OpenAiProvider {
    http: reqwest::Client,
    endpoint: String,
    api_key: ApiKey,
    model: String,
    timeout: Duration,
}

impl std::fmt::Debug for OpenAiProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiProvider")
            .field("endpoint", &self.endpoint)
            .field("model", &self.model)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct ChatRequest<'a> {
    model: &'a str,
    messages: &'a [ChatMessage],
    temperature: f32,
    max_tokens: u32,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<StreamOptions>,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ChatResponse {
    model: Option<String>,
    choices: Vec<Choice>,
    usage: Option<Usage>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Choice {
    message: Option<Content>,
    delta: Option<Content>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Content {
    content: Option<String>,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(default)]
struct Usage {
    prompt_tokens: Option<u32>,
    completion_tokens: Option<u32>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ChatChunk {
    model: Option<String>,
    choices: Vec<Choice>,
    usage: Option<Usage>,
    error: Option<serde_json::Value>,
}

impl OpenAiProvider {
    /// A client of `config.base_url`; fails on a base URL that is not http(s) or when the HTTP
    /// client cannot be built.
    pub fn new(config: OpenAiConfig) -> Result<Self, LlmConfigError> {
        let base = config.base_url.trim().trim_end_matches('/');
        let parsed = reqwest::Url::parse(base)
            .map_err(|e| LlmConfigError::InvalidBaseUrl(format!("{e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(LlmConfigError::InvalidBaseUrl(format!(
                "scheme {} is not http or https",
                parsed.scheme()
            )));
        }
        if config.model.trim().is_empty() {
            return Err(LlmConfigError::MissingModel);
        }
        let http = reqwest::Client::builder()
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .pool_idle_timeout(Duration::from_secs(90))
            .build()
            .map_err(|e| LlmConfigError::Client(e.to_string()))?;
        let api_key = match config.api_key.filter(|k| !k.is_empty()) {
            Some(key) => ApiKey::Fixed(SecretString::from(key)),
            None => ApiKey::None,
        };
        Ok(Self::with_client(
            http,
            base,
            config.model.trim(),
            api_key,
            config.timeout,
        ))
    }

    /// A client of `base_url` (already checked) over `http`, with its key from `api_key`.
    pub fn with_client(
        http: reqwest::Client,
        base_url: &str,
        model: &str,
        api_key: ApiKey,
        timeout: Duration,
    ) -> Self {
        Self {
            http,
            endpoint: format!("{}/chat/completions", base_url.trim_end_matches('/')),
            api_key,
            model: model.to_owned(),
            timeout,
        }
    }

    /// The request, and the key it carries (to keep it out of error messages).
    fn post(
        &self,
        body: &ChatRequest<'_>,
    ) -> Result<(reqwest::RequestBuilder, Option<SecretString>), LlmError> {
        let builder = self
            .http
            .post(&self.endpoint)
            .headers(trace_headers())
            .json(body);
        let key = self.api_key.open()?;
        Ok(match key {
            Some(key) => (builder.bearer_auth(key.expose_secret()), Some(key)),
            None => (builder, None),
        })
    }

    fn body<'a>(&'a self, request: &'a LlmRequest, stream: bool) -> ChatRequest<'a> {
        ChatRequest {
            model: &self.model,
            messages: &request.messages,
            temperature: request.temperature,
            max_tokens: request.max_tokens,
            stream,
            stream_options: stream.then_some(StreamOptions {
                include_usage: true,
            }),
        }
    }
}

#[async_trait]
impl LlmProvider for OpenAiProvider {
    fn name(&self) -> &str {
        OPENAI_PROVIDER
    }

    fn model(&self) -> &str {
        &self.model
    }

    #[tracing::instrument(name = "llm.complete", skip_all, fields(provider = OPENAI_PROVIDER, model = %self.model))]
    async fn complete(&self, request: &LlmRequest) -> Result<LlmResponse, LlmError> {
        let (post, key) = self.post(&self.body(request, false))?;
        let response = post
            .timeout(self.timeout)
            .send()
            .await
            .map_err(transport_error)?;
        let response = check_status(response, key.as_ref()).await?;
        drop(key);
        let bytes = response.bytes().await.map_err(transport_error)?;
        let parsed: ChatResponse = serde_json::from_slice(&bytes).map_err(|e| {
            LlmError::upstream_from(UpstreamKind::Malformed, "malformed completion", e)
        })?;
        let content = parsed
            .choices
            .into_iter()
            .next()
            .and_then(|c| c.message)
            .and_then(|m| m.content)
            .ok_or_else(|| {
                LlmError::upstream(
                    UpstreamKind::Malformed,
                    "completion without choices[0].message.content",
                )
            })?;
        let usage = parsed.usage.unwrap_or_default();
        Ok(LlmResponse {
            tokens_in: usage
                .prompt_tokens
                .unwrap_or_else(|| estimate_prompt_tokens(&request.messages)),
            tokens_out: usage
                .completion_tokens
                .unwrap_or_else(|| estimate_tokens(&content)),
            model: parsed.model.unwrap_or_else(|| self.model.clone()),
            content,
        })
    }

    #[tracing::instrument(name = "llm.stream", skip_all, fields(provider = OPENAI_PROVIDER, model = %self.model))]
    async fn stream(&self, request: &LlmRequest) -> Result<LlmStream, LlmError> {
        let (post, key) = self.post(&self.body(request, true))?;
        let response = tokio::time::timeout(self.timeout, post.send())
            .await
            .map_err(|_| LlmError::Timeout)?
            .map_err(transport_error)?;
        let response = tokio::time::timeout(self.timeout, check_status(response, key.as_ref()))
            .await
            .map_err(|_| LlmError::Timeout)??;
        drop(key);
        let state = SseState {
            body: response.bytes_stream().boxed(),
            parser: ChunkParser::new(
                self.model.clone(),
                estimate_prompt_tokens(&request.messages),
            ),
            idle: self.timeout,
        };
        Ok(sse_events(state))
    }
}

/// Writes propagation headers into a request's headers.
struct HeaderInjector<'a>(&'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// The trace context of the current span as headers (`traceparent`, `tracestate`); empty
/// when no propagator is installed or no trace is being recorded.
fn trace_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    let context = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut HeaderInjector(&mut headers));
    });
    headers
}

/// Maps a transport failure, keeping it as the source: timeouts to [`LlmError::Timeout`],
/// an unusable request to `InvalidRequest`, everything else (connect, reset) to `Connection`.
fn transport_error(error: reqwest::Error) -> LlmError {
    if error.is_timeout() {
        LlmError::Timeout
    } else if error.is_builder() {
        LlmError::upstream_from(
            UpstreamKind::InvalidRequest,
            "invalid request",
            error.without_url(),
        )
    } else {
        LlmError::upstream_from(
            UpstreamKind::Connection,
            "request failed",
            error.without_url(),
        )
    }
}

/// Passes a successful response through; turns an error status into an [`LlmError`].
/// An endpoint that echoes the key in its error body does not get it into our logs: `key`
/// is replaced by `[redacted]`.
async fn check_status(
    response: reqwest::Response,
    key: Option<&SecretString>,
) -> Result<reqwest::Response, LlmError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let mut body = response.text().await.unwrap_or_default();
    if let Some(key) = key.map(ExposeSecret::expose_secret) {
        if !key.is_empty() {
            body = body.replace(key, "[redacted]");
        }
    }
    Err(LlmError::upstream(
        UpstreamKind::Status(status.as_u16()),
        error_detail(&body),
    ))
}

/// The `error.message` of an OpenAI-style error body, or the start of the body.
fn error_detail(body: &str) -> String {
    let from_json = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.pointer("/error/message")
                .or_else(|| v.get("error"))
                .and_then(|m| m.as_str().map(str::to_owned))
        });
    let text = from_json.unwrap_or_else(|| body.trim().to_owned());
    text.chars().take(ERROR_EXCERPT_CHARS).collect()
}

/// Turns the `data:` payloads of a streamed completion into [`StreamEvent`]s.
pub(crate) struct ChunkParser {
    decoder: SseDecoder,
    pending: VecDeque<Result<StreamEvent, LlmError>>,
    text: String,
    usage: Usage,
    model: String,
    prompt_estimate: u32,
    finished: bool,
}

impl ChunkParser {
    pub(crate) fn new(model: String, prompt_estimate: u32) -> Self {
        Self {
            decoder: SseDecoder::new(),
            pending: VecDeque::new(),
            text: String::new(),
            usage: Usage::default(),
            model,
            prompt_estimate,
            finished: false,
        }
    }

    /// Feeds raw body bytes.
    pub(crate) fn feed(&mut self, chunk: &[u8]) {
        for payload in self.decoder.feed(chunk) {
            self.payload(&payload);
        }
    }

    /// The body ended (without error).
    pub(crate) fn end(&mut self) {
        if let Some(payload) = self.decoder.finish() {
            self.payload(&payload);
        }
        if !self.finished {
            // Some servers close the stream without `[DONE]`; a clean end after text is an
            // answer, a clean end before any text is a failure.
            if self.text.is_empty() {
                self.fail(LlmError::upstream(
                    UpstreamKind::Interrupted,
                    "stream ended before any answer",
                ));
            } else {
                self.done();
            }
        }
    }

    /// The body failed.
    pub(crate) fn fail(&mut self, error: LlmError) {
        if !self.finished {
            self.finished = true;
            self.pending.push_back(Err(error));
        }
    }

    /// The next event ready, if any.
    pub(crate) fn next_event(&mut self) -> Option<Result<StreamEvent, LlmError>> {
        self.pending.pop_front()
    }

    /// Whether no more events will come after the pending ones.
    pub(crate) fn is_finished(&self) -> bool {
        self.finished
    }

    fn payload(&mut self, payload: &str) {
        if self.finished {
            return;
        }
        let payload = payload.trim();
        if payload.is_empty() {
            return;
        }
        if payload == "[DONE]" {
            self.done();
            return;
        }
        let chunk: ChatChunk = match serde_json::from_str(payload) {
            Ok(chunk) => chunk,
            Err(e) => {
                self.fail(LlmError::upstream_from(
                    UpstreamKind::Malformed,
                    "malformed stream chunk",
                    e,
                ));
                return;
            }
        };
        if let Some(error) = chunk.error {
            let detail = error
                .get("message")
                .and_then(|m| m.as_str())
                .map(str::to_owned)
                .unwrap_or_else(|| error.to_string());
            self.fail(LlmError::upstream(
                UpstreamKind::Interrupted,
                format!(
                    "stream error: {}",
                    detail.chars().take(ERROR_EXCERPT_CHARS).collect::<String>()
                ),
            ));
            return;
        }
        if let Some(model) = chunk.model.filter(|m| !m.is_empty()) {
            self.model = model;
        }
        if let Some(usage) = chunk.usage {
            self.usage = usage;
        }
        for choice in chunk.choices.into_iter().take(1) {
            if let Some(text) = choice.delta.and_then(|d| d.content) {
                if !text.is_empty() {
                    self.text.push_str(&text);
                    self.pending.push_back(Ok(StreamEvent::Delta(text)));
                }
            }
        }
    }

    fn done(&mut self) {
        self.finished = true;
        let content = std::mem::take(&mut self.text);
        let response = LlmResponse {
            tokens_in: self.usage.prompt_tokens.unwrap_or(self.prompt_estimate),
            tokens_out: self
                .usage
                .completion_tokens
                .unwrap_or_else(|| estimate_tokens(&content)),
            model: self.model.clone(),
            content,
        };
        self.pending.push_back(Ok(StreamEvent::Done(response)));
    }
}

struct SseState {
    body: BoxStream<'static, reqwest::Result<Bytes>>,
    parser: ChunkParser,
    idle: Duration,
}

/// The event stream over a response body. It owns the body: dropping it closes the
/// connection, which cancels the upstream generation.
fn sse_events(state: SseState) -> LlmStream {
    stream::unfold(state, |mut st| async move {
        loop {
            if let Some(event) = st.parser.next_event() {
                return Some((event, st));
            }
            if st.parser.is_finished() {
                return None;
            }
            match tokio::time::timeout(st.idle, st.body.next()).await {
                Err(_) => st.parser.fail(LlmError::Timeout),
                Ok(None) => st.parser.end(),
                Ok(Some(Err(e))) => st.parser.fail(transport_error(e)),
                Ok(Some(Ok(bytes))) => st.parser.feed(&bytes),
            }
        }
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = concat!(
        "data: {\"id\":\"1\",\"model\":\"m-1\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n",
        "data: {\"id\":\"1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hél\"}}]}\n\n",
        ": ping\n\n",
        "data: {\"id\":\"1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo wörld\"},\"finish_reason\":null}]}\r\n\r\n",
        "data: {\"id\":\"1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
        "data: {\"id\":\"1\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3,\"total_tokens\":15}}\n\n",
        "data: [DONE]\n\n",
    );

    fn drain(parser: &mut ChunkParser) -> Vec<Result<StreamEvent, LlmError>> {
        std::iter::from_fn(|| parser.next_event()).collect()
    }

    fn expected() -> Vec<Result<StreamEvent, LlmError>> {
        vec![
            Ok(StreamEvent::Delta("Hél".to_owned())),
            Ok(StreamEvent::Delta("lo wörld".to_owned())),
            Ok(StreamEvent::Done(LlmResponse {
                content: "Héllo wörld".to_owned(),
                model: "m-1".to_owned(),
                tokens_in: 12,
                tokens_out: 3,
            })),
        ]
    }

    #[test]
    fn parses_a_stream_split_at_every_byte_position() {
        let bytes = BODY.as_bytes();
        for cut in 0..=bytes.len() {
            let mut parser = ChunkParser::new("configured".to_owned(), 99);
            parser.feed(&bytes[..cut]);
            parser.feed(&bytes[cut..]);
            parser.end();
            assert_eq!(drain(&mut parser), expected(), "split at {cut}");
        }
    }

    #[test]
    fn parses_a_stream_fed_in_three_byte_pieces() {
        let mut parser = ChunkParser::new("configured".to_owned(), 99);
        let mut events = Vec::new();
        for piece in BODY.as_bytes().chunks(3) {
            parser.feed(piece);
            events.extend(drain(&mut parser));
        }
        parser.end();
        events.extend(drain(&mut parser));
        assert_eq!(events, expected());
    }

    #[test]
    fn estimates_usage_when_absent_and_accepts_a_missing_done() {
        let mut parser = ChunkParser::new("configured".to_owned(), 7);
        parser.feed(b"data: {\"choices\":[{\"delta\":{\"content\":\"two words\"}}]}\n\n");
        parser.end();
        assert_eq!(
            drain(&mut parser),
            vec![
                Ok(StreamEvent::Delta("two words".to_owned())),
                Ok(StreamEvent::Done(LlmResponse {
                    content: "two words".to_owned(),
                    model: "configured".to_owned(),
                    tokens_in: 7,
                    tokens_out: 2,
                })),
            ]
        );
    }

    #[test]
    fn an_empty_or_broken_stream_is_an_error() {
        let mut parser = ChunkParser::new("m".to_owned(), 0);
        parser.end();
        assert_eq!(
            drain(&mut parser),
            vec![Err(LlmError::upstream(
                UpstreamKind::Interrupted,
                "stream ended before any answer"
            ))]
        );

        let mut parser = ChunkParser::new("m".to_owned(), 0);
        parser.feed(b"data: {not json}\n\n");
        parser.feed(b"data: [DONE]\n\n");
        parser.end();
        let events = drain(&mut parser);
        assert_eq!(events.len(), 1);
        assert!(
            matches!(&events[0], Err(e) if e.upstream_kind() == Some(UpstreamKind::Malformed) && !e.is_retryable())
        );

        let mut parser = ChunkParser::new("m".to_owned(), 0);
        parser.feed(b"data: {\"error\":{\"message\":\"model overloaded\"}}\n\n");
        parser.end();
        assert_eq!(
            drain(&mut parser),
            vec![Err(LlmError::upstream(
                UpstreamKind::Interrupted,
                "stream error: model overloaded"
            ))]
        );
    }

    #[test]
    fn error_details_come_from_the_error_message() {
        assert_eq!(
            error_detail(
                "{\"error\":{\"message\":\"bad model\",\"type\":\"invalid_request_error\"}}"
            ),
            "bad model"
        );
        assert_eq!(
            error_detail("{\"error\":\"model not found\"}"),
            "model not found"
        );
        assert_eq!(error_detail(&"x".repeat(500)).len(), ERROR_EXCERPT_CHARS);
    }

    #[test]
    fn debug_output_never_shows_the_api_key() {
        let config = OpenAiConfig {
            base_url: "http://localhost:1/v1".to_owned(),
            api_key: Some("sk-secret".to_owned()),
            model: "m".to_owned(),
            timeout: Duration::from_secs(1),
        };
        assert!(!format!("{config:?}").contains("sk-secret"));
        let provider = OpenAiProvider::new(config).expect("provider");
        assert!(!format!("{provider:?}").contains("sk-secret"));
        assert_eq!(provider.endpoint, "http://localhost:1/v1/chat/completions");
    }
}
