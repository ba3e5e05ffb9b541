//! The fallback flight lock: while Redis is unreachable, every instance calls the provider
//! for itself (its own flight map still joins identical calls within the instance).

use std::time::Duration;

use ainative_ports::{FlightLock, PortResult};
use async_trait::async_trait;

use super::Fallback;

#[async_trait]
impl<R, M> FlightLock for Fallback<R, M>
where
    R: FlightLock,
    M: FlightLock,
{
    async fn try_claim(&self, key: &str, holder: &str, lease: Duration) -> PortResult<bool> {
        self.route(
            "flight claim",
            self.redis.try_claim(key, holder, lease),
            self.memory.try_claim(key, holder, lease),
        )
        .await
    }

    async fn release(&self, key: &str, holder: &str) -> PortResult<()> {
        self.route(
            "flight release",
            self.redis.release(key, holder),
            self.memory.release(key, holder),
        )
        .await
    }
}
