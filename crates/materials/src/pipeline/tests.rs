use std::sync::{Arc, Mutex};
use std::time::Duration;

use ainative_domain::{MaterialContentType, Progress};
use ainative_ports::{Corpus, CorpusChunk, MaterialRetriever, MockMaterialCorpus, RetrievalBudget};
use serde_json::{json, Value};
use uuid::Uuid;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::*;
use crate::error::RejectedMaterial;
use crate::{CachedRetriever, NoProgress, OpenAiEmbedder, OpenAiEmbedderConfig, RetrieverSettings};

const MATERIAL: Uuid = Uuid::from_u128(9);

fn markdown(text: &str) -> MaterialSource<'_> {
    MaterialSource {
        material_id: MATERIAL,
        content_type: MaterialContentType::Markdown,
        bytes: text.as_bytes(),
    }
}

#[test]
fn a_markdown_material_goes_through_every_stage() {
    let reports = Mutex::new(Vec::new());
    let sink = |stage: Stage, p: Progress| reports.lock().expect("lock").push((stage, p.value()));
    let pipeline = MaterialPipeline::default();
    let out = pipeline
        .process(&markdown(crate::fixtures::MARKDOWN), &sink)
        .expect("processed");

    assert_eq!(out.quality.chunks.len(), out.ingestion.chunks.len());
    let kept = out.kept_chunks();
    assert_eq!(kept.len() as u32, out.quality.kept);
    assert_eq!(out.embedding.indexed_chunks as usize, kept.len());
    assert_eq!(out.embedding.model, "bm25/english");
    assert!(!out.taxonomy.concepts.is_empty() && !out.taxonomy.tags.is_empty());
    assert!(out
        .graph
        .nodes
        .iter()
        .all(|n| out.taxonomy.concepts.iter().any(|c| c.key == n.id)));
    assert!(kept
        .iter()
        .all(|c| c.id == ainative_domain::chunk_id(MATERIAL, c.ordinal)));

    let reports = reports.into_inner().expect("lock");
    let stages: Vec<Stage> = reports.iter().map(|r| r.0).collect();
    let mut order = stages.clone();
    order.dedup();
    assert_eq!(order, Stage::ALL, "each stage reports, in pipeline order");
    for stage in Stage::ALL {
        let values: Vec<f32> = reports
            .iter()
            .filter(|r| r.0 == *stage)
            .map(|r| r.1)
            .collect();
        assert!(
            values.windows(2).all(|w| w[0] < w[1]),
            "{stage}: {values:?}"
        );
        assert_eq!(values.last().copied(), Some(1.0), "{stage} ends at 1");
    }
}

#[test]
fn stages_are_repeatable_and_their_outputs_round_trip_as_json() {
    let pipeline = MaterialPipeline::default();
    let first = pipeline
        .process(&markdown(crate::fixtures::MARKDOWN_ES), &NoProgress)
        .expect("processed");
    let again = pipeline
        .process(&markdown(crate::fixtures::MARKDOWN_ES), &NoProgress)
        .expect("processed");
    assert_eq!(first, again, "a re-run stage gives the same output");
    let json = serde_json::to_string(&(
        &first.ingestion,
        &first.quality,
        &first.taxonomy,
        &first.graph,
        &first.embedding,
    ))
    .expect("serialise");
    let back: (
        Ingestion,
        QualityReport,
        Taxonomy,
        ConceptGraph,
        EmbeddingOutput,
    ) = serde_json::from_str(&json).expect("deserialise");
    assert_eq!(back.0, first.ingestion);
    assert_eq!(back.1, first.quality);
    assert_eq!(back.2, first.taxonomy);
    assert_eq!(back.3, first.graph);
    assert_eq!(back.4, first.embedding);
    assert_eq!(first.quality.language.as_deref(), Some("spa"));
}

#[test]
fn an_unreadable_pdf_fails_ingestion_with_a_readable_reason() {
    let source = MaterialSource {
        material_id: MATERIAL,
        content_type: MaterialContentType::Pdf,
        bytes: b"%PDF-1.7\n garbage that is not a PDF body",
    };
    let err = MaterialPipeline::default()
        .process(&source, &NoProgress)
        .expect_err("rejected");
    assert_eq!(err.stage, Stage::Ingestion);
    assert!(err.error.is_rejection() && !err.error.is_retryable());
    assert!(matches!(
        err.error,
        MaterialError::Rejected(RejectedMaterial::UnreadablePdf(_))
    ));
    assert!(err
        .error
        .instructor_message()
        .starts_with("the PDF could not be read: "));
}

#[test]
fn garbage_text_fails_quality_not_ingestion() {
    let garbage = "\u{fffd}\u{fffd}\u{fffd} \u{fffd}\u{fffd}\n\n\u{fffd}\u{fffd}\u{fffd}";
    let err = MaterialPipeline::default()
        .process(&markdown(garbage), &NoProgress)
        .expect_err("rejected");
    assert_eq!(err.stage, Stage::Quality);
    assert!(matches!(
        err.error,
        MaterialError::Rejected(RejectedMaterial::NothingReadable)
    ));
}

/// A fake embeddings endpoint: bag-of-words vectors (each word adds 1 to a hashed
/// dimension), answered in reverse order to exercise `index`.
struct BagOfWords;

const DIMENSIONS: usize = 64;

fn bag_of_words(text: &str) -> Vec<f32> {
    let mut vector = vec![0.0; DIMENSIONS];
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 3)
    {
        let hash = word.to_lowercase().bytes().fold(2166136261u32, |h, b| {
            (h ^ u32::from(b)).wrapping_mul(16777619)
        });
        vector[hash as usize % DIMENSIONS] += 1.0;
    }
    vector
}

impl Respond for BagOfWords {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let inputs = body["input"].as_array().cloned().unwrap_or_default();
        let mut data: Vec<Value> = inputs
            .iter()
            .enumerate()
            .map(|(i, text)| {
                json!({"object": "embedding", "index": i,
                       "embedding": bag_of_words(text.as_str().unwrap_or_default())})
            })
            .collect();
        data.reverse();
        ResponseTemplate::new(200).set_body_json(json!({
            "object": "list", "data": data, "model": body["model"],
            "usage": {"prompt_tokens": 1, "total_tokens": 1}
        }))
    }
}

#[tokio::test]
async fn vectors_from_an_embeddings_endpoint_ground_retrieval() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/embeddings"))
        .respond_with(BagOfWords)
        .mount(&server)
        .await;
    let embedder = Arc::new(
        OpenAiEmbedder::new(OpenAiEmbedderConfig {
            base_url: format!("{}/v1", server.uri()),
            api_key: None,
            model: "bag-of-words".to_owned(),
            dimensions: None,
            timeout: Duration::from_secs(5),
        })
        .expect("embedder"),
    );
    let pipeline = MaterialPipeline::new(PipelineConfig {
        embedding_batch: 2,
        ..PipelineConfig::default()
    });
    let out = pipeline
        .process_with_embedder(
            &markdown(crate::fixtures::MARKDOWN),
            embedder.as_ref(),
            &NoProgress,
        )
        .await
        .expect("processed");
    let kept = out.kept_chunks();
    assert_eq!(out.embedding.vectors.len(), kept.len());
    assert_eq!(out.embedding.dimensions as usize, DIMENSIONS);
    for (chunk, vector) in kept.iter().zip(&out.embedding.vectors) {
        assert_eq!(vector.chunk_id, chunk.id);
        assert_eq!(
            vector.vector,
            bag_of_words(&chunk.text),
            "vectors follow chunk order"
        );
    }

    // What storage would hand back for the activity, read through the retriever port.
    let corpus = Corpus {
        chunks: kept.iter().map(|c| CorpusChunk::new(MATERIAL, c)).collect(),
        language: out.quality.language.clone(),
        vector_model: Some(out.embedding.model.clone()),
        vectors: out.embedding.vectors.clone(),
    };
    let mut storage = MockMaterialCorpus::new();
    storage
        .expect_version()
        .returning(|_| Ok(Some("1".to_owned())));
    storage
        .expect_load()
        .times(1)
        .returning(move |_| Ok(corpus.clone()));
    let retriever = CachedRetriever::new(
        Arc::new(storage),
        Some(embedder),
        RetrieverSettings::default(),
    );
    let found = retriever
        .retrieve(
            Uuid::from_u128(1),
            "memoization cache fibonacci subproblem",
            RetrievalBudget::default(),
        )
        .await
        .expect("retrieve");
    assert!(!found.is_empty());
    assert!(found[0].text.contains("Memoization"), "{}", found[0].text);
    assert!(
        found[0].source.score > 0.0 && found[0].source.score <= 1.0,
        "cosine score"
    );
}
