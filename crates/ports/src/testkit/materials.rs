//! Contract cases of the material ports: [`MaterialStore`], [`MaterialCorpus`] and the
//! database's [`MaterialProgress`].
//!
//! ```ignore
//! ainative_ports::materials_contract!(make());
//! ```

use std::sync::Arc;

use ainative_domain::{
    chunk_id, ActivityStatus, Chunk, ChunkQuality, ChunkVector, Concept, ConceptGraph, DropReason,
    EmbeddingKind, EmbeddingOutput, GraphEdge, GraphNode, Ingestion, Material, MaterialContentType,
    MaterialStatus, Page, Progress, QualityReport, Stage, StageStatus, Taxonomy,
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::fixtures::{now, plus_secs};
use super::tutoring::{activity, instructor, TutoringStores};
use crate::{MaterialCorpus, MaterialProgress, MaterialStore, NewJob, PortError, StageOutput};

/// The material ports of one backend, with the tutoring ports to set up activities.
pub struct MaterialStores {
    /// Users and activities (and the guard of the database).
    pub tutoring: TutoringStores,
    /// Materials.
    pub materials: Arc<dyn MaterialStore>,
    /// The corpus retrieval reads.
    pub corpus: Arc<dyn MaterialCorpus>,
    /// Progress kept in the database.
    pub progress: Arc<dyn MaterialProgress>,
}

impl MaterialStores {
    /// Uses one store for every port; `tutoring` must be built on the same store.
    pub fn new<S>(store: Arc<S>, tutoring: TutoringStores) -> Self
    where
        S: MaterialStore + MaterialCorpus + MaterialProgress + 'static,
    {
        Self {
            tutoring,
            materials: store.clone(),
            corpus: store.clone(),
            progress: store,
        }
    }
}

/// Expands to one `#[tokio::test]` per material contract case.
#[macro_export]
macro_rules! materials_contract {
    ($make:expr) => {
        $crate::__material_cases!(
            $make;
            material_create_find_list_delete,
            material_status_round_trip_and_overall,
            material_stage_outputs_round_trip,
            material_reingestion_replaces_chunks,
            material_corpus_version_and_load,
            material_corpus_vectors_only_when_complete,
            material_progress_in_the_database,
            material_deleted_meanwhile_is_not_found,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __material_cases {
    ($make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let stores = $make.await;
                $crate::testkit::materials::$case(stores).await;
            }
        )*
    };
}

/// The job enqueued with every test material.
pub fn processing_job(material_id: Uuid) -> NewJob {
    NewJob::new(
        crate::MATERIAL_PROCESS_JOB,
        serde_json::json!({ "material_id": material_id }),
        now(),
    )
    .unique(format!("material:{material_id}"))
}

/// An activity of a new instructor; returns its id.
async fn an_activity(s: &MaterialStores, name: &str, at: DateTime<Utc>) -> Uuid {
    let owner = instructor(&s.tutoring, name, at).await;
    let activity = activity(owner, "Recursion", ActivityStatus::Published, at);
    s.tutoring
        .activities
        .create(activity.clone())
        .await
        .expect("create activity");
    activity.id
}

/// Uploads a markdown material to `activity_id`; returns it.
async fn upload(s: &MaterialStores, activity_id: Uuid, title: &str, at: DateTime<Utc>) -> Material {
    let owner = s
        .tutoring
        .activities
        .find(activity_id)
        .await
        .expect("find")
        .expect("activity")
        .owner_id;
    let material = Material::uploaded(
        activity_id,
        title.to_owned(),
        MaterialContentType::Markdown,
        5,
        owner,
        at,
    );
    s.materials
        .create(&material, b"# Hi\n", &processing_job(material.id))
        .await
        .expect("create material");
    material
}

fn chunks_of(material_id: Uuid, texts: &[&str]) -> Vec<Chunk> {
    texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let ordinal = u32::try_from(i).expect("small");
            Chunk {
                id: chunk_id(material_id, ordinal),
                ordinal,
                section: (i % 2 == 0).then(|| format!("Part {i} › «ü»")),
                text: (*text).to_owned(),
                tokens: u32::try_from(text.split_whitespace().count()).expect("small"),
                overlap_tokens: u32::from(i > 0),
            }
        })
        .collect()
}

fn quality_of(chunks: &[Chunk], dropped: &[u32]) -> QualityReport {
    QualityReport {
        chunks: chunks
            .iter()
            .map(|c| ChunkQuality {
                chunk_id: c.id,
                ordinal: c.ordinal,
                score: 0.75,
                language: Some("eng".to_owned()),
                dropped: dropped.contains(&c.ordinal).then_some(DropReason::Empty),
            })
            .collect(),
        language: Some("eng".to_owned()),
        languages: Vec::new(),
        score: 0.5,
        kept: u32::try_from(chunks.len() - dropped.len()).expect("small"),
        dropped: u32::try_from(dropped.len()).expect("small"),
    }
}

fn taxonomy() -> Taxonomy {
    Taxonomy {
        concepts: vec![
            Concept {
                key: "base_case".into(),
                label: "base case".into(),
                score: 1.0,
                occurrences: 4,
                chunks: 2,
            },
            Concept {
                key: "recurs".into(),
                label: "recursion".into(),
                score: 0.5,
                occurrences: 3,
                chunks: 1,
            },
        ],
        tags: vec!["base-case".into(), "recursion".into()],
    }
}

fn graph() -> ConceptGraph {
    ConceptGraph {
        nodes: vec![
            GraphNode {
                id: "base_case".into(),
                label: "base case".into(),
                weight: 1.0,
            },
            GraphNode {
                id: "recurs".into(),
                label: "recursion".into(),
                weight: 0.5,
            },
        ],
        edges: vec![GraphEdge {
            source: "base_case".into(),
            target: "recurs".into(),
            weight: 1.0,
            count: 3,
        }],
    }
}

fn lexical(indexed: u32) -> EmbeddingOutput {
    EmbeddingOutput {
        kind: EmbeddingKind::Lexical,
        model: "bm25/english".into(),
        dimensions: 0,
        indexed_chunks: indexed,
        vectors: Vec::new(),
    }
}

/// Runs every stage of `material` with the given outputs, storing each as a worker does.
async fn process(
    s: &MaterialStores,
    material: &Material,
    chunks: Vec<Chunk>,
    dropped: &[u32],
    embedding: Option<EmbeddingOutput>,
    at: DateTime<Utc>,
) {
    let quality = quality_of(&chunks, dropped);
    let kept = u32::try_from(chunks.len() - dropped.len()).expect("small");
    let outputs = [
        StageOutput::Ingestion(Ingestion {
            chunks,
            total_tokens: 10,
            warnings: Vec::new(),
        }),
        StageOutput::Quality(quality),
        StageOutput::Taxonomy(taxonomy()),
        StageOutput::Graph(graph()),
        StageOutput::Embedding(embedding.unwrap_or_else(|| lexical(kept))),
    ];
    let mut status = s
        .materials
        .status(material.id)
        .await
        .expect("status")
        .expect("exists");
    for output in outputs {
        status.start(output.stage(), at).expect("start");
        s.materials
            .save_status(material.id, &status, at)
            .await
            .expect("save status");
        status.complete(output.stage(), at).expect("complete");
        s.materials
            .complete_stage(material.id, &status, &output, at)
            .await
            .expect("complete stage");
    }
}

/// Create, find, list newest first with totals, delete.
pub async fn material_create_find_list_delete(s: MaterialStores) {
    let t = now();
    let activity_id = an_activity(&s, "mia", t).await;
    let other = an_activity(&s, "olga", t).await;
    let first = upload(&s, activity_id, "First «ü»", t).await;
    let second = upload(&s, activity_id, "Second", plus_secs(t, 1)).await;
    upload(&s, other, "Elsewhere", t).await;

    let found = s.materials.find(first.id).await.expect("find");
    assert_eq!(found.as_ref(), Some(&first));
    assert_eq!(s.materials.find(Uuid::new_v4()).await, Ok(None));
    assert_eq!(
        s.materials.content(first.id).await,
        Ok(Some(b"# Hi\n".to_vec()))
    );
    let page = s
        .materials
        .list(activity_id, Page::default())
        .await
        .expect("list");
    assert_eq!(page.total, 2);
    let ids: Vec<Uuid> = page.items.iter().map(|m| m.id).collect();
    assert_eq!(ids, [second.id, first.id]);
    let second_page = s
        .materials
        .list(activity_id, Page::new(Some(1), Some(1)).expect("page"))
        .await
        .expect("list");
    assert_eq!(second_page.total, 2);
    assert_eq!(second_page.items.len(), 1);

    let status = s.materials.status(first.id).await.expect("status");
    assert_eq!(status, Some(MaterialStatus::new()));

    let dup = s
        .materials
        .create(&first, b"x", &processing_job(first.id))
        .await;
    assert!(matches!(dup, Err(PortError::Conflict(_))), "{dup:?}");

    s.materials.delete(first.id).await.expect("delete");
    assert_eq!(s.materials.find(first.id).await, Ok(None));
    assert_eq!(s.materials.status(first.id).await, Ok(None));
    assert_eq!(s.materials.delete(first.id).await, Err(PortError::NotFound));
    let page = s
        .materials
        .list(activity_id, Page::default())
        .await
        .expect("list");
    assert_eq!(page.total, 1);
}

/// Stage records round-trip exactly; the material's status follows the overall rule.
pub async fn material_status_round_trip_and_overall(s: MaterialStores) {
    let t = now();
    let activity_id = an_activity(&s, "mia", t).await;
    let material = upload(&s, activity_id, "Notes", t).await;
    let mut status = MaterialStatus::new();
    status.start(Stage::Ingestion, t).expect("start");
    status
        .advance(Stage::Ingestion, Progress::new(0.25))
        .expect("advance");
    let later = plus_secs(t, 3);
    s.materials
        .save_status(material.id, &status, later)
        .await
        .expect("save");
    assert_eq!(
        s.materials.status(material.id).await,
        Ok(Some(status.clone()))
    );
    let stored = s
        .materials
        .find(material.id)
        .await
        .expect("find")
        .expect("some");
    assert_eq!(stored.status, StageStatus::Processing);
    assert_eq!(stored.updated_at, later);

    status
        .fail(Stage::Ingestion, later, "the PDF is encrypted")
        .expect("fail");
    s.materials
        .save_status(material.id, &status, later)
        .await
        .expect("save");
    let back = s
        .materials
        .status(material.id)
        .await
        .expect("status")
        .expect("some");
    assert_eq!(back, status);
    assert_eq!(
        back.stage(Stage::Ingestion).error.as_deref(),
        Some("the PDF is encrypted")
    );
    let stored = s
        .materials
        .find(material.id)
        .await
        .expect("find")
        .expect("some");
    assert_eq!(stored.status, StageStatus::Failed);
}

/// Every stage's output is stored with its completion and reads back.
pub async fn material_stage_outputs_round_trip(s: MaterialStores) {
    let t = now();
    let activity_id = an_activity(&s, "mia", t).await;
    let material = upload(&s, activity_id, "Notes", t).await;
    let chunks = chunks_of(material.id, &["one two", "three «four»", "", "five six"]);
    process(&s, &material, chunks.clone(), &[2], None, t).await;

    assert_eq!(s.materials.chunks(material.id).await, Ok(chunks.clone()));
    assert_eq!(
        s.materials.quality(material.id).await,
        Ok(Some(quality_of(&chunks, &[2])))
    );
    assert_eq!(
        s.materials.taxonomy(material.id).await,
        Ok(Some(taxonomy()))
    );
    assert_eq!(s.materials.graph(material.id).await, Ok(graph()));
    let stored = s
        .materials
        .find(material.id)
        .await
        .expect("find")
        .expect("some");
    assert_eq!(stored.status, StageStatus::Completed);
    assert_eq!(stored.language.as_deref(), Some("eng"));
    assert_eq!(stored.quality_score, Some(0.5));
    assert_eq!(stored.tags, ["base-case", "recursion"]);
    let status = s
        .materials
        .status(material.id)
        .await
        .expect("status")
        .expect("some");
    assert_eq!(status.overall(), StageStatus::Completed);
    assert!(status
        .records()
        .iter()
        .all(|r| r.progress == Progress::DONE && r.finished_at == Some(t)));

    // Before the stages ran, there is nothing to read.
    let fresh = upload(&s, activity_id, "Fresh", t).await;
    assert_eq!(s.materials.chunks(fresh.id).await, Ok(Vec::new()));
    assert_eq!(s.materials.quality(fresh.id).await, Ok(None));
    assert_eq!(s.materials.taxonomy(fresh.id).await, Ok(None));
    assert_eq!(
        s.materials.graph(fresh.id).await,
        Ok(ConceptGraph::default())
    );
}

/// A retried ingestion replaces the chunks of the earlier attempt.
pub async fn material_reingestion_replaces_chunks(s: MaterialStores) {
    let t = now();
    let activity_id = an_activity(&s, "mia", t).await;
    let material = upload(&s, activity_id, "Notes", t).await;
    let mut status = MaterialStatus::new();
    for texts in [&["a b", "c d", "e f"][..], &["x y"][..]] {
        status.start(Stage::Ingestion, t).expect("start");
        let mut done = status.clone();
        done.complete(Stage::Ingestion, t).expect("complete");
        let output = StageOutput::Ingestion(Ingestion {
            chunks: chunks_of(material.id, texts),
            total_tokens: 2,
            warnings: Vec::new(),
        });
        s.materials
            .complete_stage(material.id, &done, &output, t)
            .await
            .expect("complete stage");
    }
    let chunks = s.materials.chunks(material.id).await.expect("chunks");
    assert_eq!(chunks, chunks_of(material.id, &["x y"]));
}

/// The corpus holds the kept chunks of completed materials only; its version changes when a
/// material completes or is deleted.
pub async fn material_corpus_version_and_load(s: MaterialStores) {
    let t = now();
    let activity_id = an_activity(&s, "mia", t).await;
    let other = an_activity(&s, "olga", t).await;
    assert_eq!(s.corpus.version(activity_id).await, Ok(None));
    let first = upload(&s, activity_id, "First", t).await;
    let pending = upload(&s, activity_id, "Pending", t).await;
    let _ = pending;
    assert_eq!(s.corpus.version(activity_id).await, Ok(None));
    assert_eq!(s.corpus.load(activity_id).await.expect("load").chunks, []);

    process(
        &s,
        &first,
        chunks_of(first.id, &["alpha beta", "dropped", "gamma"]),
        &[1],
        None,
        plus_secs(t, 1),
    )
    .await;
    let v1 = s.corpus.version(activity_id).await.expect("version");
    assert!(v1.is_some());
    assert_eq!(s.corpus.version(other).await, Ok(None));
    let corpus = s.corpus.load(activity_id).await.expect("load");
    let texts: Vec<&str> = corpus.chunks.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(texts, ["alpha beta", "gamma"]);
    assert!(corpus.chunks.iter().all(|c| c.material_id == first.id));
    assert_eq!(corpus.chunks[0].chunk_id, chunk_id(first.id, 0));
    assert_eq!(corpus.chunks[0].section.as_deref(), Some("Part 0 › «ü»"));
    assert_eq!(corpus.chunks[0].tokens, 2);
    assert_eq!(corpus.language.as_deref(), Some("eng"));
    assert_eq!(corpus.vector_model, None);
    assert!(corpus.vectors.is_empty());

    let second = upload(&s, activity_id, "Second", t).await;
    process(
        &s,
        &second,
        chunks_of(second.id, &["delta"]),
        &[],
        None,
        plus_secs(t, 2),
    )
    .await;
    let v2 = s.corpus.version(activity_id).await.expect("version");
    assert_ne!(v2, v1);
    assert_eq!(
        s.corpus.load(activity_id).await.expect("load").chunks.len(),
        3
    );

    s.materials.delete(first.id).await.expect("delete");
    let v3 = s.corpus.version(activity_id).await.expect("version");
    assert!(v3.is_some());
    assert_ne!(v3, v2);
    let texts: Vec<String> = s
        .corpus
        .load(activity_id)
        .await
        .expect("load")
        .chunks
        .into_iter()
        .map(|c| c.text)
        .collect();
    assert_eq!(texts, ["delta"]);
}

/// Vectors reach the corpus only when every chunk has one of the same model.
pub async fn material_corpus_vectors_only_when_complete(s: MaterialStores) {
    let t = now();
    let activity_id = an_activity(&s, "mia", t).await;
    let material = upload(&s, activity_id, "First", t).await;
    let chunks = chunks_of(material.id, &["alpha", "beta"]);
    let vectors: Vec<ChunkVector> = chunks
        .iter()
        .zip([[0.5_f32, 0.25], [-1.0, 0.0]])
        .map(|(c, v)| ChunkVector {
            chunk_id: c.id,
            vector: v.to_vec(),
        })
        .collect();
    let embedding = EmbeddingOutput {
        kind: EmbeddingKind::Vector,
        model: "mini".into(),
        dimensions: 2,
        indexed_chunks: 2,
        vectors: vectors.clone(),
    };
    process(&s, &material, chunks, &[], Some(embedding), t).await;
    let corpus = s.corpus.load(activity_id).await.expect("load");
    assert_eq!(corpus.vector_model.as_deref(), Some("mini"));
    assert_eq!(corpus.vectors, vectors);

    // A second, lexical material: the corpus falls back to BM25 for all.
    let lexical = upload(&s, activity_id, "Second", t).await;
    process(
        &s,
        &lexical,
        chunks_of(lexical.id, &["gamma"]),
        &[],
        None,
        plus_secs(t, 1),
    )
    .await;
    let corpus = s.corpus.load(activity_id).await.expect("load");
    assert_eq!(corpus.vector_model, None);
    assert!(corpus.vectors.is_empty());
    assert_eq!(corpus.chunks.len(), 3);
}

/// Progress in the database moves only forward, and only for a processing stage.
pub async fn material_progress_in_the_database(s: MaterialStores) {
    let t = now();
    let activity_id = an_activity(&s, "mia", t).await;
    let material = upload(&s, activity_id, "Notes", t).await;
    let progress_of = |status: MaterialStatus, stage: Stage| status.stage(stage).progress;
    // Pending: ignored.
    s.progress
        .report(material.id, Stage::Ingestion, Progress::new(0.5))
        .await
        .expect("report");
    let status = s
        .materials
        .status(material.id)
        .await
        .expect("status")
        .expect("some");
    assert_eq!(progress_of(status, Stage::Ingestion), Progress::NONE);

    let mut status = MaterialStatus::new();
    status.start(Stage::Ingestion, t).expect("start");
    s.materials
        .save_status(material.id, &status, t)
        .await
        .expect("save");
    for value in [0.5, 0.25, 0.75] {
        s.progress
            .report(material.id, Stage::Ingestion, Progress::new(value))
            .await
            .expect("report");
    }
    let status = s
        .materials
        .status(material.id)
        .await
        .expect("status")
        .expect("some");
    assert_eq!(progress_of(status, Stage::Ingestion), Progress::new(0.75));
    // Unknown materials are no error: the worker may report after a delete.
    s.progress
        .report(Uuid::new_v4(), Stage::Quality, Progress::new(0.5))
        .await
        .expect("report");
}

/// Writing the status or an output of a material deleted meanwhile is `NotFound` and
/// leaves nothing behind.
pub async fn material_deleted_meanwhile_is_not_found(s: MaterialStores) {
    let t = now();
    let activity_id = an_activity(&s, "mia", t).await;
    let material = upload(&s, activity_id, "Notes", t).await;
    let mut status = MaterialStatus::new();
    status.start(Stage::Ingestion, t).expect("start");
    s.materials.delete(material.id).await.expect("delete");
    assert_eq!(
        s.materials.save_status(material.id, &status, t).await,
        Err(PortError::NotFound)
    );
    status.complete(Stage::Ingestion, t).expect("complete");
    let output = StageOutput::Ingestion(Ingestion {
        chunks: chunks_of(material.id, &["a"]),
        total_tokens: 1,
        warnings: Vec::new(),
    });
    assert_eq!(
        s.materials
            .complete_stage(material.id, &status, &output, t)
            .await,
        Err(PortError::NotFound)
    );
    assert_eq!(s.materials.chunks(material.id).await, Ok(Vec::new()));
}
