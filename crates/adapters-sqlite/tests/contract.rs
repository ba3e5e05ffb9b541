//! The persistence and schema contracts of `ainative-ports`, against SQLite.

mod support;

use ainative_ports::testkit::{SchemaStores, Stores};

ainative_ports::persistence_contract!(async { Stores::guarded(support::store().await) });
ainative_ports::schema_contract!(async { SchemaStores::guarded(support::store().await) });
