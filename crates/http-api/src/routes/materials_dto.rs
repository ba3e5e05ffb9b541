//! Bodies of the course material endpoints.

use ainative_domain::{ConceptGraph, Material, MaterialStatus, StageRecord};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A material upload. Text types send `content` as text; a PDF sends it base64-encoded with
/// `encoding: "base64"` (any type may).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadMaterialRequest {
    #[schema(example = "Recursion, lecture notes")]
    pub title: String,
    /// text/markdown, text/plain or application/pdf.
    #[schema(example = "text/markdown")]
    pub content_type: String,
    /// The material: text, or base64 when `encoding` is `base64`.
    pub content: String,
    /// `text` (default) or `base64`.
    pub encoding: Option<String>,
}

/// A material.
#[derive(Debug, Serialize, ToSchema)]
pub struct MaterialResponse {
    pub id: Uuid,
    pub activity_id: Uuid,
    pub title: String,
    pub content_type: String,
    pub size_bytes: u64,
    pub created_by: Uuid,
    /// Overall status: pending, processing, completed or failed.
    pub status: String,
    /// Main language (ISO 639-3) once detected.
    pub language: Option<String>,
    pub quality_score: Option<f32>,
    /// Suggested tags once the taxonomy stage ran.
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Material> for MaterialResponse {
    fn from(m: Material) -> Self {
        Self {
            id: m.id,
            activity_id: m.activity_id,
            title: m.title,
            content_type: m.content_type.as_str().to_owned(),
            size_bytes: m.size_bytes,
            created_by: m.created_by,
            status: m.status.as_str().to_owned(),
            language: m.language,
            quality_score: m.quality_score,
            tags: m.tags,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// The answer to an upload: processing runs in the background.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadAccepted {
    pub id: Uuid,
    /// Where to follow the processing.
    #[schema(example = "/api/v1/materials/5f0c…/status")]
    pub status_url: String,
    pub material: MaterialResponse,
}

/// One stage's status.
#[derive(Debug, Serialize, ToSchema)]
pub struct StageResponse {
    /// ingestion, quality, taxonomy, graph or embedding.
    pub stage: String,
    /// pending, processing, completed or failed.
    pub status: String,
    /// Fraction done, 0..1.
    pub progress: f32,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Why the stage failed, in words an instructor can act on.
    pub error: Option<String>,
}

impl From<&StageRecord> for StageResponse {
    fn from(r: &StageRecord) -> Self {
        Self {
            stage: r.stage.as_str().to_owned(),
            status: r.status.as_str().to_owned(),
            progress: r.progress.value(),
            started_at: r.started_at,
            finished_at: r.finished_at,
            error: r.error.clone(),
        }
    }
}

/// The processing status of a material.
#[derive(Debug, Serialize, ToSchema)]
pub struct MaterialStatusResponse {
    pub material_id: Uuid,
    /// failed if any stage failed, else completed if all completed, else pending if none
    /// started, else processing.
    pub overall: String,
    pub stages: Vec<StageResponse>,
}

impl MaterialStatusResponse {
    pub fn new(material: &Material, status: &MaterialStatus) -> Self {
        Self {
            material_id: material.id,
            overall: status.overall().as_str().to_owned(),
            stages: status.records().iter().map(StageResponse::from).collect(),
        }
    }
}

/// A concept.
#[derive(Debug, Serialize, ToSchema)]
pub struct GraphNodeResponse {
    /// The concept key (stemmed words joined by `_`).
    pub id: String,
    pub label: String,
    pub weight: f32,
}

/// Two concepts that occur close together.
#[derive(Debug, Serialize, ToSchema)]
pub struct GraphEdgeResponse {
    pub source: String,
    pub target: String,
    pub weight: f32,
    pub count: u32,
}

/// The concept graph of a material.
#[derive(Debug, Serialize, ToSchema)]
pub struct MaterialGraphResponse {
    pub material_id: Uuid,
    pub nodes: Vec<GraphNodeResponse>,
    pub edges: Vec<GraphEdgeResponse>,
}

impl MaterialGraphResponse {
    pub fn new(material_id: Uuid, graph: ConceptGraph) -> Self {
        Self {
            material_id,
            nodes: graph
                .nodes
                .into_iter()
                .map(|n| GraphNodeResponse {
                    id: n.id,
                    label: n.label,
                    weight: n.weight,
                })
                .collect(),
            edges: graph
                .edges
                .into_iter()
                .map(|e| GraphEdgeResponse {
                    source: e.source,
                    target: e.target,
                    weight: e.weight,
                    count: e.count,
                })
                .collect(),
        }
    }
}
