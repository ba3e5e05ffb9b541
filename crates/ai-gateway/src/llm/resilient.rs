//! A decorator that makes any [`LlmProvider`] safe to call from a request: a per-call
//! timeout, bounded retries with exponential back-off and jitter, and a circuit breaker that
//! fails fast while the provider is down.
//!
//! Retries: only errors for which [`LlmError::is_retryable`] holds (connection failures,
//! interrupted streams, 5xx, 408, 429) are retried, at most `max_retries` times. Timeouts are not retried (the timeout is the caller's
//! budget). A stream is retried only while it is being opened; once the provider answered,
//! a failure is passed to the caller, who already received part of the answer.
//!
//! Circuit breaker: `failure_threshold` consecutive failed attempts (timeouts and retryable
//! errors) open the circuit; for `open_duration` every call fails at once with
//! [`LlmError::CircuitOpen`] without reaching the provider; then the circuit is half-open and
//! lets one trial call through: its success closes the circuit, its failure opens it again. A
//! non-retryable upstream error (a 4xx answer, a malformed body) proves the provider reachable
//! and counts as a success.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ainative_ports::{
    LlmError, LlmProvider, LlmRequest, LlmResponse, LlmStream, StreamEvent, UpstreamKind,
};
use async_trait::async_trait;
use futures::stream::{self, StreamExt};
use parking_lot::Mutex;

use super::LlmStats;

/// Bounds of the [`ResilientProvider`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResilienceConfig {
    /// Time allowed for one attempt (`LLM_TIMEOUT_SECS`); for a stream, the time to open it
    /// and the longest silence between two events.
    pub timeout: Duration,
    /// Retries after the first attempt (`LLM_MAX_RETRIES`).
    pub max_retries: u32,
    /// Back-off before the first retry (before jitter); doubled for each further retry.
    pub base_backoff: Duration,
    /// Upper bound of one back-off.
    pub max_backoff: Duration,
    /// Consecutive failed attempts that open the circuit.
    pub failure_threshold: u32,
    /// How long an open circuit fails fast before letting a trial call through.
    pub open_duration: Duration,
}

impl Default for ResilienceConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            max_retries: 2,
            base_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            failure_threshold: 5,
            open_duration: Duration::from_secs(30),
        }
    }
}

impl ResilienceConfig {
    /// The longest one call can take: every attempt timing out, with the longest back-off
    /// (before jitter) between them.
    pub fn longest_call(&self) -> Duration {
        let attempts = self.max_retries.saturating_add(1);
        self.timeout
            .saturating_mul(attempts)
            .saturating_add(self.max_backoff.saturating_mul(self.max_retries))
    }
}

/// The back-off before retry number `retry` (0 for the first retry): `base × 2^retry`,
/// capped at `max`, with "equal jitter" — a uniformly random point of its upper half.
/// `jitter` is a number in `[0, 1]` (random in production, fixed in tests).
pub fn backoff_delay(retry: u32, base: Duration, max: Duration, jitter: f64) -> Duration {
    let factor = 2u32.saturating_pow(retry.min(30));
    let exponential = base.saturating_mul(factor).min(max);
    let half = exponential / 2;
    half + half.mul_f64(jitter.clamp(0.0, 1.0))
}

/// What the circuit breaker currently does with calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CircuitState {
    /// Calls go through.
    Closed,
    /// Calls fail fast.
    Open,
    /// One trial call may go through.
    HalfOpen,
}

impl CircuitState {
    /// The name used in health and metrics (`closed`, `open`, `half_open`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half_open",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { trial_in_flight: bool },
}

/// The breaker's state machine, with time passed in (deterministic in tests).
#[derive(Debug)]
struct BreakerCore {
    phase: Phase,
    threshold: u32,
    open_duration: Duration,
}

impl BreakerCore {
    fn new(threshold: u32, open_duration: Duration) -> Self {
        Self {
            phase: Phase::Closed { failures: 0 },
            threshold: threshold.max(1),
            open_duration,
        }
    }

    /// Admits a call: `Ok(true)` for the half-open trial, `Ok(false)` for a normal call.
    fn acquire(&mut self, now: Instant) -> Result<bool, LlmError> {
        match self.phase {
            Phase::Closed { .. } => Ok(false),
            Phase::Open { until } if now >= until => {
                self.phase = Phase::HalfOpen {
                    trial_in_flight: true,
                };
                Ok(true)
            }
            Phase::Open { .. }
            | Phase::HalfOpen {
                trial_in_flight: true,
            } => Err(LlmError::CircuitOpen),
            Phase::HalfOpen {
                trial_in_flight: false,
            } => {
                self.phase = Phase::HalfOpen {
                    trial_in_flight: true,
                };
                Ok(true)
            }
        }
    }

    fn success(&mut self) {
        self.phase = Phase::Closed { failures: 0 };
    }

    fn failure(&mut self, now: Instant) {
        self.phase = match self.phase {
            Phase::Closed { failures } if failures + 1 < self.threshold => Phase::Closed {
                failures: failures + 1,
            },
            Phase::Closed { .. } | Phase::HalfOpen { .. } => Phase::Open {
                until: now + self.open_duration,
            },
            open @ Phase::Open { .. } => open,
        };
    }

    /// The trial ended without an outcome (its caller went away): let another one through.
    fn release_trial(&mut self) {
        if let Phase::HalfOpen { .. } = self.phase {
            self.phase = Phase::HalfOpen {
                trial_in_flight: false,
            };
        }
    }

    fn state(&self, now: Instant) -> CircuitState {
        match self.phase {
            Phase::Closed { .. } => CircuitState::Closed,
            Phase::Open { until } if now >= until => CircuitState::HalfOpen,
            Phase::Open { .. } => CircuitState::Open,
            Phase::HalfOpen { .. } => CircuitState::HalfOpen,
        }
    }
}

/// A thread-safe circuit breaker (see the module documentation).
#[derive(Debug)]
pub struct CircuitBreaker {
    core: Mutex<BreakerCore>,
}

impl CircuitBreaker {
    /// A closed breaker that opens after `failure_threshold` consecutive failures and stays
    /// open for `open_duration`.
    pub fn new(failure_threshold: u32, open_duration: Duration) -> Self {
        Self {
            core: Mutex::new(BreakerCore::new(failure_threshold, open_duration)),
        }
    }

    /// The current state.
    pub fn state(&self) -> CircuitState {
        self.core.lock().state(Instant::now())
    }

    fn permit(self: &Arc<Self>) -> Result<Permit, LlmError> {
        let trial = self.core.lock().acquire(Instant::now())?;
        Ok(Permit {
            breaker: Arc::clone(self),
            trial,
            settled: false,
        })
    }
}

/// One admitted call. Settle it with its outcome; dropped unsettled (the caller went away),
/// a half-open trial lets the next call be the trial.
struct Permit {
    breaker: Arc<CircuitBreaker>,
    trial: bool,
    settled: bool,
}

impl Permit {
    fn success(mut self) {
        self.settled = true;
        self.breaker.core.lock().success();
    }

    fn failure(mut self) {
        self.settled = true;
        self.breaker.core.lock().failure(Instant::now());
    }

    /// Records the outcome of a failed call: timeouts and retryable upstream errors are
    /// failures of the provider; a non-retryable one (the provider answered, refusing the
    /// request) is not.
    fn settle_error(self, error: &LlmError) {
        match error {
            LlmError::Timeout => self.failure(),
            LlmError::Upstream { kind, .. } if kind.is_retryable() => self.failure(),
            LlmError::Upstream { .. } | LlmError::CircuitOpen => self.success(),
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.settled && self.trial {
            self.breaker.core.lock().release_trial();
        }
    }
}

/// An [`LlmProvider`] behind a timeout, retries and a circuit breaker.
pub struct ResilientProvider {
    inner: Arc<dyn LlmProvider>,
    config: ResilienceConfig,
    breaker: Arc<CircuitBreaker>,
    stats: Arc<LlmStats>,
}

impl std::fmt::Debug for ResilientProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResilientProvider")
            .field("provider", &self.inner.name())
            .field("model", &self.inner.model())
            .field("config", &self.config)
            .field("circuit", &self.breaker.state())
            .finish()
    }
}

impl ResilientProvider {
    /// Wraps `inner` with fresh counters.
    pub fn new(inner: Arc<dyn LlmProvider>, config: ResilienceConfig) -> Self {
        Self::with_stats(inner, config, Arc::new(LlmStats::new()))
    }

    /// Wraps `inner`, counting attempts, retries and tokens into `stats`.
    pub fn with_stats(
        inner: Arc<dyn LlmProvider>,
        config: ResilienceConfig,
        stats: Arc<LlmStats>,
    ) -> Self {
        Self {
            breaker: Arc::new(CircuitBreaker::new(
                config.failure_threshold,
                config.open_duration,
            )),
            inner,
            config,
            stats,
        }
    }

    /// The bounds in force.
    pub fn config(&self) -> &ResilienceConfig {
        &self.config
    }

    /// The longest one call can take ([`ResilienceConfig::longest_call`]).
    pub fn longest_call(&self) -> Duration {
        self.config.longest_call()
    }

    /// The state of the circuit breaker (for health reports).
    pub fn circuit_state(&self) -> CircuitState {
        self.breaker.state()
    }

    /// The counters this provider updates.
    pub fn stats(&self) -> &Arc<LlmStats> {
        &self.stats
    }

    /// Runs `attempt` under the breaker, the timeout and the retry policy.
    async fn run<T, F, Fut>(&self, mut attempt: F) -> Result<(T, Permit), LlmError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, LlmError>>,
    {
        let mut retry = 0u32;
        let mut last_error: Option<LlmError> = None;
        loop {
            let permit = match self.breaker.permit() {
                Ok(permit) => permit,
                // Retries stopped by the circuit opening report the real failure.
                Err(open) => return Err(last_error.unwrap_or(open)),
            };
            self.stats.attempt(retry > 0);
            let outcome = tokio::time::timeout(self.config.timeout, attempt())
                .await
                .unwrap_or(Err(LlmError::Timeout));
            let error = match outcome {
                Ok(value) => return Ok((value, permit)),
                Err(error) => error,
            };
            permit.settle_error(&error);
            if !error.is_retryable() || retry >= self.config.max_retries {
                return Err(error);
            }
            let delay = backoff_delay(
                retry,
                self.config.base_backoff,
                self.config.max_backoff,
                rand::random::<f64>(),
            );
            tracing::warn!(
                provider = self.inner.name(),
                retry = retry + 1,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                error = %error,
                "language model call failed; retrying"
            );
            tokio::time::sleep(delay).await;
            last_error = Some(error);
            retry += 1;
        }
    }
}

#[async_trait]
impl LlmProvider for ResilientProvider {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn model(&self) -> &str {
        self.inner.model()
    }

    async fn complete(&self, request: &LlmRequest) -> Result<LlmResponse, LlmError> {
        let (response, permit) = self.run(|| self.inner.complete(request)).await?;
        permit.success();
        self.stats.tokens(response.tokens_in, response.tokens_out);
        Ok(response)
    }

    async fn stream(&self, request: &LlmRequest) -> Result<LlmStream, LlmError> {
        let (events, permit) = self.run(|| self.inner.stream(request)).await?;
        Ok(guarded(
            events,
            permit,
            self.config.timeout,
            Arc::clone(&self.stats),
        ))
    }
}

struct Guarded {
    events: LlmStream,
    permit: Option<Permit>,
    idle: Duration,
    stats: Arc<LlmStats>,
}

/// Forwards `events` until `Done` or the first error, settling the breaker permit with the
/// outcome and failing with [`LlmError::Timeout`] after `idle` without an event.
fn guarded(events: LlmStream, permit: Permit, idle: Duration, stats: Arc<LlmStats>) -> LlmStream {
    let state = Guarded {
        events,
        permit: Some(permit),
        idle,
        stats,
    };
    stream::unfold(state, |mut st| async move {
        let permit = st.permit.take()?;
        let event = match tokio::time::timeout(st.idle, st.events.next()).await {
            Err(_) => Err(LlmError::Timeout),
            Ok(None) => Err(LlmError::upstream(
                UpstreamKind::Interrupted,
                "stream ended without a final answer",
            )),
            Ok(Some(event)) => event,
        };
        match &event {
            Ok(StreamEvent::Delta(_)) => st.permit = Some(permit),
            Ok(StreamEvent::Done(response)) => {
                st.stats.tokens(response.tokens_in, response.tokens_out);
                permit.success();
            }
            Err(error) => permit.settle_error(error),
        }
        Some((event, st))
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPEN: Duration = Duration::from_secs(30);

    #[test]
    fn breaker_opens_after_consecutive_failures_only() {
        let t0 = Instant::now();
        let mut core = BreakerCore::new(3, OPEN);
        for _ in 0..2 {
            assert_eq!(core.acquire(t0), Ok(false));
            core.failure(t0);
        }
        core.success(); // a success resets the count
        for _ in 0..2 {
            core.failure(t0);
        }
        assert_eq!(core.state(t0), CircuitState::Closed);
        core.failure(t0);
        assert_eq!(core.state(t0), CircuitState::Open);
        assert_eq!(core.acquire(t0 + OPEN / 2), Err(LlmError::CircuitOpen));
    }

    #[test]
    fn half_open_lets_one_trial_through_and_its_outcome_decides() {
        let t0 = Instant::now();
        let mut core = BreakerCore::new(1, OPEN);
        core.failure(t0);
        let later = t0 + OPEN;
        assert_eq!(core.state(later), CircuitState::HalfOpen);
        assert_eq!(core.acquire(later), Ok(true));
        assert_eq!(
            core.acquire(later),
            Err(LlmError::CircuitOpen),
            "one trial at a time"
        );

        // The trial fails: open again for a full period.
        core.failure(later);
        assert_eq!(core.state(later + OPEN / 2), CircuitState::Open);
        assert_eq!(core.acquire(later + OPEN / 2), Err(LlmError::CircuitOpen));

        // The next trial succeeds: closed.
        let again = later + OPEN;
        assert_eq!(core.acquire(again), Ok(true));
        core.success();
        assert_eq!(core.state(again), CircuitState::Closed);
        assert_eq!(core.acquire(again), Ok(false));
    }

    #[test]
    fn an_abandoned_trial_frees_the_slot() {
        let t0 = Instant::now();
        let mut core = BreakerCore::new(1, OPEN);
        core.failure(t0);
        assert_eq!(core.acquire(t0 + OPEN), Ok(true));
        core.release_trial();
        assert_eq!(core.acquire(t0 + OPEN), Ok(true));
    }

    #[test]
    fn permits_settle_the_shared_breaker() {
        let breaker = Arc::new(CircuitBreaker::new(2, OPEN));
        breaker
            .permit()
            .expect("closed")
            .settle_error(&LlmError::Timeout);
        breaker
            .permit()
            .expect("closed")
            .settle_error(&LlmError::upstream(UpstreamKind::Status(400), "bad"));
        breaker
            .permit()
            .expect("closed")
            .settle_error(&LlmError::upstream(UpstreamKind::Status(503), "down"));
        assert_eq!(
            breaker.state(),
            CircuitState::Closed,
            "a 4xx reset the count"
        );
        breaker
            .permit()
            .expect("closed")
            .settle_error(&LlmError::upstream(UpstreamKind::Connection, "refused"));
        assert_eq!(breaker.state(), CircuitState::Open);
        assert!(matches!(breaker.permit(), Err(LlmError::CircuitOpen)));
    }

    #[test]
    fn backoff_doubles_within_bounds_and_caps() {
        let base = Duration::from_millis(100);
        let max = Duration::from_secs(2);
        for retry in 0..40 {
            let exponential = base
                .saturating_mul(2u32.saturating_pow(retry.min(30)))
                .min(max);
            for jitter in [0.0, 0.25, 0.5, 0.999, 1.0] {
                let delay = backoff_delay(retry, base, max, jitter);
                assert!(delay >= exponential / 2, "retry {retry}: {delay:?}");
                assert!(delay <= exponential, "retry {retry}: {delay:?}");
                assert!(delay <= max);
            }
        }
        assert_eq!(backoff_delay(0, base, max, 0.0), Duration::from_millis(50));
        assert_eq!(backoff_delay(0, base, max, 1.0), Duration::from_millis(100));
        assert_eq!(backoff_delay(3, base, max, 1.0), Duration::from_millis(800));
        assert_eq!(backoff_delay(10, base, max, 1.0), max);
        // Out-of-range jitter is clamped.
        assert_eq!(backoff_delay(1, base, max, 7.0), Duration::from_millis(200));
    }
}
