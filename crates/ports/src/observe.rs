//! Timing of database calls, reported by the stores without knowing who listens.

use std::time::Duration;

/// Told the duration of every persistence call a store makes, so that the composition root
/// can record it (the server feeds `db_query_duration_seconds{op}`) while the adapters stay
/// free of any metrics library.
pub trait QueryObserver: Send + Sync {
    /// `operation` (`<port>.<method>`, such as `users.find_by_login`) finished, successfully
    /// or not, after `elapsed`. Called on the caller's task: keep it cheap and never block.
    fn query_finished(&self, operation: &'static str, elapsed: Duration);
}
