//! [`MaterialStore`], [`MaterialCorpus`] and the database's [`MaterialProgress`]: uploads,
//! the status of their stages, the stages' outputs ([`outputs`]) and the corpus retrieval
//! reads ([`corpus`]).

mod corpus;
mod outputs;
mod rows;

use ainative_domain::{
    Chunk, ConceptGraph, Material, MaterialStatus, Page, Paginated, Progress, QualityReport, Stage,
    StageStatus, Taxonomy,
};
use ainative_ports::{MaterialProgress, MaterialStore, NewJob, PortError, PortResult, StageOutput};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::columns::Columns;
use crate::dialect::{Conn, Dialect};
use crate::lists::{counted_page, offset};
use crate::statement::{SqlBuilder, Stmt};
use crate::store::SqlStore;
use rows::{material, material_columns, stage_record};

/// Writes `status` (every stage row, upserted) and the material's overall status.
///
/// Errors: `NotFound` when the material does not exist.
async fn write_status<D: Dialect>(
    conn: &mut Conn<D>,
    id: Uuid,
    status: &MaterialStatus,
    at: DateTime<Utc>,
) -> PortResult<()> {
    let touched = Stmt::<D>::new("UPDATE materials SET status = $2, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(status.overall().as_str())
        .bind(at)
        .execute(conn)
        .await?;
    if touched == 0 {
        return Err(PortError::NotFound);
    }
    let mut q = SqlBuilder::<D>::new(
        "INSERT INTO material_stages (material_id, stage, ordinal, status, progress, \
         started_at, finished_at, error) ",
    );
    q.push_values(status.records(), |row, r| {
        row.bind(id)
            .bind(r.stage.as_str())
            .bind(i64::try_from(r.stage.index()).unwrap_or(0))
            .bind(r.status.as_str())
            .bind(f64::from(r.progress.value()))
            .bind(r.started_at)
            .bind(r.finished_at)
            .bind(r.error.as_deref());
    });
    q.push(
        " ON CONFLICT (material_id, stage) DO UPDATE SET status = excluded.status, \
         progress = excluded.progress, started_at = excluded.started_at, \
         finished_at = excluded.finished_at, error = excluded.error",
    );
    q.build().execute(conn).await?;
    Ok(())
}

/// Whether `stage` of material `id` completed.
async fn stage_completed<D: Dialect>(
    store: &SqlStore<D>,
    id: Uuid,
    stage: Stage,
) -> PortResult<bool> {
    let row =
        Stmt::<D>::new("SELECT status FROM material_stages WHERE material_id = $1 AND stage = $2")
            .bind(id)
            .bind(stage.as_str())
            .fetch_optional(&mut *store.conn().await?)
            .await?;
    let Some(row) = row else {
        return Ok(false);
    };
    let status: StageStatus = Columns::<D>::new(&row, "material stage").parsed("status")?;
    Ok(status == StageStatus::Completed)
}

#[async_trait]
impl<D: Dialect> MaterialStore for SqlStore<D> {
    async fn create(&self, material: &Material, content: &[u8], job: &NewJob) -> PortResult<()> {
        self.call("materials.create", async {
            let mut tx = self.begin_write().await?;
            Stmt::<D>::new(
                "INSERT INTO materials (id, activity_id, title, content_type, size_bytes, \
                 content, created_by, status, tags, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(material.id)
            .bind(material.activity_id)
            .bind(&material.title)
            .bind(material.content_type.as_str())
            .bind(i64::try_from(material.size_bytes).unwrap_or(i64::MAX))
            .bind(content.to_vec())
            .bind(material.created_by)
            .bind(material.status.as_str())
            .bind(material.tags.as_slice())
            .bind(material.created_at)
            .bind(material.updated_at)
            .execute(&mut tx)
            .await?;
            write_status::<D>(
                &mut tx,
                material.id,
                &MaterialStatus::new(),
                material.created_at,
            )
            .await?;
            crate::jobs::enqueue_in::<D>(&mut tx, job).await?;
            tx.commit().await.map_err(crate::error::map_err::<D>)?;
            self.wake_workers();
            Ok(())
        })
        .await
    }

    async fn find(&self, id: Uuid) -> PortResult<Option<Material>> {
        let find = Stmt::new(concat!(
            "SELECT ",
            material_columns!(),
            " FROM materials WHERE id = $1"
        ))
        .bind(id);
        self.call(
            "materials.find",
            self.optional(find, "material", material::<D>),
        )
        .await
    }

    async fn list(&self, activity_id: Uuid, page: Page) -> PortResult<Paginated<Material>> {
        let q = Stmt::new(concat!(
            "SELECT ",
            material_columns!(),
            ", (SELECT COUNT(*) FROM materials WHERE activity_id = $1) AS total \
             FROM materials WHERE activity_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
        ))
        .bind(activity_id)
        .bind(i64::from(page.limit()))
        .bind(offset(page));
        let count = || {
            Stmt::<D>::new("SELECT COUNT(*) FROM materials WHERE activity_id = $1")
                .bind(activity_id)
        };
        self.call("materials.list", async {
            let mut conn = self.conn().await?;
            let (items, total) =
                counted_page::<D, _>(&mut conn, q, "material", material::<D>, count).await?;
            Ok(Paginated::new(items, total, page))
        })
        .await
    }

    async fn delete(&self, id: Uuid) -> PortResult<()> {
        self.call("materials.delete", async {
            let deleted = Stmt::<D>::new("DELETE FROM materials WHERE id = $1")
                .bind(id)
                .execute(&mut *self.conn().await?)
                .await?;
            if deleted == 0 {
                Err(PortError::NotFound)
            } else {
                Ok(())
            }
        })
        .await
    }

    async fn content(&self, id: Uuid) -> PortResult<Option<Vec<u8>>> {
        self.call("materials.content", async {
            let row = Stmt::<D>::new("SELECT content FROM materials WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *self.conn().await?)
                .await?;
            row.map(|row| Columns::<D>::new(&row, "material").get::<Vec<u8>>())
                .transpose()
        })
        .await
    }

    async fn status(&self, id: Uuid) -> PortResult<Option<MaterialStatus>> {
        let q = Stmt::new(
            "SELECT stage, status, progress, started_at, finished_at, error \
             FROM material_stages WHERE material_id = $1 ORDER BY ordinal",
        )
        .bind(id);
        self.call("materials.status", async {
            let records = self.all(q, "material stage", stage_record::<D>).await?;
            if records.is_empty() {
                return Ok(None);
            }
            MaterialStatus::from_records(records)
                .map(Some)
                .map_err(|e| PortError::other_from("stored stages are malformed", e))
        })
        .await
    }

    async fn save_status(
        &self,
        id: Uuid,
        status: &MaterialStatus,
        at: DateTime<Utc>,
    ) -> PortResult<()> {
        self.call("materials.save_status", async {
            let mut tx = self.begin_write().await?;
            write_status::<D>(&mut tx, id, status, at).await?;
            tx.commit().await.map_err(crate::error::map_err::<D>)
        })
        .await
    }

    async fn complete_stage(
        &self,
        id: Uuid,
        status: &MaterialStatus,
        output: &StageOutput,
        at: DateTime<Utc>,
    ) -> PortResult<()> {
        self.call("materials.complete_stage", async {
            let mut tx = self.begin_write().await?;
            // The status first: it locks the material row and says whether it still exists.
            write_status::<D>(&mut tx, id, status, at).await?;
            outputs::store::<D>(&mut tx, id, output).await?;
            tx.commit().await.map_err(crate::error::map_err::<D>)
        })
        .await
    }

    async fn chunks(&self, id: Uuid) -> PortResult<Vec<Chunk>> {
        self.call("materials.chunks", outputs::chunks(self, id))
            .await
    }

    async fn quality(&self, id: Uuid) -> PortResult<Option<QualityReport>> {
        let q = Stmt::new("SELECT quality FROM materials WHERE id = $1").bind(id);
        self.call("materials.quality", async {
            let report = self
                .optional(q, "material", |c| c.json::<Option<QualityReport>>())
                .await?;
            Ok(report.flatten())
        })
        .await
    }

    async fn taxonomy(&self, id: Uuid) -> PortResult<Option<Taxonomy>> {
        self.call("materials.taxonomy", async {
            if !stage_completed(self, id, Stage::Taxonomy).await? {
                return Ok(None);
            }
            outputs::taxonomy(self, id).await.map(Some)
        })
        .await
    }

    async fn graph(&self, id: Uuid) -> PortResult<ConceptGraph> {
        self.call("materials.graph", outputs::graph(self, id)).await
    }
}

/// Progress in the database: the running stage's row (the embedded default, and the
/// fallback while Redis is down). Reads come with [`MaterialStore::status`] already.
#[async_trait]
impl<D: Dialect> MaterialProgress for SqlStore<D> {
    async fn report(&self, id: Uuid, stage: Stage, progress: Progress) -> PortResult<()> {
        let q = Stmt::<D>::new(
            "UPDATE material_stages SET progress = $3 WHERE material_id = $1 AND stage = $2 \
             AND status = 'processing' AND progress < $3",
        )
        .bind(id)
        .bind(stage.as_str())
        .bind(f64::from(progress.value()));
        self.call_untraced("materials.report_progress", async {
            q.execute(&mut *self.conn().await?).await.map(|_| ())
        })
        .await
    }

    async fn read(&self, _id: Uuid) -> PortResult<Vec<(Stage, Progress)>> {
        Ok(Vec::new())
    }
}
