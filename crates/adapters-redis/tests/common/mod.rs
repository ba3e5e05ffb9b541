//! The adapter's own glue to `ainative-test-support`: settings, pools and shared state on
//! the shared Redis under a test's key prefix.

#![allow(dead_code)] // Each test binary uses a different subset.

use ainative_adapters_redis::{RedisPool, RedisSettings, SharedState};
use ainative_test_support::{redis_url, RedisPrefix};
use uuid::Uuid;

/// Settings for the shared Redis under `space`'s prefix.
pub fn settings(space: &RedisPrefix) -> RedisSettings {
    RedisSettings::new(space.url()).with_key_prefix(space.prefix())
}

/// A key prefix for a private `redis-server` (killed with the test, so nothing to clean).
pub fn unique_prefix() -> String {
    format!("ainative-test:private:{}:", Uuid::new_v4().simple())
}

/// A pool on the shared Redis under `space`'s prefix, checked to answer.
pub async fn pool(space: &RedisPrefix) -> RedisPool {
    pool_with(&settings(space)).await
}

/// A pool with `settings`, checked to answer. Panics, loudly, when Redis does not answer:
/// these tests never skip.
pub async fn pool_with(settings: &RedisSettings) -> RedisPool {
    let pool = RedisPool::connect(settings).expect("valid Redis settings");
    if let Err(err) = pool.ping().await {
        panic!(
            "Redis is required by these tests and did not answer at {} ({err}). Start one \
             (`redis-server`) or point TEST_REDIS_URL at one.",
            redis_url()
        );
    }
    pool
}

/// The decorated ports on the shared Redis under `space`'s prefix, checked to be healthy.
pub async fn shared_state(space: &RedisPrefix) -> SharedState {
    let shared = SharedState::redis(&settings(space), 1_000)
        .await
        .expect("valid Redis settings");
    let monitor = shared.monitor.as_ref().expect("a Redis monitor");
    assert!(
        !monitor.is_degraded(),
        "Redis is required by these tests and did not answer at {}",
        redis_url()
    );
    shared
}

/// [`pool`] under a fresh prefix that outlives the call, for the contract macros (which take
/// a bare port and so cannot hold the guard): the keys expire by themselves, and a later run
/// sweeps what is left.
pub async fn kept_pool() -> RedisPool {
    let space = RedisPrefix::new().await;
    let pool = pool(&space).await;
    space.keep();
    pool
}

/// [`shared_state`] under a fresh prefix that outlives the call (see [`kept_pool`]).
pub async fn kept_shared_state() -> SharedState {
    let space = RedisPrefix::new().await;
    let shared = shared_state(&space).await;
    space.keep();
    shared
}
