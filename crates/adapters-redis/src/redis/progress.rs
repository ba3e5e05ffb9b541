//! [`RedisMaterialProgress`]: the progress of running material stages, shared by every
//! instance, for 24 hours.

use std::time::Duration;

use ainative_domain::{Progress, Stage};
use ainative_ports::{MaterialProgress, PortResult};
use async_trait::async_trait;
use deadpool_redis::redis;
use uuid::Uuid;

use super::RedisPool;

/// How long a material's progress is kept after its last report (SPEC §10.5: 24 h).
pub const PROGRESS_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// Progress in a hash `{prefix}progress:{material_id}` (field = stage, value = fraction),
/// whose expiry is renewed to 24 h by every report (`HSET` and `EXPIRE` in one `MULTI`).
#[derive(Debug, Clone)]
pub struct RedisMaterialProgress {
    pool: RedisPool,
}

impl RedisMaterialProgress {
    /// Progress on `pool`.
    pub fn new(pool: RedisPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl MaterialProgress for RedisMaterialProgress {
    #[tracing::instrument(name = "redis.progress.report", level = "debug", skip_all, fields(db.system = "redis"))]
    async fn report(&self, id: Uuid, stage: Stage, progress: Progress) -> PortResult<()> {
        let key = self.pool.key("progress", &id.to_string());
        let pipe = redis::pipe()
            .atomic()
            .hset(&key, stage.as_str(), progress.value())
            .ignore()
            .expire(&key, PROGRESS_TTL.as_secs() as i64)
            .ignore()
            .to_owned();
        self.pool
            .run("progress report", |mut conn| {
                let pipe = pipe.clone();
                async move { pipe.query_async::<()>(&mut conn).await }
            })
            .await
    }

    #[tracing::instrument(name = "redis.progress.read", level = "debug", skip_all, fields(db.system = "redis"))]
    async fn read(&self, id: Uuid) -> PortResult<Vec<(Stage, Progress)>> {
        let key = self.pool.key("progress", &id.to_string());
        let fields: Vec<(String, f32)> = self
            .pool
            .run("progress read", |mut conn| {
                let cmd = redis::cmd("HGETALL").arg(&key).to_owned();
                async move { cmd.query_async::<Vec<(String, f32)>>(&mut conn).await }
            })
            .await?;
        let mut progress: Vec<(Stage, Progress)> = fields
            .into_iter()
            .filter_map(|(stage, value)| Some((stage.parse().ok()?, Progress::new(value))))
            .collect();
        progress.sort_by_key(|(stage, _)| *stage);
        Ok(progress)
    }
}
