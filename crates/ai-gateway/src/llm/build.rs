//! Construction of the language model from configuration, for the composition root.

use std::sync::Arc;
use std::time::Duration;

use ainative_ports::{FlightLock, LlmProvider, ResponseCache};

use super::{
    LlmClient, LlmObserver, MeteredProvider, OfflineProvider, OpenAiConfig, OpenAiProvider,
    ResilienceConfig, ResilientProvider,
};

/// The `LLM_*` settings (SPEC §2).
#[derive(Clone)]
pub struct LlmConfig {
    /// `offline` or `openai` (`LLM_PROVIDER`).
    pub provider: String,
    /// Base URL of an OpenAI-compatible endpoint (`LLM_BASE_URL`); required for `openai`.
    pub base_url: Option<String>,
    /// Bearer token (`LLM_API_KEY`); never logged.
    pub api_key: Option<String>,
    /// Model name (`LLM_MODEL`); required for `openai`.
    pub model: Option<String>,
    /// Per-attempt timeout (`LLM_TIMEOUT_SECS`).
    pub timeout: Duration,
    /// Retries after the first attempt (`LLM_MAX_RETRIES`).
    pub max_retries: u32,
}

impl Default for LlmConfig {
    fn default() -> Self {
        Self {
            provider: "offline".to_owned(),
            base_url: None,
            api_key: None,
            model: None,
            timeout: Duration::from_secs(30),
            max_retries: 2,
        }
    }
}

impl std::fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmConfig")
            .field("provider", &self.provider)
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("model", &self.model)
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .finish()
    }
}

/// Why the language model could not be built from the configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmConfigError {
    /// `LLM_PROVIDER` names no known provider.
    #[error("LLM_PROVIDER must be offline or openai, not '{0}'")]
    UnknownProvider(String),
    /// `openai` without a base URL.
    #[error("LLM_BASE_URL is required when LLM_PROVIDER=openai (e.g. http://localhost:11434/v1)")]
    MissingBaseUrl,
    /// `openai` without a model.
    #[error("LLM_MODEL is required when LLM_PROVIDER=openai")]
    MissingModel,
    /// The base URL is not an http(s) URL.
    #[error("LLM_BASE_URL is not a valid http(s) URL: {0}")]
    InvalidBaseUrl(String),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client of the language model: {0}")]
    Client(String),
}

/// The bare provider named by `config` (without resilience, cache or coalescing).
pub fn build_provider(config: &LlmConfig) -> Result<Arc<dyn LlmProvider>, LlmConfigError> {
    match config.provider.trim().to_ascii_lowercase().as_str() {
        "offline" => Ok(Arc::new(OfflineProvider::new())),
        "openai" => {
            let base_url = config
                .base_url
                .clone()
                .filter(|u| !u.trim().is_empty())
                .ok_or(LlmConfigError::MissingBaseUrl)?;
            let model = config
                .model
                .clone()
                .filter(|m| !m.trim().is_empty())
                .ok_or(LlmConfigError::MissingModel)?;
            Ok(Arc::new(OpenAiProvider::new(OpenAiConfig {
                base_url,
                api_key: config.api_key.clone(),
                model,
                timeout: config.timeout,
            })?))
        }
        other => Err(LlmConfigError::UnknownProvider(other.to_owned())),
    }
}

/// The gateway's language model: the configured provider behind timeouts, retries and the
/// circuit breaker ([`ResilientProvider`]), the response cache (entries live `cache_ttl`) and
/// request coalescing ([`LlmClient`]).
///
/// Returns the concrete client so the caller can read its counters
/// ([`LlmClient::stats`]) and circuit state; it coerces to `Arc<dyn LanguageModel>`.
///
/// `flights` is the claim store shared with the other instances (coalescing across them);
/// with an `observer`, every provider attempt (retries included) is reported to it.
pub fn build_language_model(
    config: LlmConfig,
    cache: Arc<dyn ResponseCache>,
    flights: Arc<dyn FlightLock>,
    cache_ttl: Duration,
    observer: Option<Arc<dyn LlmObserver>>,
) -> Result<Arc<LlmClient>, LlmConfigError> {
    let mut provider = build_provider(&config)?;
    if let Some(observer) = observer {
        provider = Arc::new(MeteredProvider::new(provider, observer));
    }
    let resilience = ResilienceConfig {
        timeout: config.timeout,
        max_retries: config.max_retries,
        ..ResilienceConfig::default()
    };
    tracing::info!(
        provider = provider.name(),
        model = provider.model(),
        timeout_secs = config.timeout.as_secs(),
        max_retries = config.max_retries,
        "language model configured"
    );
    let resilient = Arc::new(ResilientProvider::new(provider, resilience));
    let lease = resilient.longest_call();
    Ok(Arc::new(LlmClient::shared(
        resilient, cache, cache_ttl, flights, lease,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::LanguageModel;
    use ainative_ports::PortResult;
    use async_trait::async_trait;

    struct NoCache;

    #[async_trait]
    impl ResponseCache for NoCache {
        async fn get(&self, _key: &str) -> PortResult<Option<String>> {
            Ok(None)
        }
        async fn put(&self, _key: &str, _value: &str, _ttl: Duration) -> PortResult<()> {
            Ok(())
        }
    }

    fn build(config: LlmConfig) -> Result<Arc<LlmClient>, LlmConfigError> {
        let cache: Arc<dyn ResponseCache> = Arc::new(NoCache);
        build_language_model(
            config,
            Arc::clone(&cache),
            Arc::new(ainative_ports::LocalFlightLock::new(cache)),
            Duration::from_secs(60),
            None,
        )
    }

    #[test]
    fn offline_is_the_default() {
        let model: Arc<dyn LanguageModel> = build(LlmConfig::default()).expect("offline");
        assert_eq!(model.provider(), "offline");
        assert_eq!(model.model(), "rule-based-socratic-v1");
    }

    #[tokio::test]
    async fn openai_needs_a_base_url_and_a_model() {
        let openai = LlmConfig {
            provider: "openai".to_owned(),
            ..LlmConfig::default()
        };
        assert_eq!(
            build(openai.clone()).err(),
            Some(LlmConfigError::MissingBaseUrl)
        );
        let with_url = LlmConfig {
            base_url: Some("http://localhost:11434/v1".to_owned()),
            ..openai.clone()
        };
        assert_eq!(
            build(with_url.clone()).err(),
            Some(LlmConfigError::MissingModel)
        );
        let bad_url = LlmConfig {
            base_url: Some("localhost:11434".to_owned()),
            model: Some("llama3".to_owned()),
            ..openai
        };
        assert!(matches!(
            build(bad_url).err(),
            Some(LlmConfigError::InvalidBaseUrl(_))
        ));
        let complete = LlmConfig {
            model: Some("llama3".to_owned()),
            ..with_url
        };
        let model = build(complete).expect("openai");
        assert_eq!((model.provider(), model.model()), ("openai", "llama3"));
    }

    #[test]
    fn unknown_providers_are_refused_and_keys_never_shown() {
        let config = LlmConfig {
            provider: "gpt".to_owned(),
            api_key: Some("sk-secret".to_owned()),
            ..LlmConfig::default()
        };
        assert!(!format!("{config:?}").contains("sk-secret"));
        let error = build(config).expect_err("refused");
        assert_eq!(error, LlmConfigError::UnknownProvider("gpt".to_owned()));
        assert!(error.to_string().contains("offline or openai"));
    }
}
