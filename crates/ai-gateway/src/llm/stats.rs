//! Counters of the language-model layer, read by the metrics exporter.

use std::sync::atomic::{AtomicU64, Ordering};

use ainative_ports::LlmError;

/// Live counters, shared by the [`LlmClient`](super::LlmClient) and its
/// [`ResilientProvider`](super::ResilientProvider). Relaxed atomics: each value is exact, a
/// snapshot is not a consistent cut across values.
#[derive(Debug, Default)]
pub struct LlmStats {
    calls: AtomicU64,
    cache_hits: AtomicU64,
    cache_misses: AtomicU64,
    cache_errors: AtomicU64,
    coalesced_waiters: AtomicU64,
    provider_attempts: AtomicU64,
    retries: AtomicU64,
    failures_timeout: AtomicU64,
    failures_upstream: AtomicU64,
    failures_circuit_open: AtomicU64,
    tokens_in: AtomicU64,
    tokens_out: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct LlmStatsSnapshot {
    /// Completions asked of the language model (`complete` and `stream`), cached or not.
    pub calls: u64,
    /// Calls answered from the response cache.
    pub cache_hits: u64,
    /// Calls not found in the cache (or that bypassed it) that called the provider
    /// themselves; calls that joined an identical call in flight are `coalesced_waiters`.
    pub cache_misses: u64,
    /// Cache reads or writes that failed (logged and ignored).
    pub cache_errors: u64,
    /// Calls that joined an identical in-flight call instead of calling the provider; with
    /// `cache_hits` and `cache_misses` they partition the completions.
    pub coalesced_waiters: u64,
    /// Requests sent to the provider, retries included.
    pub provider_attempts: u64,
    /// Of those, retries after a retryable failure.
    pub retries: u64,
    /// Calls that failed with [`LlmError::Timeout`].
    pub failures_timeout: u64,
    /// Calls that failed with [`LlmError::Upstream`].
    pub failures_upstream: u64,
    /// Calls refused by the open circuit breaker.
    pub failures_circuit_open: u64,
    /// Prompt tokens consumed upstream, once per provider call (cache hits and coalesced
    /// waiters consume none).
    pub tokens_in: u64,
    /// Completion tokens produced upstream.
    pub tokens_out: u64,
}

impl LlmStats {
    /// Fresh counters at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of the counters.
    pub fn snapshot(&self) -> LlmStatsSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        LlmStatsSnapshot {
            calls: get(&self.calls),
            cache_hits: get(&self.cache_hits),
            cache_misses: get(&self.cache_misses),
            cache_errors: get(&self.cache_errors),
            coalesced_waiters: get(&self.coalesced_waiters),
            provider_attempts: get(&self.provider_attempts),
            retries: get(&self.retries),
            failures_timeout: get(&self.failures_timeout),
            failures_upstream: get(&self.failures_upstream),
            failures_circuit_open: get(&self.failures_circuit_open),
            tokens_in: get(&self.tokens_in),
            tokens_out: get(&self.tokens_out),
        }
    }

    pub(crate) fn call(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn cache_hit(&self) {
        self.cache_hits.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn cache_miss(&self) {
        self.cache_misses.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn cache_error(&self) {
        self.cache_errors.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn coalesced(&self) {
        self.coalesced_waiters.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn attempt(&self, retry: bool) {
        self.provider_attempts.fetch_add(1, Ordering::Relaxed);
        if retry {
            self.retries.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn failure(&self, error: &LlmError) {
        let counter = match error {
            LlmError::Timeout => &self.failures_timeout,
            LlmError::Upstream { .. } => &self.failures_upstream,
            LlmError::CircuitOpen => &self.failures_circuit_open,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn tokens(&self, tokens_in: u32, tokens_out: u32) {
        self.tokens_in
            .fetch_add(u64::from(tokens_in), Ordering::Relaxed);
        self.tokens_out
            .fetch_add(u64::from(tokens_out), Ordering::Relaxed);
    }
}
