//! [`RedisSettings`]: how to reach Redis and how long to wait for it.

use std::fmt;
use std::time::Duration;

/// Connection settings of the Redis backend (SPEC §2: `REDIS_URL`, `REDIS_POOL_SIZE`,
/// `REDIS_TIMEOUT_MS`, `REDIS_KEY_PREFIX`).
///
/// `Debug` never prints the URL's password.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisSettings {
    /// `redis://[user:password@]host[:port][/db]` (or `rediss://`, `redis+unix://`).
    pub url: String,
    /// How many multiplexed connections each instance keeps open (at least 1).
    pub pool_size: usize,
    /// Bound of every Redis operation, connecting included; past it the operation is
    /// `Unavailable` and the caller falls back to in-process state.
    pub timeout: Duration,
    /// Prefix of every key, so several deployments may share one Redis.
    pub key_prefix: String,
}

impl RedisSettings {
    /// The default pool size (`REDIS_POOL_SIZE`).
    pub const DEFAULT_POOL_SIZE: usize = 16;
    /// The default per-operation timeout (`REDIS_TIMEOUT_MS`).
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(250);
    /// The default key prefix (`REDIS_KEY_PREFIX`).
    pub const DEFAULT_KEY_PREFIX: &'static str = "ainative:";

    /// Settings for `url` with the SPEC's defaults: 16 connections, 250 ms, `ainative:`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            pool_size: Self::DEFAULT_POOL_SIZE,
            timeout: Self::DEFAULT_TIMEOUT,
            key_prefix: Self::DEFAULT_KEY_PREFIX.to_owned(),
        }
    }

    /// The same settings with another pool size.
    pub fn with_pool_size(mut self, pool_size: usize) -> Self {
        self.pool_size = pool_size;
        self
    }

    /// The same settings with another per-operation timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The same settings with another key prefix.
    pub fn with_key_prefix(mut self, key_prefix: impl Into<String>) -> Self {
        self.key_prefix = key_prefix.into();
        self
    }
}

impl fmt::Debug for RedisSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSettings")
            .field("url", &redact(&self.url))
            .field("pool_size", &self.pool_size)
            .field("timeout", &self.timeout)
            .field("key_prefix", &self.key_prefix)
            .finish()
    }
}

/// The URL with any user information replaced by `***`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "***".to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

/// Why the Redis backend could not be set up. Only configuration errors: an unreachable
/// Redis is not an error at start-up (the backend starts degraded and recovers later).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedisSetupError {
    /// `REDIS_URL` does not parse. The message never contains the URL.
    #[error("REDIS_URL is not a valid Redis URL: {0}")]
    InvalidUrl(String),
    /// Another setting is out of range; the message names it.
    #[error("{0}")]
    InvalidSettings(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_password() {
        let settings = RedisSettings::new("redis://user:s3cret@cache.internal:6379/2");
        let debug = format!("{settings:?}");
        assert!(!debug.contains("s3cret"), "{debug}");
        assert!(debug.contains("***@cache.internal:6379/2"), "{debug}");
    }

    #[test]
    fn redact_leaves_urls_without_credentials_alone() {
        assert_eq!(redact("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
        assert_eq!(redact("redis://:pw@h/0"), "redis://***@h/0");
        assert_eq!(redact("garbage"), "***");
    }

    #[test]
    fn defaults_follow_the_spec() {
        let settings = RedisSettings::new("redis://127.0.0.1");
        assert_eq!(settings.pool_size, 16);
        assert_eq!(settings.timeout, Duration::from_millis(250));
        assert_eq!(settings.key_prefix, "ainative:");
    }
}
