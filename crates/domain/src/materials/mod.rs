//! Course material (SPEC §10.5): what an instructor uploads, the five processing stages and
//! their status, and the plain values each stage produces (chunks, quality, concepts, the
//! concept graph, vectors) that storage keeps and retrieval reads.
//!
//! The processing itself lives in the `ainative-materials` crate; this module holds only the
//! types and the pure rules (the overall status, stage transitions, chunk ids).

mod content;
mod material;
mod outputs;
mod status;

pub use content::{MaterialContentType, UnsupportedContentType};
pub use material::{Material, MAX_MATERIAL_TITLE_CHARS};
pub use outputs::{
    chunk_id, Chunk, ChunkQuality, ChunkSource, ChunkVector, Concept, ConceptGraph, DropReason,
    EmbeddingKind, EmbeddingOutput, GraphEdge, GraphNode, Ingestion, LanguageShare, QualityReport,
    Taxonomy,
};
pub use status::{
    overall_status, MaterialStatus, Progress, Stage, StageRecord, StageStatus, StageTransitionError,
};
