//! Settings of the pipeline. Defaults follow SPEC §10.5 (chunks of ~500 tokens).

/// A chunking setting that breaks the chunker's guarantees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid chunking settings: {0}")]
pub struct InvalidChunking(&'static str);

/// How ingestion splits a material (token = whitespace word).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkingConfig {
    target_tokens: u32,
    overlap_tokens: u32,
    min_chunk_tokens: u32,
    max_chunks: usize,
}

impl Default for ChunkingConfig {
    /// 500-token chunks, 50 tokens of overlap, sections shorter than 100 tokens merged with
    /// the next one, at most 20,000 chunks (about 10 M tokens).
    fn default() -> Self {
        Self {
            target_tokens: 500,
            overlap_tokens: 50,
            min_chunk_tokens: 100,
            max_chunks: 20_000,
        }
    }
}

impl ChunkingConfig {
    /// Chunks of at most `target_tokens`, each repeating up to `overlap_tokens` of the
    /// previous one. Needs `target_tokens >= 8` and `overlap_tokens <= target_tokens / 4`;
    /// the section-merge threshold becomes `target_tokens / 5`.
    pub fn new(target_tokens: u32, overlap_tokens: u32) -> Result<Self, InvalidChunking> {
        if target_tokens < 8 {
            return Err(InvalidChunking("target_tokens must be at least 8"));
        }
        if overlap_tokens > target_tokens / 4 {
            return Err(InvalidChunking(
                "overlap_tokens must be at most a quarter of target_tokens",
            ));
        }
        Ok(Self {
            target_tokens,
            overlap_tokens,
            min_chunk_tokens: target_tokens / 5,
            max_chunks: Self::default().max_chunks,
        })
    }

    /// The same with a different limit on the number of chunks of one material.
    pub fn with_max_chunks(self, max_chunks: usize) -> Self {
        Self { max_chunks, ..self }
    }

    /// Most tokens in a chunk, overlap included.
    pub fn target_tokens(&self) -> u32 {
        self.target_tokens
    }

    /// Most tokens a chunk repeats from the previous one.
    pub fn overlap_tokens(&self) -> u32 {
        self.overlap_tokens
    }

    /// A section shorter than this is merged into the chunk of the next section.
    pub fn min_chunk_tokens(&self) -> u32 {
        self.min_chunk_tokens
    }

    /// Most chunks of one material; beyond it ingestion refuses the material.
    pub fn max_chunks(&self) -> usize {
        self.max_chunks
    }
}

/// How many concepts and tags the taxonomy keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaxonomyConfig {
    /// Key concepts kept (default 25).
    pub max_concepts: usize,
    /// Suggested tags (default 8).
    pub max_tags: usize,
    /// Longest candidate phrase in words (default 3); longer runs are cut into pieces.
    pub max_phrase_words: usize,
}

impl Default for TaxonomyConfig {
    fn default() -> Self {
        Self {
            max_concepts: 25,
            max_tags: 8,
            max_phrase_words: 3,
        }
    }
}

/// The bounds of the concept graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraphConfig {
    /// Most nodes: the top concepts (default 25).
    pub max_nodes: usize,
    /// Most edges, the strongest kept (default 75).
    pub max_edges: usize,
    /// Two concepts co-occur when they start at most this many words apart in a chunk
    /// (default 20, about a sentence).
    pub window_words: usize,
}

impl Default for GraphConfig {
    fn default() -> Self {
        Self {
            max_nodes: 25,
            max_edges: 75,
            window_words: 20,
        }
    }
}

/// Settings of the whole pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PipelineConfig {
    /// Ingestion.
    pub chunking: ChunkingConfig,
    /// Taxonomy.
    pub taxonomy: TaxonomyConfig,
    /// Graph.
    pub graph: GraphConfig,
    /// Chunks per request to an embeddings endpoint (default 64).
    pub embedding_batch: usize,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            chunking: ChunkingConfig::default(),
            taxonomy: TaxonomyConfig::default(),
            graph: GraphConfig::default(),
            embedding_batch: 64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunking_settings_are_checked() {
        assert!(ChunkingConfig::new(7, 0).is_err());
        assert!(ChunkingConfig::new(100, 26).is_err());
        let config = ChunkingConfig::new(100, 25).expect("valid");
        assert_eq!(config.min_chunk_tokens(), 20);
        assert_eq!(config.with_max_chunks(3).max_chunks(), 3);
    }
}
