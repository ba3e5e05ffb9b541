//! Rate limiting, failed-login throttling and the revocation fast path.
//!
//! This release ships the in-process implementations in [`memory`]; Redis-backed ones, with
//! these as their fallback, come later and must pass the same contract suites
//! (`ainative_ports::testkit::limits`).

pub mod memory;

pub use memory::{InMemoryLoginThrottle, InMemoryRateLimiter, InMemoryRevocationList};
