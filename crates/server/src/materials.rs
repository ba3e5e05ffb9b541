//! Course material wiring: the upload service, the retriever that grounds tutoring turns,
//! and the processor the `material.process` job runs — each built once per process (the
//! pipeline's stop words and language detector, the embeddings client and the index cache
//! are loaded once, not per job).

use std::sync::Arc;
use std::time::Duration;

use ainative_adapters_redis::SharedState;
use ainative_ai_gateway::tutoring::MaterialService;
use ainative_jobs::{JobError, Registry};
use ainative_materials::ProcessOutcome;
use ainative_materials::{
    CachedRetriever, MaterialPipeline, MaterialProcessor, OpenAiEmbedder, OpenAiEmbedderConfig,
    RetrieverSettings,
};
use ainative_ports::{error_chain, Clock, Embedder, Job, RetrievalBudget, MATERIAL_PROCESS_JOB};
use secrecy::ExposeSecret;
use uuid::Uuid;

use crate::database::Database;
use crate::settings::Settings;
use crate::startup::StartupError;

/// Timeout of one embeddings request (a batch of 64 chunks).
const EMBEDDING_TIMEOUT: Duration = Duration::from_secs(60);

/// The material parts of one process.
#[derive(Clone)]
pub struct MaterialParts {
    /// Upload, list, status, graph, delete.
    pub service: Arc<MaterialService>,
    /// Retrieval for grounded turns (an index cache per process).
    pub retriever: Arc<CachedRetriever>,
    /// What a `material.process` job runs.
    pub processor: Arc<MaterialProcessor>,
    /// The budget of material per tutoring turn; `None` = no grounding.
    pub budget: Option<RetrievalBudget>,
}

/// Builds the material parts on `db`.
pub fn material_parts(
    settings: &Settings,
    db: &Database,
    shared: &SharedState,
    clock: Arc<dyn Clock>,
) -> Result<MaterialParts, StartupError> {
    let m = &settings.materials;
    // Redis (24 h) when configured, falling back to the database; the database otherwise.
    let progress = shared.material_progress(db.material_progress.clone());
    let embedder: Option<Arc<dyn Embedder>> = match &m.embedding {
        None => None,
        Some(e) => Some(Arc::new(
            OpenAiEmbedder::new(OpenAiEmbedderConfig {
                base_url: e.base_url.clone(),
                api_key: e.api_key.as_ref().map(|k| k.expose_secret().to_owned()),
                model: e.model.clone(),
                dimensions: None,
                timeout: EMBEDDING_TIMEOUT,
            })
            .map_err(|e| StartupError::Embedding(e.to_string()))?,
        )),
    };
    let retriever = Arc::new(CachedRetriever::new(
        db.material_corpus.clone(),
        embedder.clone(),
        RetrieverSettings::default(),
    ));
    let forget: Arc<dyn Fn(Uuid) + Send + Sync> = {
        let retriever = Arc::clone(&retriever);
        Arc::new(move |activity_id| retriever.forget(activity_id))
    };
    let processor = Arc::new(
        MaterialProcessor::new(
            Arc::new(MaterialPipeline::default()),
            embedder,
            db.materials.clone(),
            progress.clone(),
            clock.clone(),
        )
        .on_completed(forget.clone()),
    );
    let service = Arc::new(
        MaterialService::new(
            db.activities.clone(),
            db.materials.clone(),
            progress,
            clock,
            m.max_bytes,
        )
        .on_change(forget),
    );
    let budget = (m.retrieval_max_chunks > 0).then_some(RetrievalBudget {
        max_tokens: m.retrieval_max_tokens,
        max_chunks: m.retrieval_max_chunks,
    });
    Ok(MaterialParts {
        service,
        retriever,
        processor,
        budget,
    })
}

/// The payload of a `material.process` job.
#[derive(Debug, serde::Deserialize)]
struct ProcessPayload {
    material_id: Uuid,
}

/// Registers the `material.process` handler: it runs the processor, telling it whether this
/// is the job's last attempt (then a retryable failure marks the stage failed too).
pub fn register_jobs(registry: &mut Registry, parts: &MaterialParts) {
    let processor = Arc::clone(&parts.processor);
    registry.register_fn(MATERIAL_PROCESS_JOB, move |job: Job| {
        let processor = Arc::clone(&processor);
        async move {
            let payload: ProcessPayload = serde_json::from_value(job.payload)?;
            let last_attempt = job.attempts >= job.max_attempts;
            match processor.process(payload.material_id, last_attempt).await {
                Ok(outcome) => {
                    if let ProcessOutcome::Failed { stage, error } = &outcome {
                        tracing::info!(material_id = %payload.material_id, %stage, %error, "material failed");
                    }
                    Ok(())
                }
                Err(error) => Err(JobError::msg(error_chain(&error))),
            }
        }
    });
}
