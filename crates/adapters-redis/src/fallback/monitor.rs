//! [`RedisMonitor`]: whether Redis is in use right now, and the way back to it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use ainative_ports::{PortResult, SharedStateHealth, SharedStateStatus};
use async_trait::async_trait;

use crate::redis::RedisPool;

/// How often Redis is probed while degraded. With the default 250 ms timeout, Redis is back
/// in use well within the SPEC's five seconds of its return.
pub const PROBE_INTERVAL: Duration = Duration::from_millis(500);

/// The mode shared by every Redis-backed port of an instance: *healthy* (use Redis) or
/// *degraded* (Redis failed; use the in-process fallbacks).
///
/// - The first failed Redis call switches to degraded: it is logged once (`warn`), counted
///   in [`Self::degradations`], every open connection is dropped, and a background task
///   probes Redis (`PING`) every [`PROBE_INTERVAL`]. While degraded the decorators go
///   straight to memory, without paying the Redis timeout on each request.
/// - The first successful probe switches back to healthy: logged once (`info`), counted in
///   [`Self::recoveries`].
/// - [`Self::fallback_operations`] counts the calls served in process instead of by Redis.
/// - As [`SharedStateHealth`], it probes Redis (one `PING`, bounded by the timeout) and
///   reports `{backend: "redis", status: "healthy", latency_ms}` or, when the probe fails,
///   `{backend: "memory", status: "degraded", latency_ms: None}`; the probe also updates the
///   mode.
///
/// The counters are for the metrics endpoint (monotonic, read with relaxed ordering).
pub struct RedisMonitor {
    pool: RedisPool,
    /// A handle on itself, for the background probe (which must not keep it alive).
    me: Weak<RedisMonitor>,
    degraded: AtomicBool,
    probing: AtomicBool,
    degradations: AtomicU64,
    recoveries: AtomicU64,
    fallbacks: AtomicU64,
}

impl RedisMonitor {
    /// A monitor of `pool`, starting healthy (call [`Self::probe`] to learn the truth).
    pub fn new(pool: RedisPool) -> Arc<Self> {
        Arc::new_cyclic(|me| Self {
            pool,
            me: me.clone(),
            degraded: AtomicBool::new(false),
            probing: AtomicBool::new(false),
            degradations: AtomicU64::new(0),
            recoveries: AtomicU64::new(0),
            fallbacks: AtomicU64::new(0),
        })
    }

    /// The pool whose health this monitor tracks.
    pub fn pool(&self) -> &RedisPool {
        &self.pool
    }

    /// True while the in-process fallbacks are in use.
    pub fn is_degraded(&self) -> bool {
        self.degraded.load(Ordering::Acquire)
    }

    /// How many times Redis was found unavailable (switches from healthy to degraded).
    pub fn degradations(&self) -> u64 {
        self.degradations.load(Ordering::Relaxed)
    }

    /// How many times Redis came back (switches from degraded to healthy).
    pub fn recoveries(&self) -> u64 {
        self.recoveries.load(Ordering::Relaxed)
    }

    /// How many port calls were answered in process because Redis was unavailable.
    pub fn fallback_operations(&self) -> u64 {
        self.fallbacks.load(Ordering::Relaxed)
    }

    /// Pings Redis once (bounded by the timeout) and sets the mode from the answer: the
    /// round trip when Redis answered.
    pub async fn probe(&self) -> PortResult<Duration> {
        match self.pool.ping().await {
            Ok(latency) => {
                self.recover();
                Ok(latency)
            }
            Err(err) => {
                self.degrade("ping", &err);
                Err(err)
            }
        }
    }

    /// Counts one call answered in process.
    pub(crate) fn count_fallback(&self) {
        self.fallbacks.fetch_add(1, Ordering::Relaxed);
    }

    /// Switches to degraded (logging and counting only the switch) and makes sure a
    /// background probe is running.
    pub(crate) fn degrade(&self, operation: &str, err: &dyn std::fmt::Display) {
        if !self.degraded.swap(true, Ordering::AcqRel) {
            self.degradations.fetch_add(1, Ordering::Relaxed);
            self.pool.discard_all();
            tracing::warn!(
                operation,
                error = %err,
                "redis unavailable; using in-process rate limits, revocations and cache"
            );
        }
        self.start_probing();
    }

    fn recover(&self) {
        if self.degraded.swap(false, Ordering::AcqRel) {
            self.recoveries.fetch_add(1, Ordering::Relaxed);
            tracing::info!("redis is back; shared rate limits, revocations and cache restored");
        }
    }

    /// Makes sure a background probe runs while degraded (one atomic load when it does),
    /// in case the task that ran it was lost with its runtime.
    pub(crate) fn ensure_probing(&self) {
        if !self.probing.load(Ordering::Acquire) {
            self.start_probing();
        }
    }

    /// Spawns the background probe unless one is running (or no Tokio runtime is current).
    fn start_probing(&self) {
        if self.probing.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.probing.store(false, Ordering::Release);
            return;
        };
        runtime.spawn(probe_until_healthy(self.me.clone()));
    }
}

/// Probes every [`PROBE_INTERVAL`] until Redis answers or the monitor is dropped.
async fn probe_until_healthy(monitor: Weak<RedisMonitor>) {
    let guard = ProbingFlag(monitor.clone());
    loop {
        tokio::time::sleep(PROBE_INTERVAL).await;
        let Some(monitor) = monitor.upgrade() else {
            return;
        };
        if !monitor.is_degraded() || monitor.pool.ping().await.is_ok() {
            monitor.recover();
            break;
        }
    }
    drop(guard);
    // A failure between the successful ping and the flag's reset found a probe still
    // running and started none: start one now.
    if let Some(monitor) = monitor.upgrade() {
        if monitor.is_degraded() {
            monitor.start_probing();
        }
    }
}

/// Clears the monitor's `probing` flag when the probe ends, even when its task is dropped
/// (runtime shut down), so that a later degradation starts a new probe.
struct ProbingFlag(Weak<RedisMonitor>);

impl Drop for ProbingFlag {
    fn drop(&mut self) {
        if let Some(monitor) = self.0.upgrade() {
            monitor.probing.store(false, Ordering::Release);
        }
    }
}

impl std::fmt::Debug for RedisMonitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisMonitor")
            .field("degraded", &self.is_degraded())
            .field("degradations", &self.degradations())
            .field("recoveries", &self.recoveries())
            .field("fallback_operations", &self.fallback_operations())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl SharedStateHealth for RedisMonitor {
    async fn check(&self) -> SharedStateStatus {
        match self.probe().await {
            Ok(latency) => SharedStateStatus {
                backend: "redis",
                status: "healthy",
                latency_ms: Some(latency.as_secs_f64() * 1_000.0),
            },
            Err(_) => SharedStateStatus {
                backend: "memory",
                status: "degraded",
                latency_ms: None,
            },
        }
    }
}
