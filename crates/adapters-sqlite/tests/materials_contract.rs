//! The material contract of `ainative-ports`, against SQLite.

mod support;

use std::sync::Arc;

use ainative_ports::testkit::materials::MaterialStores;
use ainative_ports::testkit::tutoring::TutoringStores;

async fn make() -> MaterialStores {
    let (store, guard) = support::store().await;
    let tutoring = TutoringStores::from_store(store.clone()).with_guard(guard);
    MaterialStores::new(Arc::new(store), tutoring)
}

ainative_ports::materials_contract!(make());
