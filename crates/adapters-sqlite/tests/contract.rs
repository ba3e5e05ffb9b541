//! The persistence and schema contracts of `ainative-ports`, against SQLite files.

mod support;

ainative_ports::persistence_contract!(support::stores());
ainative_ports::schema_contract!(support::schema_stores());
