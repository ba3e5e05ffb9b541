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
}

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
}

impl MeteredProvider {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn LlmProvider>, observer: Arc<dyn LlmObserver>) -> Self {
        observer.register(inner.name(), inner.model());
        Self { inner, observer }
    }

    fn report<T>(&self, result: &Result<T, LlmError>, started: Instant) {
        self.observer.observe(
            self.inner.name(),
            self.inner.model(),
            outcome_of(result),
            started.elapsed(),
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
