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
