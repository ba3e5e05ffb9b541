//! The fallback flight lock: while Redis is unreachable, every instance calls the provider
//! for itself (its own flight map still joins identical calls within the instance), over
//! the in-process cache the fallback response cache uses then.

use std::time::Duration;

use ainative_ports::{Claim, FlightLock, PortResult};
use async_trait::async_trait;

use super::Fallback;

#[async_trait]
impl<R, M> FlightLock for Fallback<R, M>
where
    R: FlightLock,
    M: FlightLock,
{
    async fn claim(&self, key: &str, holder: &str, lease: Duration) -> PortResult<Claim> {
        self.route(
            "flight claim",
            self.redis.claim(key, holder, lease),
            self.memory.claim(key, holder, lease),
        )
        .await
    }

    async fn land(
        &self,
        key: &str,
        holder: &str,
        answer: Option<String>,
        ttl: Duration,
    ) -> PortResult<()> {
        self.route(
            "flight land",
            self.redis.land(key, holder, answer.clone(), ttl),
            self.memory.land(key, holder, answer, ttl),
        )
        .await
    }
}
