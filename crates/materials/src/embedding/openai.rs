//! An [`Embedder`] for any OpenAI-compatible `POST {base}/embeddings` endpoint (OpenAI,
//! Ollama, vLLM, llama.cpp server, LiteLLM, text-embeddings-inference).
//!
//! Errors: connection failures, timeouts, 408, 429 and 5xx are
//! [`PortError::Unavailable`] (retry later); other 4xx answers and bodies that are not one
//! vector per input are [`PortError::Other`]. The API key is a bearer token, never logged.

use std::time::Duration;

use ainative_ports::{Cause, Embedder, PortError, PortResult};
use async_trait::async_trait;
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};

/// Longest excerpt of an error body kept in a message.
const ERROR_EXCERPT_CHARS: usize = 200;

/// Settings of an embeddings endpoint (`EMBEDDING_BASE_URL` and friends).
#[derive(Clone)]
pub struct OpenAiEmbedderConfig {
    /// Base URL up to the API version (`https://api.openai.com/v1`); `/embeddings` is
    /// appended.
    pub base_url: String,
    /// Bearer token, when the endpoint needs one. Never logged.
    pub api_key: Option<String>,
    /// Model name sent with every request and stored with the vectors.
    pub model: String,
    /// Output size, for models that can shorten their vectors (sent as `dimensions`).
    pub dimensions: Option<u32>,
    /// Whole-request timeout.
    pub timeout: Duration,
}

impl std::fmt::Debug for OpenAiEmbedderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiEmbedderConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("model", &self.model)
            .field("dimensions", &self.dimensions)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Why an [`OpenAiEmbedder`] cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmbedderConfigError {
    /// The base URL does not parse or is not http(s).
    #[error("invalid embeddings base URL: {0}")]
    InvalidBaseUrl(String),
    /// No model name.
    #[error("an embeddings model name is required")]
    MissingModel,
    /// The HTTP client could not be built.
    #[error("the HTTP client could not be built: {0}")]
    Client(String),
}

/// A client of one OpenAI-compatible embeddings endpoint.
#[derive(Clone)]
pub struct OpenAiEmbedder {
    http: reqwest::Client,
    endpoint: String,
    api_key: Option<String>,
    model: String,
    dimensions: Option<u32>,
    timeout: Duration,
}

impl std::fmt::Debug for OpenAiEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiEmbedder")
            .field("endpoint", &self.endpoint)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct EmbeddingRequest<'a> {
    model: &'a str,
    input: &'a [String],
    encoding_format: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    dimensions: Option<u32>,
}

#[derive(Deserialize)]
struct EmbeddingResponse {
    data: Vec<EmbeddingDatum>,
}

#[derive(Deserialize)]
struct EmbeddingDatum {
    index: usize,
    embedding: Vec<f32>,
}

impl OpenAiEmbedder {
    /// A client of `config.base_url`; fails on a base URL that is not http(s), an empty model
    /// name, or when the HTTP client cannot be built.
    pub fn new(config: OpenAiEmbedderConfig) -> Result<Self, EmbedderConfigError> {
        let base = config.base_url.trim().trim_end_matches('/');
        let parsed = reqwest::Url::parse(base)
            .map_err(|e| EmbedderConfigError::InvalidBaseUrl(e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(EmbedderConfigError::InvalidBaseUrl(format!(
                "scheme {} is not http or https",
                parsed.scheme()
            )));
        }
        if config.model.trim().is_empty() {
            return Err(EmbedderConfigError::MissingModel);
        }
        let http = reqwest::Client::builder()
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .pool_idle_timeout(Duration::from_secs(90))
            .build()
            .map_err(|e| EmbedderConfigError::Client(e.to_string()))?;
        Ok(Self {
            http,
            endpoint: format!("{base}/embeddings"),
            api_key: config.api_key.filter(|k| !k.is_empty()),
            model: config.model.trim().to_owned(),
            dimensions: config.dimensions,
            timeout: config.timeout,
        })
    }
}

#[async_trait]
impl Embedder for OpenAiEmbedder {
    fn model(&self) -> &str {
        &self.model
    }

    #[tracing::instrument(name = "embeddings", skip_all, fields(model = %self.model, inputs = inputs.len()))]
    async fn embed(&self, inputs: &[String]) -> PortResult<Vec<Vec<f32>>> {
        if inputs.is_empty() {
            return Ok(Vec::new());
        }
        let body = EmbeddingRequest {
            model: &self.model,
            input: inputs,
            encoding_format: "float",
            dimensions: self.dimensions,
        };
        let mut request = self
            .http
            .post(&self.endpoint)
            .timeout(self.timeout)
            .json(&body);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.map_err(|e| {
            PortError::unavailable_from("the embeddings endpoint could not be reached", e)
        })?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| {
            PortError::unavailable_from("the embeddings response could not be read", e)
        })?;
        if !status.is_success() {
            let message = format!(
                "the embeddings endpoint answered {status}: {}",
                excerpt(&bytes)
            );
            return Err(if retryable(status) {
                PortError::Unavailable(Cause::new(message))
            } else {
                PortError::Other(Cause::new(message))
            });
        }
        let parsed: EmbeddingResponse = serde_json::from_slice(&bytes)
            .map_err(|e| PortError::other_from("malformed embeddings response", e))?;
        in_input_order(parsed.data, inputs.len())
    }
}

fn retryable(status: StatusCode) -> bool {
    status.is_server_error()
        || status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
}

/// The vectors ordered by their `index`, exactly one per input.
fn in_input_order(data: Vec<EmbeddingDatum>, inputs: usize) -> PortResult<Vec<Vec<f32>>> {
    let wrong = |what: String| PortError::Other(Cause::new(format!("embeddings response: {what}")));
    if data.len() != inputs {
        return Err(wrong(format!("{} vectors for {inputs} inputs", data.len())));
    }
    let mut ordered: Vec<Option<Vec<f32>>> = vec![None; inputs];
    for datum in data {
        match ordered.get_mut(datum.index) {
            Some(slot @ None) => *slot = Some(datum.embedding),
            Some(Some(_)) => return Err(wrong(format!("index {} repeated", datum.index))),
            None => return Err(wrong(format!("index {} out of range", datum.index))),
        }
    }
    Ok(ordered.into_iter().flatten().collect())
}

fn excerpt(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .take(ERROR_EXCERPT_CHARS)
        .collect()
}

#[cfg(test)]
mod tests;
