use std::sync::Arc;
use std::time::Duration;

use ainative_ports::{AuthSessionRepository, Clock, PortError, RevocationList};
use chrono::{DateTime, Utc};

/// Keeps the fast [`RevocationList`] in step with the durable session store, so a revocation
/// made by any instance is enforced by every instance within one poll interval, and holds
/// across restarts and cache loss.
pub struct RevocationSync {
    sessions: Arc<dyn AuthSessionRepository>,
    list: Arc<dyn RevocationList>,
    clock: Arc<dyn Clock>,
    interval: Duration,
}

/// Instances' clocks may differ; each poll re-reads this much of the past.
const OVERLAP: chrono::Duration = chrono::Duration::seconds(30);

impl RevocationSync {
    /// A sync polling every `interval` (500 ms keeps the SPEC's one-second bound).
    pub fn new(
        sessions: Arc<dyn AuthSessionRepository>,
        list: Arc<dyn RevocationList>,
        clock: Arc<dyn Clock>,
        interval: Duration,
    ) -> Self {
        Self {
            sessions,
            list,
            clock,
            interval,
        }
    }

    /// Copies revocations made at or after `since` (all live ones when `None`) into the fast
    /// list. Returns how many were copied.
    pub async fn sync(&self, since: Option<DateTime<Utc>>) -> Result<usize, PortError> {
        let now = self.clock.now();
        let revoked = self.sessions.revoked_sessions(since, now).await?;
        for session in &revoked {
            self.list
                .revoke_session(session.id, session.expires_at)
                .await?;
        }
        Ok(revoked.len())
    }

    /// Polls until `shutdown` completes. Failures are logged and retried; what is already in
    /// the fast list stays enforced meanwhile.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut since = Some(self.clock.now() - OVERLAP);
        let mut ticker = tokio::time::interval(self.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                _ = ticker.tick() => {
                    let started = self.clock.now();
                    match self.sync(since).await {
                        Ok(_) => since = Some(started - OVERLAP),
                        Err(err) => tracing::warn!(error = %err, "revocation sync failed; will retry"),
                    }
                }
            }
        }
    }
}
