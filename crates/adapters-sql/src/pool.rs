//! What opening a pool means on every engine: the bounds and timeouts of [`PoolSettings`].

use ainative_ports::pool::{non_zero, redact_url, PoolSettings};
use ainative_ports::PortError;
use sqlx::pool::PoolOptions;
use sqlx::Database;

/// Pool options with the sizes and timeouts of `settings`. Checkouts are not tested: a
/// dialect that wants a pre-ping adds its own `before_acquire`.
pub fn pool_options<DB: Database>(settings: &PoolSettings) -> PoolOptions<DB> {
    PoolOptions::new()
        .max_connections(settings.max_connections)
        .min_connections(settings.min_connections)
        .acquire_timeout(settings.acquire_timeout)
        .max_lifetime(non_zero(settings.max_lifetime))
        .idle_timeout(non_zero(settings.idle_timeout))
        .test_before_acquire(false)
}

/// The error of a database URL the driver cannot parse (`Other`, the password masked).
pub fn invalid_url(settings: &PoolSettings, err: sqlx::Error) -> PortError {
    PortError::other_from(
        format!("invalid database url {}", redact_url(&settings.url)),
        err,
    )
}
