//! Cases every dialect's store must pass that need more than the ports (its pool), for the
//! dialects' integration tests. The port contracts are in `ainative_ports::testkit`.

use std::time::Duration;

use ainative_ports::{DatabaseHealth, PortError, UserRepository};
use uuid::Uuid;

use crate::dialect::Dialect;
use crate::store::SqlStore;

/// `store` (not migrated) must have one connection at most and a short acquire timeout
/// (well under five seconds). With that connection held elsewhere, a probe and a port call each wait for the
/// acquire timeout and answer `Unavailable`, never hang; once it is back, both work again.
pub async fn an_exhausted_pool_is_unavailable_not_a_hang<D: Dialect>(store: SqlStore<D>) {
    let held = store
        .pool()
        .acquire()
        .await
        .expect("acquire the only connection");
    let pinged = tokio::time::timeout(Duration::from_secs(5), store.ping())
        .await
        .expect("ping must give up on its own");
    assert!(
        matches!(pinged, Err(PortError::Unavailable(_))),
        "{pinged:?}"
    );
    let found = tokio::time::timeout(Duration::from_secs(5), store.find_by_id(Uuid::new_v4()))
        .await
        .expect("a port call must give up on its own");
    assert!(matches!(found, Err(PortError::Unavailable(_))), "{found:?}");
    drop(held);
    store.ping().await.expect("ping after release");
    assert_eq!(store.migrations_applied().await, Ok(false));
}

/// `store` (migrated): a job enqueued with `enqueue_in` exists only if its transaction
/// commits, a duplicate unique key inside a transaction answers the first job, and
/// `wake_workers` wakes a waiter of `job_wakeup`.
pub async fn enqueue_in_follows_its_transaction<D: Dialect>(store: SqlStore<D>) {
    use ainative_ports::{JobQueue, NewJob};

    let at = chrono::Utc::now();
    let rolled_back = NewJob::new("report.build", serde_json::json!({"n": 1}), at);
    let mut tx = store.begin_write().await.expect("begin");
    let enqueued = crate::jobs::enqueue_in::<D>(&mut tx, &rolled_back)
        .await
        .expect("enqueue in tx");
    assert!(enqueued.created);
    drop(tx);
    assert_eq!(
        store.get(rolled_back.id).await,
        Err(PortError::NotFound),
        "a rolled-back enqueue leaves no job"
    );

    let wakeup = store.job_wakeup();
    let woken = wakeup.notified();
    tokio::pin!(woken);
    woken.as_mut().enable();

    let first = NewJob::new("report.build", serde_json::json!({"n": 2}), at).unique("r-1");
    let second = NewJob::new("report.build", serde_json::json!({"n": 3}), at).unique("r-1");
    let mut tx = store.begin_write().await.expect("begin");
    crate::jobs::enqueue_in::<D>(&mut tx, &first)
        .await
        .expect("enqueue");
    let dup = crate::jobs::enqueue_in::<D>(&mut tx, &second)
        .await
        .expect("enqueue a duplicate");
    assert_eq!((dup.id, dup.created), (first.id, false));
    tx.commit().await.expect("commit");
    store.wake_workers();
    tokio::time::timeout(Duration::from_secs(5), woken)
        .await
        .expect("the waiter is woken");
    let job = store.get(first.id).await.expect("committed job");
    assert_eq!(job.payload, serde_json::json!({"n": 2}));
    assert_eq!(store.get(second.id).await, Err(PortError::NotFound));
}
