//! The job queue contract of `ainative-ports`, against PostgreSQL.

mod support;

use ainative_ports::testkit::jobs::JobStores;

ainative_ports::jobs_contract!(async { JobStores::guarded(support::store().await) });

#[tokio::test]
async fn enqueue_in_follows_its_transaction() {
    let (store, _guard) = support::store().await;
    ainative_adapters_sql::testkit::enqueue_in_follows_its_transaction(store).await;
}

/// A job enqueued by another process (here: another store with a pool of its own) wakes
/// this process's workers through `LISTEN/NOTIFY`, at commit.
#[tokio::test]
async fn an_enqueue_elsewhere_wakes_the_listener() {
    use std::sync::Arc;
    use std::time::Duration;

    use ainative_adapters_postgres::{listen_for_jobs, PgStore};
    use ainative_ports::{JobQueue, NewJob};
    use tokio::sync::Notify;

    let (store, db) = support::store().await;
    let wakeup = Arc::new(Notify::new());
    let _listener = listen_for_jobs(db.url(), wakeup.clone())
        .await
        .expect("listen");
    let other = PgStore::connect(&support::settings(&db))
        .await
        .expect("connect");
    let woken = wakeup.notified();
    tokio::pin!(woken);
    woken.as_mut().enable();
    other
        .enqueue(NewJob::new(
            "report.build",
            serde_json::json!({}),
            chrono::Utc::now(),
        ))
        .await
        .expect("enqueue");
    tokio::time::timeout(Duration::from_secs(10), woken)
        .await
        .expect("woken by the notification");
    drop(store);
}
