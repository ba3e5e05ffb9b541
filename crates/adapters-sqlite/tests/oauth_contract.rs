//! The social-login storage contract of `ainative-ports`, against SQLite.

mod support;

use ainative_ports::testkit::oauth::OAuthStores;

ainative_ports::oauth_contract!(async { OAuthStores::guarded(support::store().await) });
