//! End-to-end tests live in the `[[test]]` targets beside this crate; their harness is `ainative-test-support` (`crates/test-support`).
