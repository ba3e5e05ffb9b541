//! [`MaterialPipeline`]: the five stages behind one value a worker builds once.

use ainative_domain::{
    Chunk, ConceptGraph, EmbeddingOutput, Ingestion, QualityReport, Stage, Taxonomy,
};
use ainative_ports::Embedder;
use whatlang::Detector;

use crate::config::PipelineConfig;
use crate::error::{MaterialError, StageError};
use crate::ingest::MaterialSource;
use crate::lexicon::StopWords;
use crate::progress::ProgressSink;
use crate::{embedding, graph, ingest, quality, taxonomy};

/// The material pipeline. Build it once per worker (it holds the stop-word lists and the
/// language detector) and share it; every stage is a pure function of its inputs and the
/// settings, so re-running a stage after a crash gives the same output.
///
/// The stages are synchronous and CPU-bound (run them on `spawn_blocking`), except
/// [`MaterialPipeline::embed_vectors`], which awaits an embeddings endpoint.
#[derive(Debug)]
pub struct MaterialPipeline {
    config: PipelineConfig,
    stop: StopWords,
    detector: Detector,
}

/// Every stage's output for one material (what [`MaterialPipeline::process`] returns).
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessedMaterial {
    /// Stage 1.
    pub ingestion: Ingestion,
    /// Stage 2.
    pub quality: QualityReport,
    /// Stage 3.
    pub taxonomy: Taxonomy,
    /// Stage 4.
    pub graph: ConceptGraph,
    /// Stage 5.
    pub embedding: EmbeddingOutput,
}

impl ProcessedMaterial {
    /// The chunks the quality stage kept: those the later stages and retrieval use.
    pub fn kept_chunks(&self) -> Vec<Chunk> {
        self.quality.retain_kept(self.ingestion.chunks.clone())
    }
}

impl Default for MaterialPipeline {
    fn default() -> Self {
        Self::new(PipelineConfig::default())
    }
}

impl MaterialPipeline {
    /// A pipeline with `config`.
    pub fn new(config: PipelineConfig) -> Self {
        Self {
            config,
            stop: StopWords::default(),
            detector: Detector::new(),
        }
    }

    /// Its settings.
    pub fn config(&self) -> &PipelineConfig {
        &self.config
    }

    /// Stage 1: parse, normalise and chunk. Rejects (see
    /// [`RejectedMaterial`](crate::RejectedMaterial)) a PDF that cannot be read or has no
    /// text, text that is not UTF-8, an empty or too long material.
    pub fn ingest(
        &self,
        source: &MaterialSource<'_>,
        progress: &dyn ProgressSink,
    ) -> Result<Ingestion, MaterialError> {
        ingest::ingest(source, &self.config.chunking, progress)
    }

    /// Stage 2: the quality verdict on `chunks` (all of ingestion's). Rejects a material none
    /// of whose chunks is readable. Pass the result's `retain_kept(chunks)` to later stages
    /// and its `language` to the taxonomy, graph and lexical index.
    pub fn assess_quality(
        &self,
        chunks: &[Chunk],
        progress: &dyn ProgressSink,
    ) -> Result<QualityReport, MaterialError> {
        quality::assess(chunks, &self.detector, progress)
    }

    /// Stage 3: key concepts and tags of the kept chunks of a material in `language`.
    pub fn extract_taxonomy(
        &self,
        kept: &[Chunk],
        language: Option<&str>,
        progress: &dyn ProgressSink,
    ) -> Taxonomy {
        taxonomy::extract(kept, language, &self.config.taxonomy, &self.stop, progress)
    }

    /// Stage 4: the concept graph of the kept chunks over the concepts of `taxonomy`.
    pub fn build_graph(
        &self,
        kept: &[Chunk],
        language: Option<&str>,
        taxonomy: &Taxonomy,
        progress: &dyn ProgressSink,
    ) -> ConceptGraph {
        graph::build(
            kept,
            language,
            taxonomy,
            &self.config.graph,
            &self.stop,
            progress,
        )
    }

    /// Stage 5, default: check the kept chunks build a BM25 index and name its analyser.
    pub fn index_lexical(
        &self,
        kept: &[Chunk],
        language: Option<&str>,
        progress: &dyn ProgressSink,
    ) -> Result<EmbeddingOutput, MaterialError> {
        embedding::index_lexical(kept, language, progress)
    }

    /// Stage 5 with an embeddings endpoint: one vector per kept chunk, in batches of
    /// `embedding_batch`. Fails retryably when the endpoint is unavailable.
    pub async fn embed_vectors(
        &self,
        kept: &[Chunk],
        embedder: &dyn Embedder,
        progress: &dyn ProgressSink,
    ) -> Result<EmbeddingOutput, MaterialError> {
        embedding::embed_vectors(kept, embedder, self.config.embedding_batch, progress).await
    }

    /// Every stage in order with the lexical default, for callers that need no
    /// stage-by-stage persistence (tests, benchmarks, a CLI).
    pub fn process(
        &self,
        source: &MaterialSource<'_>,
        progress: &dyn ProgressSink,
    ) -> Result<ProcessedMaterial, StageError> {
        let (ingestion, quality, taxonomy, graph, kept) = self.analyse(source, progress)?;
        let language = quality.language.as_deref();
        let embedding = self
            .index_lexical(&kept, language, progress)
            .map_err(at(Stage::Embedding))?;
        Ok(ProcessedMaterial {
            ingestion,
            quality,
            taxonomy,
            graph,
            embedding,
        })
    }

    /// Every stage in order with vectors from `embedder` (the CPU stages run on the calling
    /// task: prefer the stage methods in a server).
    pub async fn process_with_embedder(
        &self,
        source: &MaterialSource<'_>,
        embedder: &dyn Embedder,
        progress: &dyn ProgressSink,
    ) -> Result<ProcessedMaterial, StageError> {
        let (ingestion, quality, taxonomy, graph, kept) = self.analyse(source, progress)?;
        let embedding = self
            .embed_vectors(&kept, embedder, progress)
            .await
            .map_err(at(Stage::Embedding))?;
        Ok(ProcessedMaterial {
            ingestion,
            quality,
            taxonomy,
            graph,
            embedding,
        })
    }

    #[allow(clippy::type_complexity)]
    fn analyse(
        &self,
        source: &MaterialSource<'_>,
        progress: &dyn ProgressSink,
    ) -> Result<(Ingestion, QualityReport, Taxonomy, ConceptGraph, Vec<Chunk>), StageError> {
        let ingestion = self
            .ingest(source, progress)
            .map_err(at(Stage::Ingestion))?;
        let quality = self
            .assess_quality(&ingestion.chunks, progress)
            .map_err(at(Stage::Quality))?;
        let kept = quality.retain_kept(ingestion.chunks.clone());
        let language = quality.language.as_deref();
        let taxonomy = self.extract_taxonomy(&kept, language, progress);
        let graph = self.build_graph(&kept, language, &taxonomy, progress);
        Ok((ingestion, quality, taxonomy, graph, kept))
    }
}

fn at(stage: Stage) -> impl Fn(MaterialError) -> StageError {
    move |error| StageError { stage, error }
}

#[cfg(test)]
mod tests;
