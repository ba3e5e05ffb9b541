//! The course-material pipeline of ainative (SPEC §10.5): pure processing, no storage.
//!
//! [`MaterialPipeline`] runs the five stages — ingestion, quality, taxonomy, graph,
//! embedding — each a function of its inputs that returns a plain serialisable value of
//! `ainative_domain` (chunks, quality report, concepts and tags, concept graph, vectors) for
//! the caller to store, reporting progress through a [`ProgressSink`]. Errors tell a
//! material the instructor must fix ([`RejectedMaterial`]) from internal failures.
//!
//! [`retrieval`] turns an activity's stored chunks into a [`RetrievalIndex`] (BM25 with
//! tantivy, cosine similarity over vectors when there are some) and answers tutoring turns
//! within a token budget; [`CachedRetriever`] implements the
//! [`MaterialRetriever`](ainative_ports::MaterialRetriever) port over a cache of indexes.
//! [`OpenAiEmbedder`] implements the [`Embedder`](ainative_ports::Embedder) port for any
//! OpenAI-compatible `/embeddings` endpoint.
//!
//! Formulas and the integration guide: `docs/materials.md`.

mod analysis;
pub mod config;
mod embedding;
pub mod error;
mod graph;
mod ingest;
mod lexicon;
mod pipeline;
mod processor;
mod progress;
mod quality;
pub mod retrieval;
mod taxonomy;
mod text;

pub use config::{ChunkingConfig, GraphConfig, InvalidChunking, PipelineConfig, TaxonomyConfig};
pub use embedding::{EmbedderConfigError, OpenAiEmbedder, OpenAiEmbedderConfig};
pub use error::{MaterialError, RejectedMaterial, StageError};
pub use ingest::MaterialSource;
pub use pipeline::{MaterialPipeline, ProcessedMaterial};
pub use processor::{CompletionHook, MaterialProcessor, ProcessError, ProcessOutcome};
pub use progress::{NoProgress, ProgressSink};
pub use retrieval::{CachedRetriever, RetrievalIndex, RetrieverSettings};
pub use text::count_tokens;

#[cfg(test)]
mod fixtures {
    /// English course notes with headings, lists, a table and code blocks.
    pub(crate) const MARKDOWN: &str = include_str!("../tests/fixtures/recursion.md");
    /// The same topic in Spanish.
    pub(crate) const MARKDOWN_ES: &str = include_str!("../tests/fixtures/recursion_es.md");
}
