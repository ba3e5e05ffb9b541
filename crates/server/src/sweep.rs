//! The periodic sweep of expired one-time secrets: OAuth flows and login codes, account
//! tokens. Saves sweep their own table already; this covers quiet times, so expired rows
//! never stay for long. Every instance with workers runs it: the deletes are idempotent, so
//! several instances sweeping costs a few cheap statements and needs no coordination.

use std::sync::Arc;
use std::time::Duration;

use ainative_ports::{AccountTokenRepository, Clock, OAuthStore};
use tokio::sync::watch;

/// How often the sweep runs.
pub const SWEEP_EVERY: Duration = Duration::from_secs(600);

/// What the sweep deletes from.
#[derive(Clone)]
pub struct SweepTargets {
    /// OAuth flows and login codes.
    pub oauth: Arc<dyn OAuthStore>,
    /// Verification and reset tokens.
    pub account_tokens: Arc<dyn AccountTokenRepository>,
    /// The time expiry is compared with.
    pub clock: Arc<dyn Clock>,
}

impl SweepTargets {
    /// Deletes what expired; failures are logged (the next sweep tries again).
    pub async fn sweep_once(&self) -> u64 {
        let now = self.clock.now();
        let mut removed = 0;
        match self.oauth.purge_expired(now).await {
            Ok(n) => removed += n,
            Err(err) => tracing::warn!(error = %err, "sweeping expired OAuth flows failed"),
        }
        match self.account_tokens.purge_expired(now).await {
            Ok(n) => removed += n,
            Err(err) => tracing::warn!(error = %err, "sweeping expired account tokens failed"),
        }
        if removed > 0 {
            tracing::debug!(removed, "expired one-time secrets swept");
        }
        removed
    }

    /// Sweeps at once, then every `every`, until `stop` turns true.
    pub async fn run(self, every: Duration, mut stop: watch::Receiver<bool>) {
        loop {
            self.sweep_once().await;
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                _ = stop.wait_for(|stop| *stop) => return,
            }
        }
    }
}
