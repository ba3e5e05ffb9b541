//! The report contract of `ainative-ports`, against PostgreSQL.

mod support;

use std::sync::Arc;

use ainative_ports::testkit::reports::ReportStores;
use ainative_ports::testkit::tutoring::TutoringStores;

async fn make() -> ReportStores {
    let (store, guard) = support::store().await;
    let tutoring = TutoringStores::from_store(store.clone()).with_guard(guard);
    ReportStores::new(Arc::new(store), tutoring)
}

ainative_ports::reports_contract!(make());
