//! Reports every provider call (outcome and latency) to an observer, for the metrics layer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ainative_ports::{LlmError, LlmProvider, LlmRequest, LlmResponse, LlmStream};
use async_trait::async_trait;

/// Every outcome label [`outcome_of`] produces.
pub const OUTCOMES: [&str; 4] = ["success", "timeout", "upstream_error", "circuit_open"];

/// Receives one report per provider call.
pub trait LlmObserver: Send + Sync {
    /// `provider`/`model` will be reported on (called once, when a [`MeteredProvider`] is
    /// built), so the observer can show its series before the first call.
    fn register(&self, _provider: &str, _model: &str) {}

    /// A call to `provider`/`model` ended with `outcome` (`success`, `timeout`, `upstream_error`,
    /// `circuit_open`) after `elapsed`. For streams, `elapsed` is the time to open the stream.
    fn observe(&self, provider: &str, model: &str, outcome: &'static str, elapsed: Duration);

    /// Like [`LlmObserver::register`], for the calls of one kind of credential (`platform`
    /// or `own`, never a credential id).
    fn register_for(&self, provider: &str, model: &str, _credential: &'static str) {
        self.register(provider, model);
    }

    /// Like [`LlmObserver::observe`], for a call made with a kind of credential.
    fn observe_for(
        &self,
        provider: &str,
        model: &str,
        outcome: &'static str,
        elapsed: Duration,
        _credential: &'static str,
    ) {
        self.observe(provider, model, outcome, elapsed);
    }
}

/// The credential label of calls made with the platform's provider.
pub const PLATFORM_CREDENTIAL: &str = "platform";
/// The credential label of calls made with a user's own credential.
pub const OWN_CREDENTIAL: &str = "own";
/// The model label of calls made with a user's own credential: user-chosen model names
/// would make the series unbounded.
pub const OWN_MODEL_LABEL: &str = "own";

/// The outcome label of a call result.
pub fn outcome_of<T>(result: &Result<T, LlmError>) -> &'static str {
    match result {
        Ok(_) => "success",
        Err(LlmError::Timeout) => "timeout",
        Err(LlmError::Upstream { .. }) => "upstream_error",
        Err(LlmError::CircuitOpen) => "circuit_open",
    }
}

/// A provider decorator that reports each call.
pub struct MeteredProvider {
    inner: Arc<dyn LlmProvider>,
    observer: Arc<dyn LlmObserver>,
    /// `platform` or `own`.
    credential: &'static str,
}

impl MeteredProvider {
    /// Wraps `inner`, the platform's provider.
    pub fn new(inner: Arc<dyn LlmProvider>, observer: Arc<dyn LlmObserver>) -> Self {
        observer.register_for(inner.name(), inner.model(), PLATFORM_CREDENTIAL);
        Self {
            inner,
            observer,
            credential: PLATFORM_CREDENTIAL,
        }
    }

    /// Wraps `inner`, a provider of a user's own credential (reported with the model label
    /// [`OWN_MODEL_LABEL`]).
    pub fn own(inner: Arc<dyn LlmProvider>, observer: Arc<dyn LlmObserver>) -> Self {
        observer.register_for(inner.name(), OWN_MODEL_LABEL, OWN_CREDENTIAL);
        Self {
            inner,
            observer,
            credential: OWN_CREDENTIAL,
        }
    }

    fn report<T>(&self, result: &Result<T, LlmError>, started: Instant) {
        let model = if self.credential == OWN_CREDENTIAL {
            OWN_MODEL_LABEL
        } else {
            self.inner.model()
        };
        self.observer.observe_for(
            self.inner.name(),
            model,
            outcome_of(result),
            started.elapsed(),
            self.credential,
        );
    }
}

#[async_trait]
impl LlmProvider for MeteredProvider {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn model(&self) -> &str {
        self.inner.model()
    }

    async fn complete(&self, request: &LlmRequest) -> Result<LlmResponse, LlmError> {
        let started = Instant::now();
        let result = self.inner.complete(request).await;
        self.report(&result, started);
        result
    }

    async fn stream(&self, request: &LlmRequest) -> Result<LlmStream, LlmError> {
        let started = Instant::now();
        let result = self.inner.stream(request).await;
        self.report(&result, started);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parking_lot::Mutex;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<(String, &'static str)>>);

    impl LlmObserver for Recorder {
        fn register(&self, provider: &str, _model: &str) {
            self.0.lock().push((provider.to_owned(), "registered"));
        }

        fn observe(&self, provider: &str, _model: &str, outcome: &'static str, _elapsed: Duration) {
            self.0.lock().push((provider.to_owned(), outcome));
        }
    }

    #[test]
    fn every_outcome_is_listed() {
        let results: [Result<(), LlmError>; 4] = [
            Ok(()),
            Err(LlmError::Timeout),
            Err(LlmError::upstream(
                ainative_ports::UpstreamKind::Connection,
                "x",
            )),
            Err(LlmError::CircuitOpen),
        ];
        let outcomes: Vec<_> = results.iter().map(outcome_of).collect();
        assert_eq!(outcomes, OUTCOMES);
    }

    #[tokio::test]
    async fn reports_each_call_with_its_outcome() {
        let mut inner = ainative_ports::MockLlmProvider::new();
        inner.expect_name().return_const("fake".to_owned());
        inner.expect_model().return_const("m".to_owned());
        let mut calls = 0;
        inner.expect_complete().returning(move |_| {
            calls += 1;
            if calls == 1 {
                Err(LlmError::Timeout)
            } else {
                Ok(LlmResponse {
                    content: "ok".into(),
                    model: "m".into(),
                    tokens_in: 1,
                    tokens_out: 1,
                })
            }
        });
        let recorder = Arc::new(Recorder::default());
        let metered = MeteredProvider::new(Arc::new(inner), recorder.clone());
        let request = LlmRequest {
            messages: vec![],
            temperature: 0.3,
            max_tokens: 10,
            guidance: ainative_ports::Guidance {
                agent: ainative_domain::Agent::Tutor,
                intent: ainative_domain::Intent::ConceptualQuestion,
                help_level: ainative_domain::HelpLevel::Low,
                simulator_type: None,
                activity_title: "t".into(),
                subject: "s".into(),
                allow_code_snippets: false,
                grounding: Vec::new(),
            },
        };
        assert!(metered.complete(&request).await.is_err());
        assert!(metered.complete(&request).await.is_ok());
        assert_eq!(
            *recorder.0.lock(),
            [
                ("fake".to_owned(), "registered"),
                ("fake".to_owned(), "timeout"),
                ("fake".to_owned(), "success")
            ]
        );
    }
}
