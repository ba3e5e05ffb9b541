//! The material tables' columns and how their rows become domain values.

use ainative_domain::{Material, Progress, StageRecord};
use ainative_ports::PortResult;

use crate::columns::Columns;
use crate::dialect::Dialect;

/// The columns of `materials` (not its bytes), in the order [`material`] reads them.
macro_rules! material_columns {
    () => {
        "id, activity_id, title, content_type, size_bytes, created_by, status, language, \
         quality_score, tags, created_at, updated_at"
    };
}
pub(crate) use material_columns;

/// A material from the columns of [`material_columns`].
pub(crate) fn material<D: Dialect>(c: &mut Columns<'_, D>) -> PortResult<Material> {
    Ok(Material {
        id: c.id()?,
        activity_id: c.uuid()?,
        title: c.get()?,
        content_type: c.parsed("content type")?,
        size_bytes: {
            let size: i64 = c.get()?;
            u64::try_from(size).map_err(|e| c.corrupt("size", e))?
        },
        created_by: c.uuid()?,
        status: c.parsed("status")?,
        language: c.get()?,
        quality_score: c.get::<Option<f64>>()?.map(|s| s as f32),
        tags: c.texts()?,
        created_at: c.get()?,
        updated_at: c.get()?,
    })
}

/// A stage record from `stage, status, progress, started_at, finished_at, error`.
pub(crate) fn stage_record<D: Dialect>(c: &mut Columns<'_, D>) -> PortResult<StageRecord> {
    Ok(StageRecord {
        stage: c.parsed("stage")?,
        status: c.parsed("status")?,
        progress: Progress::new(c.get::<f64>()? as f32),
        started_at: c.get()?,
        finished_at: c.get()?,
        error: c.get()?,
    })
}
