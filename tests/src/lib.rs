//! End-to-end tests live in the `[[test]]` targets beside this crate; see `common/`.
