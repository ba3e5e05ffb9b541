//! Material progress in Redis: a hash per material with a 24 h expiry renewed by each
//! report, shared by instances; while Redis is down reports go to the database's port and
//! nothing fails.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ainative_adapters_redis::{RedisMaterialProgress, RedisSettings, SharedState};
use ainative_domain::{Progress, Stage};
use ainative_ports::{MaterialProgress, PortResult};
use ainative_test_support::{redis_keys, RedisPrefix, RedisServer};
use async_trait::async_trait;
use deadpool_redis::redis;
use uuid::Uuid;

#[tokio::test]
async fn reports_are_shared_and_expire_after_a_day() {
    let space = RedisPrefix::new().await;
    let settings = common::settings(&space);
    let writer = RedisMaterialProgress::new(common::pool_with(&settings).await);
    let reader = RedisMaterialProgress::new(common::pool_with(&settings).await);
    let id = Uuid::new_v4();
    assert_eq!(reader.read(id).await, Ok(Vec::new()));
    writer
        .report(id, Stage::Ingestion, Progress::new(1.0))
        .await
        .expect("report");
    writer
        .report(id, Stage::Quality, Progress::new(0.25))
        .await
        .expect("report");
    writer
        .report(id, Stage::Quality, Progress::new(0.5))
        .await
        .expect("report");
    assert_eq!(
        reader.read(id).await,
        Ok(vec![
            (Stage::Ingestion, Progress::new(1.0)),
            (Stage::Quality, Progress::new(0.5)),
        ])
    );
    let key = format!("{}progress:{id}", space.prefix());
    let ttl: i64 = redis::cmd("TTL")
        .arg(&key)
        .query_async(
            &mut redis::Client::open(space.url())
                .expect("url")
                .get_multiplexed_async_connection()
                .await
                .expect("connect"),
        )
        .await
        .expect("TTL");
    assert!((86_000..=86_400).contains(&ttl), "ttl {ttl}");
}

/// The database's progress, remembered.
#[derive(Default)]
struct Database(Mutex<Vec<(Uuid, Stage, Progress)>>);

#[async_trait]
impl MaterialProgress for Database {
    async fn report(&self, id: Uuid, stage: Stage, progress: Progress) -> PortResult<()> {
        self.0.lock().expect("lock").push((id, stage, progress));
        Ok(())
    }
    async fn read(&self, _id: Uuid) -> PortResult<Vec<(Stage, Progress)>> {
        Ok(Vec::new())
    }
}

#[tokio::test]
async fn while_redis_is_down_progress_goes_to_the_database() {
    let mut server = RedisServer::start().await;
    let prefix = common::unique_prefix();
    let settings = RedisSettings::new(server.url())
        .with_timeout(Duration::from_millis(250))
        .with_key_prefix(prefix.clone());
    let shared = SharedState::redis(&settings, 100).await.expect("settings");
    let database = Arc::new(Database::default());
    let progress = shared.material_progress(database.clone());
    let id = Uuid::new_v4();
    progress
        .report(id, Stage::Ingestion, Progress::new(0.5))
        .await
        .expect("report");
    assert!(database.0.lock().expect("lock").is_empty(), "Redis took it");
    assert_eq!(
        redis_keys(&server.addr(), &format!("{prefix}progress:"))
            .await
            .len(),
        1
    );
    server.kill();
    progress
        .report(id, Stage::Ingestion, Progress::new(0.75))
        .await
        .expect("no failure while Redis is down");
    assert_eq!(
        database.0.lock().expect("lock").as_slice(),
        [(id, Stage::Ingestion, Progress::new(0.75))]
    );
    assert_eq!(
        progress.read(id).await,
        Ok(Vec::new()),
        "read falls back too"
    );

    // Without Redis, the database's port is used as is.
    let memory = SharedState::in_memory(10).material_progress(database.clone());
    memory
        .report(id, Stage::Quality, Progress::new(0.1))
        .await
        .expect("report");
    assert_eq!(database.0.lock().expect("lock").len(), 2);
}
