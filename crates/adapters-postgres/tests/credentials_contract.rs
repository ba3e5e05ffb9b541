//! The model credentials contract of `ainative-ports`.

mod support;

use ainative_ports::testkit::credentials::CredentialStores;

ainative_ports::credentials_contract!(async { CredentialStores::guarded(support::store().await) });
