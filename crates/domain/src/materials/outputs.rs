//! What each stage produces: plain values that storage keeps and later stages read.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::tutoring::wire_enum;

/// The id of chunk `ordinal` of a material: a UUID v5 in the material's namespace, so
/// re-running ingestion (a retried job) yields the same ids and storage can upsert.
pub fn chunk_id(material_id: Uuid, ordinal: u32) -> Uuid {
    Uuid::new_v5(&material_id, format!("chunk/{ordinal}").as_bytes())
}

/// A passage of a material, the unit of quality filtering and retrieval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    /// [`chunk_id`] of the material and `ordinal`.
    pub id: Uuid,
    /// Position in the material: 0, 1, 2, … (stable across re-runs).
    pub ordinal: u32,
    /// Where the chunk starts: the heading path (`Loops › For loops`) of markdown, `page N`
    /// of a PDF, none for plain text.
    pub section: Option<String>,
    /// The normalised text, starting with the overlap repeated from the previous chunk.
    pub text: String,
    /// Tokens of `text` (whitespace-separated words, as the AI gateway counts them).
    pub tokens: u32,
    /// How many leading tokens repeat the end of the previous chunk.
    pub overlap_tokens: u32,
}

impl Chunk {
    /// The text without the leading overlap: what this chunk adds to the material. Analyses
    /// that count occurrences read this so overlaps are not counted twice.
    pub fn fresh_text(&self) -> &str {
        if self.overlap_tokens == 0 {
            return &self.text;
        }
        let mut seen = 0u32;
        let mut in_word = false;
        for (at, c) in self.text.char_indices() {
            if c.is_whitespace() {
                in_word = false;
            } else if !in_word {
                if seen == self.overlap_tokens {
                    return &self.text[at..];
                }
                seen += 1;
                in_word = true;
            }
        }
        ""
    }
}

/// The output of the ingestion stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ingestion {
    /// The chunks, by ordinal.
    pub chunks: Vec<Chunk>,
    /// Tokens of the normalised material (overlaps not counted twice).
    pub total_tokens: u64,
    /// Non-fatal problems, in words an instructor can act on (e.g. a PDF page that could not
    /// be read while the others could).
    pub warnings: Vec<String>,
}

/// Why the quality stage dropped a chunk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum DropReason {
    /// No letter or digit.
    Empty,
    /// The same normalised text as an earlier chunk.
    Duplicate {
        /// The chunk kept in its place.
        of: Uuid,
    },
    /// Mostly control characters, replacement characters or mojibake.
    Unreadable,
}

/// The quality verdict on one chunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkQuality {
    /// The chunk.
    pub chunk_id: Uuid,
    /// Its ordinal.
    pub ordinal: u32,
    /// Quality score in `0..=1` (formula in docs/materials.md).
    pub score: f32,
    /// ISO 639-3 code when detected reliably (`eng`, `spa`, …).
    pub language: Option<String>,
    /// Set when the chunk was dropped.
    pub dropped: Option<DropReason>,
}

/// One language's share of a material's kept tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LanguageShare {
    /// ISO 639-3 code.
    pub language: String,
    /// Fraction of the tokens of reliably detected chunks, `0..=1`.
    pub share: f32,
}

/// The output of the quality stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityReport {
    /// One verdict per chunk, by ordinal (dropped ones included).
    pub chunks: Vec<ChunkQuality>,
    /// The material's main language (ISO 639-3), if any chunk was detected reliably.
    pub language: Option<String>,
    /// Every detected language with its share, largest first.
    pub languages: Vec<LanguageShare>,
    /// Quality score of the material in `0..=1`.
    pub score: f32,
    /// Chunks kept.
    pub kept: u32,
    /// Chunks dropped.
    pub dropped: u32,
}

impl QualityReport {
    /// `chunks` without the ones this report dropped, order kept.
    pub fn retain_kept(&self, mut chunks: Vec<Chunk>) -> Vec<Chunk> {
        let dropped: HashSet<Uuid> = self
            .chunks
            .iter()
            .filter(|q| q.dropped.is_some())
            .map(|q| q.chunk_id)
            .collect();
        chunks.retain(|c| !dropped.contains(&c.id));
        chunks
    }
}

/// A key concept of a material.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Concept {
    /// Stable identifier: the stemmed words joined by `_` (`binari_search`).
    pub key: String,
    /// The most frequent surface form (`binary search`).
    pub label: String,
    /// Relevance in `0..=1` (1 for the top concept).
    pub score: f32,
    /// Occurrences in the material.
    pub occurrences: u32,
    /// Chunks it occurs in.
    pub chunks: u32,
}

/// The output of the taxonomy stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Taxonomy {
    /// Key concepts, most relevant first.
    pub concepts: Vec<Concept>,
    /// Suggested tags: lowercase slugs (`binary-search`) of the top concepts.
    pub tags: Vec<String>,
}

/// A concept in the concept graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphNode {
    /// The concept's [`Concept::key`].
    pub id: String,
    /// The concept's label.
    pub label: String,
    /// The concept's score, `0..=1`.
    pub weight: f32,
}

/// Two concepts that occur close to each other.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphEdge {
    /// One end (the smaller id).
    pub source: String,
    /// The other end.
    pub target: String,
    /// `count` divided by the largest count of the graph, `0..=1`.
    pub weight: f32,
    /// Co-occurrences within the window.
    pub count: u32,
}

/// The output of the graph stage: an undirected, bounded concept co-occurrence graph.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ConceptGraph {
    /// Concepts, by weight (highest first).
    pub nodes: Vec<GraphNode>,
    /// Edges, by count (highest first).
    pub edges: Vec<GraphEdge>,
}

/// How a material is made retrievable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EmbeddingKind {
    /// A BM25 index built from the chunks' text (the default; needs no model).
    Lexical,
    /// A vector per chunk from an embeddings endpoint.
    Vector,
}
wire_enum!(EmbeddingKind { Lexical => "lexical", Vector => "vector" });

/// The vector of one chunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkVector {
    /// The chunk.
    pub chunk_id: Uuid,
    /// Its embedding.
    pub vector: Vec<f32>,
}

/// The output of the embedding stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingOutput {
    /// Lexical or vector.
    pub kind: EmbeddingKind,
    /// The analyser (`bm25/spanish`) or the embedding model.
    pub model: String,
    /// Vector length (0 for lexical).
    pub dimensions: u32,
    /// Chunks indexed.
    pub indexed_chunks: u32,
    /// One vector per kept chunk (empty for lexical: the index is rebuilt from the chunks).
    pub vectors: Vec<ChunkVector>,
}

/// A chunk used to ground an answer: recorded in an interaction's `sources` and in its trace.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChunkSource {
    /// The material.
    pub material_id: Uuid,
    /// The chunk.
    pub chunk_id: Uuid,
    /// Retrieval score (BM25, or cosine similarity for vectors); higher is better.
    pub score: f32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(text: &str, overlap_tokens: u32) -> Chunk {
        Chunk {
            id: Uuid::nil(),
            ordinal: 0,
            section: None,
            text: text.to_owned(),
            tokens: u32::try_from(text.split_whitespace().count()).unwrap_or(0),
            overlap_tokens,
        }
    }

    #[test]
    fn chunk_ids_are_stable_and_distinct() {
        let material = Uuid::new_v4();
        assert_eq!(chunk_id(material, 3), chunk_id(material, 3));
        assert_ne!(chunk_id(material, 3), chunk_id(material, 4));
        assert_ne!(chunk_id(material, 3), chunk_id(Uuid::new_v4(), 3));
    }

    #[test]
    fn fresh_text_skips_the_overlap() {
        assert_eq!(chunk("a b c d", 0).fresh_text(), "a b c d");
        assert_eq!(chunk("a b\n\nc d", 2).fresh_text(), "c d");
        assert_eq!(chunk("  a  b c", 1).fresh_text(), "b c");
        assert_eq!(chunk("a b", 2).fresh_text(), "");
    }

    #[test]
    fn retain_kept_drops_only_dropped_chunks() {
        let material = Uuid::new_v4();
        let chunks: Vec<Chunk> = (0..3)
            .map(|i| Chunk {
                id: chunk_id(material, i),
                ordinal: i,
                ..chunk("x y", 0)
            })
            .collect();
        let verdict = |i: u32, dropped: Option<DropReason>| ChunkQuality {
            chunk_id: chunk_id(material, i),
            ordinal: i,
            score: 1.0,
            language: None,
            dropped,
        };
        let report = QualityReport {
            chunks: vec![
                verdict(0, None),
                verdict(
                    1,
                    Some(DropReason::Duplicate {
                        of: chunk_id(material, 0),
                    }),
                ),
                verdict(2, None),
            ],
            language: None,
            languages: Vec::new(),
            score: 1.0,
            kept: 2,
            dropped: 1,
        };
        let kept: Vec<u32> = report
            .retain_kept(chunks)
            .iter()
            .map(|c| c.ordinal)
            .collect();
        assert_eq!(kept, [0, 2]);
        let json = serde_json::to_value(&report.chunks[1]).expect("json");
        assert_eq!(json["dropped"]["reason"], "duplicate");
    }
}
