//! The fallback revocation list: Redis mirrors, memory guarantees.

use ainative_ports::{PortResult, RevocationList};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Fallback;

/// Revocations are written to both lists and memory is always consulted, so a revocation
/// holds while Redis is down and after it returns (SPEC §4, §9):
///
/// - `revoke_session` records in memory first (it cannot fail), then in Redis while healthy;
///   a Redis failure only degrades. The server's revocation sync copies every revocation
///   from the database into this list, so the memory side is complete on every instance.
/// - `is_session_revoked` reads memory only. Memory is complete (local writes at once, other
///   instances' revocations within one sync interval, 500 ms), and keeping the check off
///   Redis leaves every authenticated request with at most one Redis round trip, the rate
///   limiter's (SPEC §8). It never fails because of Redis.
#[async_trait]
impl<R, M> RevocationList for Fallback<R, M>
where
    R: RevocationList,
    M: RevocationList,
{
    async fn revoke_session(&self, session_id: Uuid, until: DateTime<Utc>) -> PortResult<()> {
        self.memory.revoke_session(session_id, until).await?;
        self.route(
            "revoke session",
            self.redis.revoke_session(session_id, until),
            async { Ok(()) },
        )
        .await
    }

    async fn is_session_revoked(&self, session_id: Uuid) -> PortResult<bool> {
        self.memory.is_session_revoked(session_id).await
    }
}
