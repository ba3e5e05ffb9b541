//! [`InMemoryRevocationList`]: the revocation fast path held in this process.

use std::collections::HashMap;
use std::sync::Arc;

use ainative_ports::{Clock, PortResult, RevocationList, SystemClock};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parking_lot::RwLock;
use uuid::Uuid;

/// Below this many entries the map is never swept.
const MIN_SWEEP_AT: usize = 1_024;

/// Revoked session ids with the instant their revocation ends.
///
/// - A revocation is visible to the next check on this instance, with no delay.
/// - A session is revoked while its `until` is in the future by the [`Clock`] given at
///   construction (the system clock by default); at `until` it is no longer reported.
/// - Revoking a session again keeps the later `until`: a revocation is never shortened.
///   Revoking with an `until` already past records nothing.
/// - No unexpired revocation is ever dropped for space: there is no capacity bound. Expired
///   entries are swept on writes once the map has doubled since the last sweep, so memory is
///   bounded by the number of sessions revoked within a token lifetime.
/// - Checks never fail: this list is never `Unavailable`.
/// - It holds per process only and is empty after a restart; the durable record is the
///   session repository, from which callers repopulate it.
pub struct InMemoryRevocationList {
    clock: Arc<dyn Clock>,
    state: RwLock<State>,
}

#[derive(Default)]
struct State {
    until: HashMap<Uuid, DateTime<Utc>>,
    /// Sweep expired entries once the map reaches this size.
    sweep_at: usize,
}

impl State {
    /// Drops expired entries, at most once per doubling of the map.
    fn sweep_if_due(&mut self, now: DateTime<Utc>) {
        if self.until.len() < self.sweep_at.max(MIN_SWEEP_AT) {
            return;
        }
        self.until.retain(|_, until| *until > now);
        self.sweep_at = self.until.len().saturating_mul(2);
    }
}

impl InMemoryRevocationList {
    /// An empty list on the system clock.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// An empty list reading the time from `clock`.
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            state: RwLock::new(State::default()),
        }
    }
}

impl Default for InMemoryRevocationList {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for InMemoryRevocationList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemoryRevocationList")
            .field("entries", &self.state.read().until.len())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl RevocationList for InMemoryRevocationList {
    async fn revoke_session(&self, session_id: Uuid, until: DateTime<Utc>) -> PortResult<()> {
        let now = self.clock.now();
        if until <= now {
            return Ok(());
        }
        let mut state = self.state.write();
        state.sweep_if_due(now);
        state
            .until
            .entry(session_id)
            .and_modify(|existing| *existing = (*existing).max(until))
            .or_insert(until);
        Ok(())
    }

    async fn is_session_revoked(&self, session_id: Uuid) -> PortResult<bool> {
        let now = self.clock.now();
        Ok(self
            .state
            .read()
            .until
            .get(&session_id)
            .is_some_and(|until| *until > now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;
    use parking_lot::Mutex;

    /// A clock that moves only when told to.
    struct ManualClock(Mutex<DateTime<Utc>>);

    impl ManualClock {
        fn advance(&self, by: TimeDelta) {
            *self.0.lock() += by;
        }
    }

    impl Clock for ManualClock {
        fn now(&self) -> DateTime<Utc> {
            *self.0.lock()
        }
    }

    fn list() -> (Arc<ManualClock>, InMemoryRevocationList) {
        let clock = Arc::new(ManualClock(Mutex::new(Utc::now())));
        (clock.clone(), InMemoryRevocationList::with_clock(clock))
    }

    #[tokio::test]
    async fn revoked_until_exactly_until() {
        let (clock, list) = list();
        let session = Uuid::new_v4();
        let until = clock.now() + TimeDelta::seconds(30);
        list.revoke_session(session, until).await.expect("revoke");
        clock.advance(TimeDelta::seconds(30) - TimeDelta::nanoseconds(1));
        assert!(list.is_session_revoked(session).await.expect("check"));
        clock.advance(TimeDelta::nanoseconds(1));
        assert!(!list.is_session_revoked(session).await.expect("check"));
    }

    #[tokio::test]
    async fn a_revocation_is_extended_never_shortened() {
        let (clock, list) = list();
        let session = Uuid::new_v4();
        let now = clock.now();
        list.revoke_session(session, now + TimeDelta::seconds(10))
            .await
            .expect("revoke");
        list.revoke_session(session, now + TimeDelta::seconds(60))
            .await
            .expect("revoke");
        list.revoke_session(session, now + TimeDelta::seconds(5))
            .await
            .expect("revoke");
        clock.advance(TimeDelta::seconds(59));
        assert!(list.is_session_revoked(session).await.expect("check"));
    }

    #[tokio::test]
    async fn past_revocations_are_not_recorded() {
        let (clock, list) = list();
        list.revoke_session(Uuid::new_v4(), clock.now())
            .await
            .expect("revoke");
        assert!(list.state.read().until.is_empty());
    }

    #[tokio::test]
    async fn expired_entries_are_swept_but_live_ones_kept() {
        let (clock, list) = list();
        let live = Uuid::new_v4();
        list.revoke_session(live, clock.now() + TimeDelta::hours(1))
            .await
            .expect("revoke");
        // One entry short of the sweep threshold, so the write below sweeps.
        for _ in 1..MIN_SWEEP_AT {
            list.revoke_session(Uuid::new_v4(), clock.now() + TimeDelta::minutes(1))
                .await
                .expect("revoke");
        }
        clock.advance(TimeDelta::minutes(1));
        let trigger = Uuid::new_v4();
        list.revoke_session(trigger, clock.now() + TimeDelta::minutes(1))
            .await
            .expect("revoke");
        assert_eq!(list.state.read().until.len(), 2);
        assert!(list.is_session_revoked(live).await.expect("check"));
        assert!(list.is_session_revoked(trigger).await.expect("check"));
    }
}
