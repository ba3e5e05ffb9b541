//! Contract cases of [`crate::SchemaManager`].

use super::fixtures::{new_user, now};
use super::SchemaStores;

/// On a migrated store every migration is listed, oldest first, as applied, and running the
/// migrations again applies nothing.
pub async fn schema_status_lists_applied_migrations(s: SchemaStores) {
    let status = s.schema.migration_status().await.expect("status");
    assert!(!status.is_empty());
    assert!(status.iter().all(|m| m.applied), "{status:?}");
    assert!(status.windows(2).all(|w| w[0].version < w[1].version));
    assert_eq!(status[0].version, 1);
    assert_eq!(status[0].description, "identity");
    assert_eq!(s.schema.migrate_up().await, Ok(vec![]));
    assert_eq!(s.health.migrations_applied().await, Ok(true));
}

/// Reverting and re-applying migrations round-trips, and the schema works afterwards.
pub async fn schema_down_up_round_trip(s: SchemaStores) {
    let versions: Vec<i64> = s
        .schema
        .migration_status()
        .await
        .expect("status")
        .iter()
        .map(|m| m.version)
        .collect();
    let latest = *versions.last().expect("at least one migration");

    assert_eq!(s.schema.migrate_down(0).await, Ok(vec![]));
    assert_eq!(s.schema.migrate_down(1).await, Ok(vec![latest]));
    let status = s.schema.migration_status().await.expect("status");
    assert_eq!(status.len(), versions.len());
    for m in &status {
        assert_eq!(m.applied, m.version != latest, "{m:?}");
    }
    assert_eq!(s.health.migrations_applied().await, Ok(false));

    assert_eq!(s.schema.migrate_up().await, Ok(vec![latest]));
    assert_eq!(s.health.migrations_applied().await, Ok(true));

    let mut newest_first = versions.clone();
    newest_first.reverse();
    assert_eq!(s.schema.migrate_down(u32::MAX).await, Ok(newest_first));
    let status = s.schema.migration_status().await.expect("status");
    assert!(status.iter().all(|m| !m.applied), "{status:?}");
    assert_eq!(s.health.migrations_applied().await, Ok(false));
    assert!(
        s.users
            .create(new_user("too_early", now()), None)
            .await
            .is_err(),
        "the tables are gone"
    );
    assert_eq!(s.schema.migrate_down(1).await, Ok(vec![]));

    assert_eq!(s.schema.migrate_up().await, Ok(versions));
    assert_eq!(s.health.migrations_applied().await, Ok(true));
    let user = new_user("after_round_trip", now());
    s.users.create(user.clone(), None).await.expect("create");
    let found = s.users.find_by_id(user.id).await.expect("find");
    assert_eq!(found.map(|u| u.id), Some(user.id));
}
