//! Contract cases of [`crate::DatabaseHealth`].

use super::Stores;

/// A migrated store pings, reports sane pool figures and every migration applied.
pub async fn health_ping_stats_migrations(s: Stores) {
    s.health.ping().await.expect("ping");
    let stats = s.health.pool_stats();
    assert!(stats.max >= 1, "{stats:?}");
    assert!(stats.size <= stats.max, "{stats:?}");
    assert!(stats.idle <= stats.size, "{stats:?}");
    assert_eq!(s.health.migrations_applied().await, Ok(true));
    assert!(
        ["postgres", "sqlite", "memory"].contains(&s.health.backend()),
        "unexpected backend name {}",
        s.health.backend()
    );
}
