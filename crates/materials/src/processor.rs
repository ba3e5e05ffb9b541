//! [`MaterialProcessor`]: one `material.process` job — the stages of one material, each
//! started, run and stored (output and status in one transaction), resuming at the first
//! stage not completed.
//!
//! A worker that died mid-stage left that stage `processing`; the next attempt starts it
//! again from its stored inputs (the stages are deterministic, outputs are replaced), so a
//! stage is never stuck. A material the instructor must fix fails at once with the reason;
//! an internal or retryable failure is returned for the queue to retry, and marks the stage
//! failed only on the last attempt.

use std::sync::Arc;

use ainative_domain::{Chunk, MaterialStatus, Progress, QualityReport, Stage, Taxonomy};
use ainative_ports::{
    error_chain, Clock, Embedder, MaterialProgress, MaterialStore, PortError, StageOutput,
};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::error::MaterialError;
use crate::ingest::MaterialSource;
use crate::pipeline::MaterialPipeline;
use crate::progress::ProgressSink;

/// Called with the activity of a material that completed, so caches can forget it.
pub type CompletionHook = Arc<dyn Fn(Uuid) + Send + Sync>;

/// How a processing run ended without an error for the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcessOutcome {
    /// Every stage completed.
    Completed,
    /// A stage failed; its `error` is stored for the instructor.
    Failed {
        /// The stage.
        stage: Stage,
        /// The instructor-readable reason.
        error: String,
    },
    /// The material was deleted (before or during processing): nothing to do.
    Gone,
}

/// A failure the job queue should retry (with back-off).
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// Storage failed.
    #[error("material storage failed")]
    Storage(#[source] PortError),
    /// A stage failed in a way that may pass later (an embeddings endpoint down, an
    /// internal error).
    #[error("stage {stage} failed")]
    Stage {
        /// The stage.
        stage: Stage,
        /// Why.
        #[source]
        error: MaterialError,
    },
    /// The blocking task running a stage panicked or was cancelled.
    #[error("the stage task of {0} did not finish")]
    Task(Stage),
}

impl From<PortError> for ProcessError {
    fn from(error: PortError) -> Self {
        Self::Storage(error)
    }
}

/// Runs the stages of materials; build one per worker process and share it (the pipeline's
/// stop words and language detector, and the embeddings client, are loaded once).
pub struct MaterialProcessor {
    pipeline: Arc<MaterialPipeline>,
    embedder: Option<Arc<dyn Embedder>>,
    store: Arc<dyn MaterialStore>,
    progress: Arc<dyn MaterialProgress>,
    clock: Arc<dyn Clock>,
    on_completed: Option<CompletionHook>,
}

impl std::fmt::Debug for MaterialProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MaterialProcessor")
            .field(
                "embedder",
                &self.embedder.as_ref().map(|e| e.model().to_owned()),
            )
            .finish_non_exhaustive()
    }
}

/// What the stages after ingestion read, loaded once per run.
#[derive(Default)]
struct Inputs {
    chunks: Option<Vec<Chunk>>,
    quality: Option<QualityReport>,
    taxonomy: Option<Taxonomy>,
}

impl MaterialProcessor {
    /// A processor storing through `store` and reporting progress to `progress`; with an
    /// `embedder`, the embedding stage asks it for vectors (BM25 otherwise).
    pub fn new(
        pipeline: Arc<MaterialPipeline>,
        embedder: Option<Arc<dyn Embedder>>,
        store: Arc<dyn MaterialStore>,
        progress: Arc<dyn MaterialProgress>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            pipeline,
            embedder,
            store,
            progress,
            clock,
            on_completed: None,
        }
    }

    /// Calls `hook` with the activity id whenever a material completes.
    pub fn on_completed(mut self, hook: CompletionHook) -> Self {
        self.on_completed = Some(hook);
        self
    }

    /// Processes material `id` from its first stage not completed. `last_attempt` says the
    /// queue will not retry: a retryable failure then marks the stage failed too.
    ///
    /// Errors: a [`ProcessError`] for the queue to retry; the stage stays `processing` (a
    /// later attempt restarts it).
    pub async fn process(
        &self,
        id: Uuid,
        last_attempt: bool,
    ) -> Result<ProcessOutcome, ProcessError> {
        let Some(material) = self.store.find(id).await? else {
            return Ok(ProcessOutcome::Gone);
        };
        let Some(mut status) = self.store.status(id).await? else {
            return Ok(ProcessOutcome::Gone);
        };
        let mut inputs = Inputs::default();
        while let Some(stage) = status.next_stage() {
            status
                .start(stage, self.clock.now())
                .map_err(|e| PortError::other_from("stored stages are out of order", e))?;
            if let Some(gone) = self.save(id, &status).await? {
                return Ok(gone);
            }
            tracing::debug!(material_id = %id, stage = %stage, "stage started");
            let output = match self
                .run(id, material.content_type, stage, &mut inputs)
                .await
            {
                Ok(output) => output,
                Err(ProcessError::Stage { stage, error })
                    if error.is_rejection() || !error.is_retryable() || last_attempt =>
                {
                    tracing::warn!(material_id = %id, stage = %stage, error = %error_chain(&error), "material stage failed");
                    let message = error.instructor_message();
                    return self.fail(id, &mut status, stage, message).await;
                }
                Err(ProcessError::Task(stage)) if last_attempt => {
                    tracing::warn!(material_id = %id, stage = %stage, "material stage task did not finish");
                    let message = "an internal error stopped the processing".to_owned();
                    return self.fail(id, &mut status, stage, message).await;
                }
                Err(error) => return Err(error),
            };
            status
                .complete(stage, self.clock.now())
                .map_err(|e| PortError::other_from("stage completed out of order", e))?;
            match self
                .store
                .complete_stage(id, &status, &output, self.clock.now())
                .await
            {
                Ok(()) => {}
                Err(PortError::NotFound) => return Ok(ProcessOutcome::Gone),
                Err(error) => return Err(error.into()),
            }
            remember(&mut inputs, output);
        }
        if let Some(hook) = &self.on_completed {
            hook(material.activity_id);
        }
        tracing::info!(material_id = %id, activity_id = %material.activity_id, "material processed");
        Ok(ProcessOutcome::Completed)
    }

    /// Saves `status`; `Some(Gone)` when the material was deleted meanwhile.
    async fn save(
        &self,
        id: Uuid,
        status: &MaterialStatus,
    ) -> Result<Option<ProcessOutcome>, ProcessError> {
        match self.store.save_status(id, status, self.clock.now()).await {
            Ok(()) => Ok(None),
            Err(PortError::NotFound) => Ok(Some(ProcessOutcome::Gone)),
            Err(error) => Err(error.into()),
        }
    }

    async fn fail(
        &self,
        id: Uuid,
        status: &mut MaterialStatus,
        stage: Stage,
        message: String,
    ) -> Result<ProcessOutcome, ProcessError> {
        status
            .fail(stage, self.clock.now(), message.clone())
            .map_err(|e| PortError::other_from("stage failed out of order", e))?;
        if let Some(gone) = self.save(id, status).await? {
            return Ok(gone);
        }
        Ok(ProcessOutcome::Failed {
            stage,
            error: message,
        })
    }

    /// Runs one stage (the CPU-bound ones on the blocking pool), reporting progress.
    async fn run(
        &self,
        id: Uuid,
        content_type: ainative_domain::MaterialContentType,
        stage: Stage,
        inputs: &mut Inputs,
    ) -> Result<StageOutput, ProcessError> {
        let (sink, reports) = ChannelSink::new();
        let forward = self.forward_progress(id, reports);
        let at = |error| ProcessError::Stage { stage, error };
        let pipeline = Arc::clone(&self.pipeline);
        let output = match stage {
            Stage::Ingestion => {
                let bytes = self.store.content(id).await?.unwrap_or_default();
                blocking(stage, move || {
                    let source = MaterialSource {
                        material_id: id,
                        content_type,
                        bytes: &bytes,
                    };
                    pipeline.ingest(&source, &sink).map(StageOutput::Ingestion)
                })
                .await?
                .map_err(at)
            }
            Stage::Quality => {
                let chunks = self.chunks(id, inputs).await?;
                blocking(stage, move || {
                    pipeline
                        .assess_quality(&chunks, &sink)
                        .map(StageOutput::Quality)
                })
                .await?
                .map_err(at)
            }
            Stage::Taxonomy => {
                let (kept, language) = self.kept(id, inputs).await?;
                blocking(stage, move || {
                    Ok(StageOutput::Taxonomy(pipeline.extract_taxonomy(
                        &kept,
                        language.as_deref(),
                        &sink,
                    )))
                })
                .await?
                .map_err(at)
            }
            Stage::Graph => {
                let (kept, language) = self.kept(id, inputs).await?;
                let taxonomy = match inputs.taxonomy.clone() {
                    Some(taxonomy) => taxonomy,
                    None => self
                        .store
                        .taxonomy(id)
                        .await?
                        .ok_or_else(|| PortError::Other("the taxonomy is missing".into()))?,
                };
                blocking(stage, move || {
                    Ok(StageOutput::Graph(pipeline.build_graph(
                        &kept,
                        language.as_deref(),
                        &taxonomy,
                        &sink,
                    )))
                })
                .await?
                .map_err(at)
            }
            Stage::Embedding => {
                let (kept, language) = self.kept(id, inputs).await?;
                match &self.embedder {
                    Some(embedder) => {
                        // Moved in, so the channel closes when the stage ends.
                        let sink = sink;
                        pipeline
                            .embed_vectors(&kept, embedder.as_ref(), &sink)
                            .await
                            .map(StageOutput::Embedding)
                            .map_err(at)
                    }
                    None => blocking(stage, move || {
                        pipeline
                            .index_lexical(&kept, language.as_deref(), &sink)
                            .map(StageOutput::Embedding)
                    })
                    .await?
                    .map_err(at),
                }
            }
        };
        // Every report is written before the stage's completion (which sets progress 1).
        let _ = forward.await;
        output
    }

    fn forward_progress(
        &self,
        id: Uuid,
        mut reports: mpsc::UnboundedReceiver<(Stage, Progress)>,
    ) -> tokio::task::JoinHandle<()> {
        let progress = Arc::clone(&self.progress);
        tokio::spawn(async move {
            while let Some((stage, value)) = reports.recv().await {
                if let Err(error) = progress.report(id, stage, value).await {
                    tracing::debug!(material_id = %id, error = %error_chain(&error), "progress not recorded");
                }
            }
        })
    }

    async fn chunks(&self, id: Uuid, inputs: &mut Inputs) -> Result<Vec<Chunk>, ProcessError> {
        if inputs.chunks.is_none() {
            inputs.chunks = Some(self.store.chunks(id).await?);
        }
        Ok(inputs.chunks.clone().unwrap_or_default())
    }

    /// The chunks quality kept, and the material's language.
    async fn kept(
        &self,
        id: Uuid,
        inputs: &mut Inputs,
    ) -> Result<(Vec<Chunk>, Option<String>), ProcessError> {
        let chunks = self.chunks(id, inputs).await?;
        if inputs.quality.is_none() {
            inputs.quality = self.store.quality(id).await?;
        }
        let Some(quality) = &inputs.quality else {
            return Err(PortError::Other("the quality report is missing".into()).into());
        };
        Ok((quality.retain_kept(chunks), quality.language.clone()))
    }
}

fn remember(inputs: &mut Inputs, output: StageOutput) {
    match output {
        StageOutput::Ingestion(ingestion) => inputs.chunks = Some(ingestion.chunks),
        StageOutput::Quality(report) => inputs.quality = Some(report),
        StageOutput::Taxonomy(taxonomy) => inputs.taxonomy = Some(taxonomy),
        StageOutput::Graph(_) | StageOutput::Embedding(_) => {}
    }
}

async fn blocking<T: Send + 'static>(
    stage: Stage,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ProcessError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| ProcessError::Task(stage))
}

/// Progress from the stage's thread to the task that stores it.
struct ChannelSink(mpsc::UnboundedSender<(Stage, Progress)>);

impl ChannelSink {
    fn new() -> (Self, mpsc::UnboundedReceiver<(Stage, Progress)>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self(tx), rx)
    }
}

impl ProgressSink for ChannelSink {
    fn report(&self, stage: Stage, progress: Progress) {
        let _ = self.0.send((stage, progress));
    }
}
