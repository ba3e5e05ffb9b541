//! The persistence and schema contracts of `ainative-ports`, against PostgreSQL.

mod support;

ainative_ports::persistence_contract!(support::stores());
ainative_ports::schema_contract!(support::schema_stores());
