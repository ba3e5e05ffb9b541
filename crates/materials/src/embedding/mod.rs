//! Stage 5, embedding: make the kept chunks retrievable.
//!
//! By default a BM25 index ([`LexicalIndex`]) is built from the chunks to check they index and
//! to name the analyser; the output stores no vectors because a server rebuilds the index from
//! the stored chunks (see [`crate::retrieval`]). With an [`Embedder`] (an OpenAI-compatible
//! `/embeddings` endpoint, [`OpenAiEmbedder`]), each kept chunk gets a vector, requested in
//! batches.

mod openai;

use ainative_domain::{Chunk, ChunkVector, EmbeddingKind, EmbeddingOutput, Stage};
use ainative_ports::Embedder;

pub use openai::{EmbedderConfigError, OpenAiEmbedder, OpenAiEmbedderConfig};

use crate::error::MaterialError;
use crate::progress::{ProgressSink, StageProgress};
use crate::retrieval::LexicalIndex;

pub(crate) fn index_lexical(
    chunks: &[Chunk],
    language: Option<&str>,
    progress: &dyn ProgressSink,
) -> Result<EmbeddingOutput, MaterialError> {
    let mut stage = StageProgress::new(progress, Stage::Embedding);
    let index = LexicalIndex::build(chunks.iter().map(|c| c.text.as_str()), language)?;
    stage.done();
    Ok(EmbeddingOutput {
        kind: EmbeddingKind::Lexical,
        model: index.analyzer_name().to_owned(),
        dimensions: 0,
        indexed_chunks: u32::try_from(index.len()).unwrap_or(u32::MAX),
        vectors: Vec::new(),
    })
}

pub(crate) async fn embed_vectors(
    chunks: &[Chunk],
    embedder: &dyn Embedder,
    batch_size: usize,
    progress: &dyn ProgressSink,
) -> Result<EmbeddingOutput, MaterialError> {
    let mut stage = StageProgress::new(progress, Stage::Embedding);
    let mut vectors = Vec::with_capacity(chunks.len());
    let mut dimensions: Option<usize> = None;
    for batch in chunks.chunks(batch_size.max(1)) {
        let inputs: Vec<String> = batch.iter().map(|c| c.text.clone()).collect();
        let answered = embedder
            .embed(&inputs)
            .await
            .map_err(MaterialError::Embedding)?;
        if answered.len() != batch.len() {
            return Err(MaterialError::BadVectors(format!(
                "{} vectors for {} inputs",
                answered.len(),
                batch.len()
            )));
        }
        for (chunk, vector) in batch.iter().zip(answered) {
            let expected = *dimensions.get_or_insert(vector.len());
            if vector.is_empty() || vector.len() != expected {
                return Err(MaterialError::BadVectors(format!(
                    "a vector of {} dimensions among vectors of {expected}",
                    vector.len()
                )));
            }
            if vector.iter().any(|x| !x.is_finite()) {
                return Err(MaterialError::BadVectors("a non-finite value".to_owned()));
            }
            vectors.push(ChunkVector {
                chunk_id: chunk.id,
                vector,
            });
        }
        stage.fraction(vectors.len(), chunks.len());
    }
    stage.done();
    Ok(EmbeddingOutput {
        kind: EmbeddingKind::Vector,
        model: embedder.model().to_owned(),
        dimensions: u32::try_from(dimensions.unwrap_or(0)).unwrap_or(u32::MAX),
        indexed_chunks: u32::try_from(vectors.len()).unwrap_or(u32::MAX),
        vectors,
    })
}

#[cfg(test)]
mod tests;
