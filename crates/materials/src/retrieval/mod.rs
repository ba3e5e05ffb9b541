//! Retrieval: the passages of an activity's material that ground a tutoring turn.
//!
//! A [`RetrievalIndex`] is built once from a [`Corpus`] (every kept chunk of the activity's
//! completed materials) and searched many times: BM25 always, cosine similarity too when the
//! corpus has vectors. Results are cut to a [`RetrievalBudget`]: passages are taken best first
//! while they fit the remaining tokens, up to `max_chunks`; BM25 hits scoring under 20 % of the
//! best are left out (they share only a common word with the prompt). If not even the best
//! passage fits, its first `max_tokens` words are returned. [`CachedRetriever`] keeps built
//! indexes per activity and content version and implements the
//! [`MaterialRetriever`](ainative_ports::MaterialRetriever) port.

mod cache;
mod lexical;
mod vector;

use ainative_domain::ChunkSource;
use ainative_ports::{Corpus, CorpusChunk, RetrievalBudget, RetrievedPassage};

pub use cache::{CachedRetriever, RetrieverSettings};
pub use lexical::{LexicalIndex, MAX_QUERY_TERMS};
pub use vector::VectorIndex;

use crate::error::MaterialError;

/// BM25 hits under this fraction of the best score are dropped.
pub const MIN_RELATIVE_SCORE: f32 = 0.2;

/// The searchable form of one activity's material.
#[derive(Debug)]
pub struct RetrievalIndex {
    passages: Vec<CorpusChunk>,
    lexical: LexicalIndex,
    vectors: Option<(String, VectorIndex)>,
}

impl RetrievalIndex {
    /// Builds the indexes of `corpus`: BM25 over the chunks' text with the analyser of its
    /// language, and a vector index when `vector_model` is set and every chunk has a vector.
    /// CPU-bound (well under a second for 1,000 chunks): call it off the async runtime.
    pub fn build(corpus: Corpus) -> Result<Self, MaterialError> {
        let lexical = LexicalIndex::build(
            corpus.chunks.iter().map(|c| c.text.as_str()),
            corpus.language.as_deref(),
        )?;
        let vectors = match corpus.vector_model {
            Some(model) => vector_index(&corpus.chunks, &corpus.vectors)?.map(|v| (model, v)),
            None => None,
        };
        Ok(Self {
            passages: corpus.chunks,
            lexical,
            vectors,
        })
    }

    /// Chunks indexed.
    pub fn len(&self) -> usize {
        self.passages.len()
    }

    /// True when the corpus had no chunk.
    pub fn is_empty(&self) -> bool {
        self.passages.is_empty()
    }

    /// The embedding model of the vector index, if there is one.
    pub fn vector_model(&self) -> Option<&str> {
        self.vectors.as_ref().map(|(model, _)| model.as_str())
    }

    /// The BM25 analyser in use (`bm25/english`, …).
    pub fn analyzer_name(&self) -> &str {
        self.lexical.analyzer_name()
    }

    /// The best passages for `query` by BM25, within `budget`.
    pub fn search_lexical(
        &self,
        query: &str,
        budget: RetrievalBudget,
    ) -> Result<Vec<RetrievedPassage>, MaterialError> {
        let mut hits = self.lexical.search(query, candidates(budget))?;
        if let Some(best) = hits.first().map(|h| h.1) {
            hits.retain(|h| h.1 >= best * MIN_RELATIVE_SCORE);
        }
        Ok(self.within_budget(&hits, budget))
    }

    /// The most similar passages to `query_vector` by cosine similarity, within `budget`;
    /// `None` when there is no vector index or the query has the wrong length.
    pub fn search_vector(
        &self,
        query_vector: &[f32],
        budget: RetrievalBudget,
    ) -> Option<Vec<RetrievedPassage>> {
        let (_, index) = self.vectors.as_ref()?;
        if query_vector.len() != index.dimensions() {
            return None;
        }
        let hits = index.search(query_vector, candidates(budget));
        Some(self.within_budget(&hits, budget))
    }

    fn within_budget(
        &self,
        hits: &[(usize, f32)],
        budget: RetrievalBudget,
    ) -> Vec<RetrievedPassage> {
        let mut out = Vec::new();
        let mut left = budget.max_tokens;
        for &(slot, score) in hits {
            if out.len() >= budget.max_chunks {
                break;
            }
            let Some(chunk) = self.passages.get(slot) else {
                continue;
            };
            if chunk.tokens <= left {
                left -= chunk.tokens;
                out.push(passage(chunk, score, chunk.text.clone(), chunk.tokens));
            }
        }
        if out.is_empty() && budget.max_chunks > 0 && budget.max_tokens > 0 {
            if let Some(chunk) = hits.first().and_then(|(slot, _)| self.passages.get(*slot)) {
                let words: Vec<&str> = chunk
                    .text
                    .split_whitespace()
                    .take(budget.max_tokens as usize)
                    .collect();
                let tokens = u32::try_from(words.len()).unwrap_or(u32::MAX);
                out.push(passage(chunk, hits[0].1, words.join(" "), tokens));
            }
        }
        out
    }
}

fn passage(chunk: &CorpusChunk, score: f32, text: String, tokens: u32) -> RetrievedPassage {
    RetrievedPassage {
        source: ChunkSource {
            material_id: chunk.material_id,
            chunk_id: chunk.chunk_id,
            score,
        },
        section: chunk.section.clone(),
        text,
        tokens,
    }
}

/// Hits to rank before the budget cut: enough to skip passages that do not fit.
fn candidates(budget: RetrievalBudget) -> usize {
    budget.max_chunks.saturating_mul(4).saturating_add(8)
}

/// The vector index in chunk order, or `None` when some chunk has no vector.
fn vector_index(
    chunks: &[CorpusChunk],
    vectors: &[ainative_domain::ChunkVector],
) -> Result<Option<VectorIndex>, MaterialError> {
    let by_chunk: std::collections::HashMap<uuid::Uuid, &[f32]> = vectors
        .iter()
        .map(|v| (v.chunk_id, v.vector.as_slice()))
        .collect();
    let ordered: Option<Vec<&[f32]>> = chunks
        .iter()
        .map(|c| by_chunk.get(&c.chunk_id).copied())
        .collect();
    match ordered {
        Some(ordered) if !ordered.is_empty() => Ok(Some(VectorIndex::build(ordered)?)),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests;
