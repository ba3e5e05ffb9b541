//! [`SchemaManager`] on PostgreSQL: the embedded reversible migrations of
//! `migrations/postgres`, applied and reverted with sqlx's [`Migrator`].

use std::collections::HashSet;

use ainative_ports::{MigrationState, PortResult, SchemaManager};
use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::PgPool;

use crate::error::{map_err, map_migrate_err};
use crate::store::PgStore;

/// Every migration of this backend, embedded at build time.
static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/postgres");

/// The known migrations (their up halves), oldest first.
fn known() -> impl Iterator<Item = (i64, &'static str)> {
    MIGRATOR
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .map(|m| (m.version, m.description.as_ref()))
}

/// Versions recorded as successfully applied, oldest first; none when sqlx's table is absent.
async fn applied_versions(pool: &PgPool) -> PortResult<Vec<i64>> {
    let has_table: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(pool)
        .await
        .map_err(map_err)?;
    if !has_table {
        return Ok(Vec::new());
    }
    sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
        .fetch_all(pool)
        .await
        .map_err(map_err)
}

/// True when every known migration is applied.
pub(crate) async fn all_applied(pool: &PgPool) -> PortResult<bool> {
    let applied: HashSet<i64> = applied_versions(pool).await?.into_iter().collect();
    Ok(known().all(|(version, _)| applied.contains(&version)))
}

#[async_trait]
impl SchemaManager for PgStore {
    async fn migrate_up(&self) -> PortResult<Vec<i64>> {
        let before: HashSet<i64> = applied_versions(&self.pool).await?.into_iter().collect();
        MIGRATOR.run(&self.pool).await.map_err(map_migrate_err)?;
        let after = applied_versions(&self.pool).await?;
        let now_applied: Vec<i64> = after.into_iter().filter(|v| !before.contains(v)).collect();
        if !now_applied.is_empty() {
            tracing::info!(versions = ?now_applied, "applied postgres migrations");
        }
        Ok(now_applied)
    }

    async fn migrate_down(&self, steps: u32) -> PortResult<Vec<i64>> {
        let applied = applied_versions(&self.pool).await?;
        let steps = usize::try_from(steps)
            .unwrap_or(usize::MAX)
            .min(applied.len());
        if steps == 0 {
            return Ok(Vec::new());
        }
        let keep = applied.len() - steps;
        // `undo` reverts every applied migration newer than the target.
        let target = keep.checked_sub(1).map_or(i64::MIN, |i| applied[i]);
        MIGRATOR
            .undo(&self.pool, target)
            .await
            .map_err(map_migrate_err)?;
        let reverted: Vec<i64> = applied[keep..].iter().rev().copied().collect();
        tracing::info!(versions = ?reverted, "reverted postgres migrations");
        Ok(reverted)
    }

    async fn migration_status(&self) -> PortResult<Vec<MigrationState>> {
        let applied: HashSet<i64> = applied_versions(&self.pool).await?.into_iter().collect();
        Ok(known()
            .map(|(version, description)| MigrationState {
                version,
                description: description.to_owned(),
                applied: applied.contains(&version),
            })
            .collect())
    }
}
