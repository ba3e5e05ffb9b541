//! The job queue contract of `ainative-ports`, against SQLite.

mod support;

use ainative_ports::testkit::jobs::JobStores;

ainative_ports::jobs_contract!(async { JobStores::guarded(support::store().await) });

#[tokio::test]
async fn enqueue_in_follows_its_transaction() {
    let (store, _guard) = support::store().await;
    ainative_adapters_sql::testkit::enqueue_in_follows_its_transaction(store).await;
}
