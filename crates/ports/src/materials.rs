//! Ports of course material (SPEC §10.5): computing embeddings, reading the processed
//! material of an activity, and retrieving the passages that ground a tutoring turn.

use async_trait::async_trait;
use uuid::Uuid;

use ainative_domain::{Chunk, ChunkSource, ChunkVector};

use crate::PortResult;

/// Turns texts into vectors: an OpenAI-compatible `/embeddings` endpoint or a local model.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait Embedder: Send + Sync {
    /// The model name, stored with the vectors: vectors of different models never mix.
    fn model(&self) -> &str;

    /// One vector per input, in input order, all of the same length.
    ///
    /// Errors: [`PortError::Unavailable`](crate::PortError::Unavailable) when the endpoint
    /// cannot be reached, times out, or answers 429/5xx (retry later);
    /// [`PortError::Other`](crate::PortError::Other) when it refuses the request (other 4xx)
    /// or answers something that is not one vector per input.
    async fn embed(&self, inputs: &[String]) -> PortResult<Vec<Vec<f32>>>;
}

/// One chunk of an activity's processed material, as retrieval needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorpusChunk {
    /// The material.
    pub material_id: Uuid,
    /// The chunk.
    pub chunk_id: Uuid,
    /// Heading path or page, for citing.
    pub section: Option<String>,
    /// The chunk's text.
    pub text: String,
    /// Its tokens (whitespace words).
    pub tokens: u32,
}

impl CorpusChunk {
    /// The retrieval view of a kept `chunk` of material `material_id`.
    pub fn new(material_id: Uuid, chunk: &Chunk) -> Self {
        Self {
            material_id,
            chunk_id: chunk.id,
            section: chunk.section.clone(),
            text: chunk.text.clone(),
            tokens: chunk.tokens,
        }
    }
}

/// Everything retrieval reads about the processed material of one activity.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Corpus {
    /// The kept chunks of every completed material of the activity.
    pub chunks: Vec<CorpusChunk>,
    /// The main language (ISO 639-3) of the material, which picks the stemmer.
    pub language: Option<String>,
    /// The embedding model of `vectors`, when every chunk has a vector of that model.
    pub vector_model: Option<String>,
    /// One vector per chunk when `vector_model` is set; empty otherwise.
    pub vectors: Vec<ChunkVector>,
}

/// Reads the processed material of an activity (implemented by storage).
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait MaterialCorpus: Send + Sync {
    /// An opaque version of the activity's processed material that changes whenever a
    /// material of it completes processing, is re-processed or is deleted (e.g. the number of
    /// completed materials and the latest `finished_at` of their embedding stage). `None`
    /// when the activity has no completed material. Called on every tutoring turn: keep it
    /// to one indexed query.
    ///
    /// Errors: [`PortError::Unavailable`](crate::PortError::Unavailable) when storage cannot
    /// be reached.
    async fn version(&self, activity_id: Uuid) -> PortResult<Option<String>>;

    /// The corpus of the activity at its current version (empty when it has none).
    ///
    /// Errors: [`PortError::Unavailable`](crate::PortError::Unavailable) when storage cannot
    /// be reached.
    async fn load(&self, activity_id: Uuid) -> PortResult<Corpus>;
}

/// How much retrieved text a turn may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrievalBudget {
    /// Most tokens of passage text in all.
    pub max_tokens: u32,
    /// Most passages.
    pub max_chunks: usize,
}

impl Default for RetrievalBudget {
    /// 1,200 tokens in at most 4 passages.
    fn default() -> Self {
        Self {
            max_tokens: 1200,
            max_chunks: 4,
        }
    }
}

/// A retrieved passage, ready to go into the tutor's context.
#[derive(Debug, Clone, PartialEq)]
pub struct RetrievedPassage {
    /// Which chunk, with its score: goes into the interaction's `sources`, its trace and the
    /// response-cache key.
    pub source: ChunkSource,
    /// Heading path or page, for citing.
    pub section: Option<String>,
    /// The chunk's text.
    pub text: String,
    /// Its tokens.
    pub tokens: u32,
}

/// Finds the passages of an activity's material that best answer a prompt.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait MaterialRetriever: Send + Sync {
    /// The best passages for `query`, best first, within `budget`; empty when the activity
    /// has no processed material or nothing matches.
    ///
    /// Errors: [`PortError::Unavailable`](crate::PortError::Unavailable) when the material
    /// cannot be read; the caller answers without grounding rather than failing the turn.
    async fn retrieve(
        &self,
        activity_id: Uuid,
        query: &str,
        budget: RetrievalBudget,
    ) -> PortResult<Vec<RetrievedPassage>>;
}
