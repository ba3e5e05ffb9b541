//! A short-lived in-process cache of users, so the authenticated hot path (`/auth/me`) does
//! not query the database on every request (SPEC §8).
//!
//! Safety does not depend on it: a deactivated user or changed role ends the user's
//! sessions, and revocation is checked before the cache is consulted. Writes made through
//! this instance invalidate at once; another instance's profile change shows within the TTL.

use std::time::Duration;

use ainative_domain::User;
use moka::future::Cache;
use uuid::Uuid;

/// Users by id, for a few seconds.
#[derive(Clone)]
pub struct UserCache {
    users: Cache<Uuid, User>,
}

impl UserCache {
    /// A cache keeping entries for `ttl`, at most `capacity` of them.
    pub fn new(ttl: Duration, capacity: u64) -> Self {
        Self {
            users: Cache::builder()
                .time_to_live(ttl)
                .max_capacity(capacity)
                .build(),
        }
    }

    /// The cached user, if fresh.
    pub async fn get(&self, id: &Uuid) -> Option<User> {
        self.users.get(id).await
    }

    /// Remembers a user.
    pub async fn put(&self, user: User) {
        self.users.insert(user.id, user).await;
    }

    /// Forgets a user after a change.
    pub async fn invalidate(&self, id: &Uuid) {
        self.users.invalidate(id).await;
    }
}

impl Default for UserCache {
    fn default() -> Self {
        Self::new(Duration::from_secs(5), 100_000)
    }
}

impl std::fmt::Debug for UserCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserCache")
            .field("entries", &self.users.entry_count())
            .finish()
    }
}
