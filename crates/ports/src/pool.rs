//! Connection pool settings.

use std::fmt;
use std::time::Duration;

/// How to connect and size the pool (SPEC §2: `DATABASE_URL`, `DB_POOL_SIZE`, `DB_MIN_IDLE`,
/// `DB_POOL_TIMEOUT_SECS`, `DB_POOL_RECYCLE_SECS`, `DB_IDLE_TIMEOUT_SECS`, `DB_POOL_PRE_PING`).
#[derive(Clone, PartialEq, Eq)]
pub struct PoolSettings {
    /// Database URL, e.g. `postgres://user:password@host:port/database` or
    /// `sqlite://path/to/file.db`.
    pub url: String,
    /// Most connections open at once; at least 1.
    pub max_connections: u32,
    /// Connections kept open even when idle; at most `max_connections`.
    pub min_connections: u32,
    /// How long a caller waits for a connection before `PortError::Unavailable`.
    pub acquire_timeout: Duration,
    /// Connections older than this are closed and replaced; zero disables recycling.
    pub max_lifetime: Duration,
    /// Idle connections above `min_connections` are closed after this; zero keeps them.
    pub idle_timeout: Duration,
    /// Ping a connection before handing it out when it has sat idle for at least
    /// [`PoolSettings::pre_ping_after_idle`] (`DB_POOL_PRE_PING`). Adapters without a network
    /// (SQLite) ignore it.
    pub test_before_acquire: bool,
    /// How long a connection must have sat idle to be pinged before use;
    /// [`PRE_PING_AFTER_IDLE`] unless a test wants every checkout pinged (zero).
    pub pre_ping_after_idle: Duration,
}

/// How long a pooled connection may sit idle before the pre-ping checks it. A connection
/// used within this time has just shown it works; pinging it too would add a round trip to
/// every query of a busy server, while the failures a pre-ping exists for (a database
/// restart, a firewall closing quiet connections) hit connections that sat idle.
pub const PRE_PING_AFTER_IDLE: Duration = Duration::from_secs(1);

impl PoolSettings {
    /// Settings for `url` with the SPEC's defaults: 10 connections, 1 kept idle, 5 s acquire
    /// timeout, 30 min lifetime, 10 min idle timeout, pre-ping on (after 1 s idle).
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 10,
            min_connections: 1,
            acquire_timeout: Duration::from_secs(5),
            max_lifetime: Duration::from_secs(1800),
            idle_timeout: Duration::from_secs(600),
            test_before_acquire: true,
            pre_ping_after_idle: PRE_PING_AFTER_IDLE,
        }
    }

    /// Checks the bounds: at least one connection, and no more kept idle than allowed open.
    ///
    /// Errors: `Other` naming both figures.
    pub fn check_bounds(&self) -> Result<(), crate::PortError> {
        if self.max_connections == 0 || self.min_connections > self.max_connections {
            return Err(crate::PortError::Other(
                format!(
                    "invalid pool bounds: min_connections {} and max_connections {}",
                    self.min_connections, self.max_connections
                )
                .into(),
            ));
        }
        Ok(())
    }
}

/// `None` for a zero duration, which means "disabled".
pub fn non_zero(duration: Duration) -> Option<Duration> {
    (!duration.is_zero()).then_some(duration)
}

/// The URL with its password replaced by `***`, for logs and `Debug`.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rfind('@') {
        Some(at) => match authority[..at].find(':') {
            Some(colon) => format!(
                "{}{}:***{}",
                &url[..scheme_end],
                &authority[..colon],
                &rest[at..]
            ),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

impl fmt::Debug for PoolSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolSettings")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .field("min_connections", &self.min_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("max_lifetime", &self.max_lifetime)
            .field("idle_timeout", &self.idle_timeout)
            .field("test_before_acquire", &self.test_before_acquire)
            .field("pre_ping_after_idle", &self.pre_ping_after_idle)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_masks_the_password() {
        let settings = PoolSettings::new("postgres://app:s3cret@db:5432/ainative?sslmode=require");
        let shown = format!("{settings:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("postgres://app:***@db:5432/ainative?sslmode=require"));
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1/x"),
            "postgres://postgres@127.0.0.1/x"
        );
        assert_eq!(redact_url("not a url"), "not a url");
    }

    #[test]
    fn bounds_need_a_connection_and_no_more_idle_than_open() {
        let url = "sqlite::memory:";
        assert!(PoolSettings::new(url).check_bounds().is_ok());
        for (max, min) in [(0, 0), (1, 2)] {
            let settings = PoolSettings {
                max_connections: max,
                min_connections: min,
                ..PoolSettings::new(url)
            };
            assert!(
                matches!(settings.check_bounds(), Err(crate::PortError::Other(_))),
                "{max} {min}"
            );
        }
    }

    #[test]
    fn zero_durations_disable() {
        assert_eq!(non_zero(Duration::ZERO), None);
        assert_eq!(
            non_zero(Duration::from_secs(1)),
            Some(Duration::from_secs(1))
        );
    }
}
