//! Storage of course material (SPEC §10.5): the uploads, the status of their stages, what
//! each stage produced, and the progress of the running stage.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use ainative_domain::{
    Chunk, ConceptGraph, EmbeddingOutput, Ingestion, Material, MaterialStatus, Page, Paginated,
    Progress, QualityReport, Stage, Taxonomy,
};

use crate::{NewJob, PortResult};

/// What a completed stage produced, stored in the same transaction as its completion.
#[derive(Debug, Clone, PartialEq)]
pub enum StageOutput {
    /// The chunks (replacing any earlier attempt's).
    Ingestion(Ingestion),
    /// The quality verdict per chunk, the language and the score.
    Quality(QualityReport),
    /// Key concepts and suggested tags.
    Taxonomy(Taxonomy),
    /// The concept graph.
    Graph(ConceptGraph),
    /// The retrieval index's description and, for vectors, one vector per kept chunk.
    Embedding(EmbeddingOutput),
}

impl StageOutput {
    /// The stage that produced it.
    pub fn stage(&self) -> Stage {
        match self {
            Self::Ingestion(_) => Stage::Ingestion,
            Self::Quality(_) => Stage::Quality,
            Self::Taxonomy(_) => Stage::Taxonomy,
            Self::Graph(_) => Stage::Graph,
            Self::Embedding(_) => Stage::Embedding,
        }
    }
}

/// The job kind that processes a material; its payload is `{"material_id": "<uuid>"}`.
pub const MATERIAL_PROCESS_JOB: &str = "material.process";

/// Course material of activities.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait MaterialStore: Send + Sync {
    /// Stores an uploaded `material` with its bytes and every stage pending, and enqueues
    /// `job`, all in one transaction (a material never exists without its job).
    ///
    /// Errors: `Conflict(Duplicate("material"))` when the id exists; `Unavailable`.
    async fn create(&self, material: &Material, content: &[u8], job: &NewJob) -> PortResult<()>;

    /// The material, if it exists.
    async fn find(&self, id: Uuid) -> PortResult<Option<Material>>;

    /// The materials of an activity, newest first.
    async fn list(&self, activity_id: Uuid, page: Page) -> PortResult<Paginated<Material>>;

    /// Deletes a material with its stages, chunks, concepts and graph.
    ///
    /// Errors: `NotFound` when it does not exist.
    async fn delete(&self, id: Uuid) -> PortResult<()>;

    /// The uploaded bytes, if the material exists.
    async fn content(&self, id: Uuid) -> PortResult<Option<Vec<u8>>>;

    /// The status of every stage, if the material exists.
    async fn status(&self, id: Uuid) -> PortResult<Option<MaterialStatus>>;

    /// Stores `status` (a stage started or failed) and the material's overall status.
    ///
    /// Errors: `NotFound` when the material was deleted meanwhile.
    async fn save_status(
        &self,
        id: Uuid,
        status: &MaterialStatus,
        at: DateTime<Utc>,
    ) -> PortResult<()>;

    /// Stores a stage's `output` together with `status` (that stage completed), in one
    /// transaction; a re-run of the stage replaces its earlier output.
    ///
    /// Errors: `NotFound` when the material was deleted meanwhile.
    async fn complete_stage(
        &self,
        id: Uuid,
        status: &MaterialStatus,
        output: &StageOutput,
        at: DateTime<Utc>,
    ) -> PortResult<()>;

    /// Every chunk of the material (kept or not), by ordinal.
    async fn chunks(&self, id: Uuid) -> PortResult<Vec<Chunk>>;

    /// The quality report, once the quality stage completed.
    async fn quality(&self, id: Uuid) -> PortResult<Option<QualityReport>>;

    /// Concepts and tags, once the taxonomy stage completed.
    async fn taxonomy(&self, id: Uuid) -> PortResult<Option<Taxonomy>>;

    /// The concept graph (empty before the graph stage completed).
    async fn graph(&self, id: Uuid) -> PortResult<ConceptGraph>;
}

/// Progress of running stages: kept in Redis (24 h) when configured, in the database
/// otherwise. The stage's status rows stay the durable truth; this only carries the
/// fraction done between a stage's start and its end.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait MaterialProgress: Send + Sync {
    /// `stage` of material `id` has done `progress`.
    async fn report(&self, id: Uuid, stage: Stage, progress: Progress) -> PortResult<()>;

    /// The progress reported per stage (empty when none is known here).
    async fn read(&self, id: Uuid) -> PortResult<Vec<(Stage, Progress)>>;
}
