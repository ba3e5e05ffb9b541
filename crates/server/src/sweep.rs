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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use ainative_ports::{Cause, MockAccountTokenRepository, MockOAuthStore, PortError, SystemClock};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn sweeps_at_start_then_periodically_until_stopped() {
        let runs = Arc::new(AtomicU32::new(0));
        let mut oauth = MockOAuthStore::new();
        let counter = runs.clone();
        oauth.expect_purge_expired().returning(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
            Ok(2)
        });
        let mut tokens = MockAccountTokenRepository::new();
        // A failing table does not stop the other's sweep, nor the loop.
        tokens
            .expect_purge_expired()
            .returning(|_| Err(PortError::Unavailable(Cause::new("down"))));
        let targets = SweepTargets {
            oauth: Arc::new(oauth),
            account_tokens: Arc::new(tokens),
            clock: Arc::new(SystemClock),
        };
        assert_eq!(targets.sweep_once().await, 2);
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(targets.run(Duration::from_secs(60), stopped));
        // Paused clock: the sleeps elapse as soon as every task waits.
        tokio::time::sleep(Duration::from_secs(150)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 1 + 3, "at start, at 60 s and at 120 s");
        stop.send(true).expect("running");
        task.await.expect("stops");
    }
}
