//! The tutoring contract of `ainative-ports` (with the migration case), against PostgreSQL.

mod support;

use ainative_ports::testkit::tutoring::TutoringStores;

ainative_ports::tutoring_contract!(
    async { TutoringStores::guarded_with_schema(support::store().await) };
    schema
);
