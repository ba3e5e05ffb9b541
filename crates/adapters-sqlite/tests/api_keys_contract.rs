//! The API keys contract of `ainative-ports`.

mod support;

use ainative_ports::testkit::api_keys::ApiKeyStores;

ainative_ports::api_keys_contract!(async { ApiKeyStores::guarded(support::store().await) });
