//! The fallback of material progress: the database, which the status rows live in anyway.

use std::sync::Arc;

use ainative_domain::{Progress, Stage};
use ainative_ports::{MaterialProgress, PortResult};
use async_trait::async_trait;
use uuid::Uuid;

use super::Fallback;
use crate::redis::RedisMaterialProgress;

#[async_trait]
impl MaterialProgress for Fallback<RedisMaterialProgress, Arc<dyn MaterialProgress>> {
    async fn report(&self, id: Uuid, stage: Stage, progress: Progress) -> PortResult<()> {
        self.route(
            "progress report",
            self.redis.report(id, stage, progress),
            self.memory.report(id, stage, progress),
        )
        .await
    }

    async fn read(&self, id: Uuid) -> PortResult<Vec<(Stage, Progress)>> {
        self.route("progress read", self.redis.read(id), self.memory.read(id))
            .await
    }
}
