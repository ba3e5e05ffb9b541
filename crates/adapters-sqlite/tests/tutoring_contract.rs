//! The tutoring contract of `ainative-ports` (with the migration case), against SQLite files.

mod support;

use ainative_ports::testkit::tutoring::TutoringStores;

/// A fresh, migrated store with its schema manager.
async fn stores() -> TutoringStores {
    let (store, dir) = support::store().await;
    TutoringStores::from_schema_store(store).with_guard(dir)
}

ainative_ports::tutoring_contract!(stores(); schema);
