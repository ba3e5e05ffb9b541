//! [`SchemaManager`] (the dialect's embedded reversible migrations, applied and reverted with
//! sqlx's migrator) and [`DatabaseHealth`]. Neither goes through the call deadline: a
//! migration may take long, and the health probes have timeouts of their own.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use ainative_ports::{DatabaseHealth, MigrationState, PoolStats, PortResult, SchemaManager};
use async_trait::async_trait;

use crate::columns::Columns;
use crate::dialect::Dialect;
use crate::error::map_migrate_err;
use crate::statement::Stmt;
use crate::store::SqlStore;

/// The known migrations of `D` (their up halves), oldest first.
fn known<D: Dialect>() -> impl Iterator<Item = (i64, &'static str)> {
    D::migrator()
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .map(|m| (m.version, m.description.as_ref()))
}

impl<D: Dialect> SqlStore<D> {
    /// Versions recorded as successfully applied, oldest first; none when sqlx's table is
    /// absent.
    async fn applied_versions(&self) -> PortResult<Vec<i64>> {
        let mut conn = self.conn().await?;
        let exists = Stmt::<D>::new(D::MIGRATIONS_TABLE_EXISTS)
            .fetch_one(&mut conn)
            .await?;
        if !Columns::<D>::new(&exists, "migration").get::<bool>()? {
            return Ok(Vec::new());
        }
        let rows =
            Stmt::<D>::new("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
                .fetch_all(&mut conn)
                .await?;
        rows.iter()
            .map(|row| Columns::<D>::new(row, "migration").get::<i64>())
            .collect()
    }
}

#[async_trait]
impl<D: Dialect> SchemaManager for SqlStore<D> {
    async fn migrate_up(&self) -> PortResult<Vec<i64>> {
        let before: HashSet<i64> = self.applied_versions().await?.into_iter().collect();
        D::migrator()
            .run(&self.pool)
            .await
            .map_err(map_migrate_err::<D>)?;
        let after = self.applied_versions().await?;
        let now_applied: Vec<i64> = after.into_iter().filter(|v| !before.contains(v)).collect();
        if !now_applied.is_empty() {
            tracing::info!(versions = ?now_applied, backend = D::BACKEND, "applied migrations");
        }
        Ok(now_applied)
    }

    async fn migrate_down(&self, steps: u32) -> PortResult<Vec<i64>> {
        let applied = self.applied_versions().await?;
        let steps = usize::try_from(steps)
            .unwrap_or(usize::MAX)
            .min(applied.len());
        if steps == 0 {
            return Ok(Vec::new());
        }
        let keep = applied.len() - steps;
        // `undo` reverts every applied migration newer than the target.
        let target = keep.checked_sub(1).map_or(i64::MIN, |i| applied[i]);
        D::migrator()
            .undo(&self.pool, target)
            .await
            .map_err(map_migrate_err::<D>)?;
        let reverted: Vec<i64> = applied[keep..].iter().rev().copied().collect();
        tracing::info!(versions = ?reverted, backend = D::BACKEND, "reverted migrations");
        Ok(reverted)
    }

    async fn migration_status(&self) -> PortResult<Vec<MigrationState>> {
        let applied: HashSet<i64> = self.applied_versions().await?.into_iter().collect();
        Ok(known::<D>()
            .map(|(version, description)| MigrationState {
                version,
                description: description.to_owned(),
                applied: applied.contains(&version),
            })
            .collect())
    }
}

#[async_trait]
impl<D: Dialect> DatabaseHealth for SqlStore<D> {
    async fn ping(&self) -> PortResult<Duration> {
        let started = Instant::now();
        Stmt::<D>::new("SELECT 1")
            .execute(&mut *self.conn().await?)
            .await?;
        Ok(started.elapsed())
    }

    async fn migrations_applied(&self) -> PortResult<bool> {
        let applied: HashSet<i64> = self.applied_versions().await?.into_iter().collect();
        Ok(known::<D>().all(|(version, _)| applied.contains(&version)))
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.pool.options().get_max_connections(),
        }
    }

    fn backend(&self) -> &'static str {
        D::BACKEND
    }
}
