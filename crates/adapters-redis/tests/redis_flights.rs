//! The Redis flight lock: one holder per key across instances, released only by its holder,
//! a lease that ends a dead holder's claim by itself, and the response cache looked at and
//! filled in the same steps as the claim and the release.

mod common;

use std::time::Duration;

use ainative_adapters_redis::{RedisFlightLock, RedisResponseCache};
use ainative_ports::{Claim, FlightLock, ResponseCache};
use ainative_test_support::{wait_until, RedisPrefix};

const LEASE: Duration = Duration::from_secs(30);
const TTL: Duration = Duration::from_secs(60);

#[tokio::test]
async fn one_holder_at_a_time_across_instances() {
    let space = RedisPrefix::new().await;
    let a = RedisFlightLock::new(common::pool(&space).await);
    let b = RedisFlightLock::new(common::pool(&space).await);

    assert_eq!(a.claim("k", "a", LEASE).await, Ok(Claim::Held));
    assert_eq!(b.claim("k", "b", LEASE).await, Ok(Claim::Taken));
    assert_eq!(a.claim("k", "a2", LEASE).await, Ok(Claim::Taken));
    assert_eq!(
        b.claim("other", "b", LEASE).await,
        Ok(Claim::Held),
        "keys are independent"
    );

    // Only the holder can release; landing without an answer caches nothing.
    b.land("k", "b", None, TTL).await.expect("land");
    assert_eq!(b.claim("k", "b", LEASE).await, Ok(Claim::Taken));
    a.land("k", "a", None, TTL).await.expect("land");
    assert_eq!(b.claim("k", "b", LEASE).await, Ok(Claim::Held));
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
async fn a_landed_answer_is_what_the_next_claims_and_the_cache_find() {
    let space = RedisPrefix::new().await;
    let pool = common::pool(&space).await;
    let a = RedisFlightLock::new(pool.clone());
    let b = RedisFlightLock::new(common::pool(&space).await);
    let cache = RedisResponseCache::new(pool);

    assert_eq!(a.claim("k", "a", LEASE).await, Ok(Claim::Held));
    assert_eq!(b.claim("k", "b", LEASE).await, Ok(Claim::Taken));
    a.land("k", "a", Some("{\"content\":\"ü\"}".to_owned()), TTL)
        .await
        .expect("land");
    let answered = Claim::Answered("{\"content\":\"ü\"}".to_owned());
    assert_eq!(b.claim("k", "b", LEASE).await, Ok(answered.clone()));
    assert_eq!(a.claim("k", "a", LEASE).await, Ok(answered));
    assert_eq!(
        cache.get("k").await,
        Ok(Some("{\"content\":\"ü\"}".to_owned()))
    );
    assert_eq!(
        space.keys().await,
        vec![format!("{}cache:k", space.prefix())],
        "the claim is gone and an answered claim takes none"
    );

    // An answer stored by a put is found by a claim too.
    cache.put("put", "stored", TTL).await.expect("put");
    assert_eq!(
        a.claim("put", "a", LEASE).await,
        Ok(Claim::Answered("stored".to_owned()))
    );
}

#[tokio::test]
async fn a_late_landing_stores_its_answer_but_leaves_the_new_claim_alone() {
    let space = RedisPrefix::new().await;
    let lock = RedisFlightLock::new(common::pool(&space).await);
    assert_eq!(
        lock.claim("k", "dead", Duration::from_millis(200)).await,
        Ok(Claim::Held)
    );
    assert_eq!(lock.claim("k", "live", LEASE).await, Ok(Claim::Taken));
    wait_until(Duration::from_secs(5), "the lease to run out", || async {
        lock.claim("k", "live", LEASE).await == Ok(Claim::Held)
    })
    .await;
    // The dead holder's release leaves the new claim alone.
    lock.land("k", "dead", None, TTL).await.expect("land");
    assert_eq!(lock.claim("k", "third", LEASE).await, Ok(Claim::Taken));
    lock.land("k", "dead", Some("late".to_owned()), TTL)
        .await
        .expect("land");
    assert_eq!(
        lock.claim("k", "third", LEASE).await,
        Ok(Claim::Answered("late".to_owned()))
    );
    // A zero time to live leaves nothing cached.
    lock.land("k", "live", Some("gone".to_owned()), Duration::ZERO)
        .await
        .expect("land");
    assert_eq!(lock.claim("k", "fourth", LEASE).await, Ok(Claim::Held));
}
