//! The Redis flight lock: one holder per key across instances, released only by its holder,
//! and a lease that ends a dead holder's claim by itself.

mod common;

use std::time::Duration;

use ainative_adapters_redis::RedisFlightLock;
use ainative_ports::FlightLock;
use ainative_test_support::{wait_until, RedisPrefix};

#[tokio::test]
async fn one_holder_at_a_time_across_instances() {
    let space = RedisPrefix::new().await;
    let a = RedisFlightLock::new(common::pool(&space).await);
    let b = RedisFlightLock::new(common::pool(&space).await);
    let lease = Duration::from_secs(30);

    assert!(a.try_claim("k", "a", lease).await.expect("claim"));
    assert!(!b.try_claim("k", "b", lease).await.expect("claim"));
    assert!(!a.try_claim("k", "a2", lease).await.expect("claim"));
    assert!(
        b.try_claim("other", "b", lease).await.expect("claim"),
        "keys are independent"
    );

    // Only the holder can release.
    b.release("k", "b").await.expect("release");
    assert!(!b.try_claim("k", "b", lease).await.expect("claim"));
    a.release("k", "a").await.expect("release");
    assert!(b.try_claim("k", "b", lease).await.expect("claim"));
    let mut keys = space.keys().await;
    keys.sort();
    assert_eq!(
        keys,
        vec![
            format!("{}fl:k", space.prefix()),
            format!("{}fl:other", space.prefix())
        ],
        "claims live under the prefix"
    );
}

#[tokio::test]
async fn a_claim_ends_with_its_lease() {
    let space = RedisPrefix::new().await;
    let lock = RedisFlightLock::new(common::pool(&space).await);
    assert!(lock
        .try_claim("k", "dead", Duration::from_millis(200))
        .await
        .expect("claim"));
    assert!(!lock
        .try_claim("k", "live", Duration::from_secs(30))
        .await
        .expect("claim"));
    wait_until(Duration::from_secs(5), "the lease to run out", || async {
        lock.try_claim("k", "live", Duration::from_secs(30))
            .await
            .expect("claim")
    })
    .await;
    // The late release of the dead holder leaves the new claim alone.
    lock.release("k", "dead").await.expect("release");
    assert!(!lock
        .try_claim("k", "third", Duration::from_secs(30))
        .await
        .expect("claim"));
}
