//! An uploaded material: what the API lists and what the worker processes.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{MaterialContentType, StageStatus};

/// A course material of an activity. Its bytes are kept apart (only the worker reads them).
#[derive(Debug, Clone, PartialEq)]
pub struct Material {
    /// Identifier.
    pub id: Uuid,
    /// The activity it belongs to.
    pub activity_id: Uuid,
    /// Title given by the instructor (1–200 characters).
    pub title: String,
    /// How its bytes are parsed.
    pub content_type: MaterialContentType,
    /// Size of the upload in bytes.
    pub size_bytes: u64,
    /// Who uploaded it.
    pub created_by: Uuid,
    /// The overall status of its stages ([`super::overall_status`]).
    pub status: StageStatus,
    /// Main language (ISO 639-3) once the quality stage ran.
    pub language: Option<String>,
    /// Quality score (`0..=1`) once the quality stage ran.
    pub quality_score: Option<f32>,
    /// Suggested tags once the taxonomy stage ran.
    pub tags: Vec<String>,
    /// Upload time.
    pub created_at: DateTime<Utc>,
    /// Last change of its processing state.
    pub updated_at: DateTime<Utc>,
}

/// Longest material title, in characters.
pub const MAX_MATERIAL_TITLE_CHARS: usize = 200;

impl Material {
    /// A material just uploaded: every stage pending.
    pub fn uploaded(
        activity_id: Uuid,
        title: String,
        content_type: MaterialContentType,
        size_bytes: u64,
        created_by: Uuid,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: Uuid::new_v4(),
            activity_id,
            title,
            content_type,
            size_bytes,
            created_by,
            status: StageStatus::Pending,
            language: None,
            quality_score: None,
            tags: Vec::new(),
            created_at: now,
            updated_at: now,
        }
    }
}
