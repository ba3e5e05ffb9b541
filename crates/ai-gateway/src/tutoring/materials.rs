//! Course material of activities (SPEC §10.5): upload (stored and its processing job
//! enqueued in one transaction), list, status, concept graph, delete.
//!
//! Access (decision 70): material is an authoring resource. Its activity's owner and admins
//! manage and read it; anyone else gets 404 where the activity is not visible to them, and
//! 403 for the activity-scoped routes of a published activity they do not own. A material
//! by id is visible only to the owner of its activity and admins (404 otherwise). Students
//! meet material only through grounded tutor answers.

use std::sync::Arc;

use ainative_domain::{
    AccessDenied, Activity, ConceptGraph, Material, MaterialContentType, MaterialStatus, Page,
    Paginated, RequestContext, Scope, StageStatus, ValidationErrors, MAX_MATERIAL_TITLE_CHARS,
};
use ainative_ports::{
    error_chain, ActivityRepository, Clock, MaterialProgress, MaterialStore, NewJob,
    MATERIAL_PROCESS_JOB,
};
use uuid::Uuid;

use super::{access, TutoringError};

/// Called with an activity whose processed material changed (a material deleted), so the
/// retrieval caches of this process forget it.
pub type MaterialChangeHook = Arc<dyn Fn(Uuid) + Send + Sync>;

/// Attempts of a processing job before it is dead (the last one marks the stage failed).
pub const PROCESSING_ATTEMPTS: u32 = 5;

/// An upload as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaterialUpload {
    /// Title, 1–200 characters.
    pub title: String,
    /// The media type (`text/markdown`, `text/plain`, `application/pdf`).
    pub content_type: String,
    /// The decoded bytes.
    pub content: Vec<u8>,
}

/// Course material use cases.
pub struct MaterialService {
    activities: Arc<dyn ActivityRepository>,
    materials: Arc<dyn MaterialStore>,
    progress: Arc<dyn MaterialProgress>,
    clock: Arc<dyn Clock>,
    max_bytes: usize,
    on_change: Option<MaterialChangeHook>,
}

impl MaterialService {
    /// Builds the service; uploads over `max_bytes` are refused.
    pub fn new(
        activities: Arc<dyn ActivityRepository>,
        materials: Arc<dyn MaterialStore>,
        progress: Arc<dyn MaterialProgress>,
        clock: Arc<dyn Clock>,
        max_bytes: usize,
    ) -> Self {
        Self {
            activities,
            materials,
            progress,
            clock,
            max_bytes,
            on_change: None,
        }
    }

    /// Calls `hook` with the activity of a deleted material.
    pub fn on_change(mut self, hook: MaterialChangeHook) -> Self {
        self.on_change = Some(hook);
        self
    }

    /// Largest upload in bytes.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// Stores an upload of the activity's owner (or an admin) and enqueues its processing.
    ///
    /// Errors: 404 activity not visible, 403 not its owner, 413 over the size limit, 415 an
    /// unknown content type, 422 a bad title or empty content.
    pub async fn upload(
        &self,
        ctx: &RequestContext,
        activity_id: Uuid,
        upload: MaterialUpload,
    ) -> Result<Material, TutoringError> {
        let activity = self.owned_activity(ctx, activity_id).await?;
        if upload.content.len() > self.max_bytes {
            return Err(TutoringError::PayloadTooLarge);
        }
        let content_type = MaterialContentType::from_media_type(&upload.content_type)
            .map_err(|_| TutoringError::UnsupportedContentType)?;
        let title = upload.title.trim().to_owned();
        let mut errors = ValidationErrors::new();
        if title.is_empty() || title.chars().count() > MAX_MATERIAL_TITLE_CHARS {
            errors.push("title", "must be 1 to 200 characters");
        } else if title.contains('\0') {
            errors.push("title", "must not contain NUL characters");
        }
        if upload.content.iter().all(u8::is_ascii_whitespace) {
            errors.push("content", "must not be empty");
        }
        errors.into_result()?;
        let material = Material::uploaded(
            activity.id,
            title,
            content_type,
            u64::try_from(upload.content.len()).unwrap_or(u64::MAX),
            ctx.user_id,
            self.clock.now(),
        );
        let job = NewJob::new(
            MATERIAL_PROCESS_JOB,
            serde_json::json!({ "material_id": material.id }),
            material.created_at,
        )
        .unique(format!("material:{}", material.id))
        .max_attempts(PROCESSING_ATTEMPTS);
        self.materials
            .create(&material, &upload.content, &job)
            .await
            .map_err(|e| TutoringError::from_port(e, "activity"))?;
        tracing::info!(
            request_id = %ctx.request_id,
            material_id = %material.id,
            activity_id = %activity.id,
            bytes = material.size_bytes,
            "material uploaded"
        );
        Ok(material)
    }

    /// The materials of an activity (its owner or an admin), newest first.
    pub async fn list(
        &self,
        ctx: &RequestContext,
        activity_id: Uuid,
        page: Page,
    ) -> Result<Paginated<Material>, TutoringError> {
        access::require(ctx, Scope::ActivitiesRead)?;
        let activity = self.visible_activity(ctx, activity_id).await?;
        require_owner(ctx, &activity)?;
        Ok(self.materials.list(activity.id, page).await?)
    }

    /// A material and the status of its stages, with the latest progress of a running
    /// stage.
    pub async fn status(
        &self,
        ctx: &RequestContext,
        id: Uuid,
    ) -> Result<(Material, MaterialStatus), TutoringError> {
        let material = self.readable(ctx, id).await?;
        let mut status = self
            .materials
            .status(id)
            .await?
            .ok_or(TutoringError::NotFound("material"))?;
        if status.overall() == StageStatus::Processing {
            // Progress lives in Redis when configured; the status rows stay the truth.
            match self.progress.read(id).await {
                Ok(reported) => {
                    for (stage, progress) in reported {
                        let _ = status.advance(stage, progress);
                    }
                }
                Err(error) => tracing::debug!(
                    material_id = %id,
                    error = %error_chain(&error),
                    "progress unavailable; showing the stored progress"
                ),
            }
        }
        Ok((material, status))
    }

    /// The concept graph of a material (empty until the graph stage completed).
    pub async fn graph(
        &self,
        ctx: &RequestContext,
        id: Uuid,
    ) -> Result<(Material, ConceptGraph), TutoringError> {
        let material = self.readable(ctx, id).await?;
        let graph = self.materials.graph(id).await?;
        Ok((material, graph))
    }

    /// Deletes a material with its chunks (its activity's owner or an admin); the next
    /// grounded turn of the activity no longer finds it.
    pub async fn delete(&self, ctx: &RequestContext, id: Uuid) -> Result<(), TutoringError> {
        access::require(ctx, Scope::ActivitiesWrite)?;
        let material = self.readable(ctx, id).await?;
        self.materials
            .delete(id)
            .await
            .map_err(|e| TutoringError::from_port(e, "material"))?;
        if let Some(hook) = &self.on_change {
            hook(material.activity_id);
        }
        Ok(())
    }

    async fn visible_activity(
        &self,
        ctx: &RequestContext,
        id: Uuid,
    ) -> Result<Activity, TutoringError> {
        let activity = self
            .activities
            .find(id)
            .await?
            .ok_or(TutoringError::NotFound("activity"))?;
        if ctx.can_see_activity(&activity) {
            Ok(activity)
        } else {
            Err(TutoringError::NotFound("activity"))
        }
    }

    async fn owned_activity(
        &self,
        ctx: &RequestContext,
        id: Uuid,
    ) -> Result<Activity, TutoringError> {
        access::require(ctx, Scope::ActivitiesWrite)?;
        let activity = self.visible_activity(ctx, id).await?;
        require_owner(ctx, &activity)?;
        Ok(activity)
    }

    /// A material whose activity the caller owns (or any, for admins); 404 otherwise.
    async fn readable(&self, ctx: &RequestContext, id: Uuid) -> Result<Material, TutoringError> {
        access::require(ctx, Scope::ActivitiesRead)?;
        let material = self
            .materials
            .find(id)
            .await?
            .ok_or(TutoringError::NotFound("material"))?;
        let activity = self.activities.find(material.activity_id).await?;
        match activity {
            Some(activity) if ctx.owns_activity(&activity) => Ok(material),
            _ => Err(TutoringError::NotFound("material")),
        }
    }
}

fn require_owner(ctx: &RequestContext, activity: &Activity) -> Result<(), TutoringError> {
    if ctx.owns_activity(activity) {
        Ok(())
    } else {
        Err(
            AccessDenied::Rule("only the activity's owner or an admin may manage its material")
                .into(),
        )
    }
}

#[cfg(test)]
mod tests;
