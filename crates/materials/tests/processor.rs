//! The `material.process` job body against real stores (SQLite and PostgreSQL): a material
//! goes through every stage; a rejected one fails at its stage with a readable error; a
//! worker that died mid-stage leaves a stage that the next attempt completes; a retryable
//! failure is retried, and marks the stage failed only on the last attempt.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ainative_adapters_postgres::PgStore;
use ainative_adapters_sqlite::SqliteStore;
use ainative_domain::{
    ActivityStatus, Chunk, ConceptGraph, Material, MaterialContentType, MaterialStatus, Page,
    Paginated, QualityReport, Stage, StageStatus, Taxonomy,
};
use ainative_materials::{MaterialPipeline, MaterialProcessor, ProcessError, ProcessOutcome};
use ainative_ports::testkit::materials::processing_job;
use ainative_ports::testkit::tutoring::{activity, instructor, TutoringStores};
use ainative_ports::{
    Cause, Embedder, MaterialCorpus, MaterialProgress, MaterialStore, MockEmbedder, NewJob,
    PortError, PortResult, SchemaManager, StageOutput, SystemClock,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

const NOTES: &str = include_str!("fixtures/recursion.md");

/// A migrated store of either engine, with the guard of its database.
struct Fixture {
    store: Arc<dyn Store>,
    tutoring: TutoringStores,
}

trait Store: MaterialStore + MaterialCorpus + MaterialProgress {}
impl<T: MaterialStore + MaterialCorpus + MaterialProgress> Store for T {}

async fn sqlite() -> Fixture {
    let db = ainative_test_support::TestSqlite::new();
    let store = SqliteStore::connect(&ainative_adapters_sqlite::PoolSettings {
        max_connections: 4,
        min_connections: 0,
        acquire_timeout: Duration::from_secs(30),
        ..ainative_adapters_sqlite::PoolSettings::new(db.url())
    })
    .await
    .expect("open");
    store.migrate_up().await.expect("migrate");
    Fixture {
        store: Arc::new(store.clone()),
        tutoring: TutoringStores::from_store(store).with_guard(db),
    }
}

async fn postgres() -> Fixture {
    let db = ainative_test_support::TestDatabase::create().await;
    let store = PgStore::connect(&ainative_adapters_postgres::PoolSettings {
        max_connections: 4,
        min_connections: 0,
        acquire_timeout: Duration::from_secs(30),
        ..ainative_adapters_postgres::PoolSettings::new(db.url().to_owned())
    })
    .await
    .expect("connect");
    store.migrate_up().await.expect("migrate");
    Fixture {
        store: Arc::new(store.clone()),
        tutoring: TutoringStores::from_store(store).with_guard(db),
    }
}

impl Fixture {
    async fn upload(&self, content_type: MaterialContentType, bytes: &[u8]) -> Material {
        let at = ainative_ports::testkit::now();
        let owner = instructor(&self.tutoring, &format!("i{}", Uuid::new_v4().simple()), at).await;
        let activity = activity(owner, "Recursion", ActivityStatus::Published, at);
        self.tutoring
            .activities
            .create(activity.clone())
            .await
            .expect("activity");
        let material = Material::uploaded(
            activity.id,
            "Notes".into(),
            content_type,
            bytes.len() as u64,
            owner,
            at,
        );
        self.store
            .create(&material, bytes, &processing_job(material.id))
            .await
            .expect("upload");
        material
    }

    fn processor(
        &self,
        store: Arc<dyn MaterialStore>,
        embedder: Option<MockEmbedder>,
    ) -> MaterialProcessor {
        MaterialProcessor::new(
            Arc::new(MaterialPipeline::default()),
            embedder.map(|e| Arc::new(e) as Arc<dyn Embedder>),
            store,
            self.store.clone() as Arc<dyn MaterialProgress>,
            Arc::new(SystemClock),
        )
    }

    fn materials(&self) -> Arc<dyn MaterialStore> {
        Arc::clone(&self.store) as Arc<dyn MaterialStore>
    }

    async fn status(&self, id: Uuid) -> MaterialStatus {
        self.store
            .status(id)
            .await
            .expect("status")
            .expect("exists")
    }
}

macro_rules! on_both {
    ($($case:ident),+ $(,)?) => {
        $(
            mod $case {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$case(super::sqlite().await).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$case(super::postgres().await).await;
                }
            }
        )+
    };
}

on_both!(
    markdown_goes_through_every_stage,
    a_rejected_material_fails_at_its_stage,
    a_stage_left_processing_by_a_dead_worker_is_redone,
    retryable_failures_fail_the_stage_only_on_the_last_attempt,
    a_deleted_material_is_gone,
);

async fn markdown_goes_through_every_stage(f: Fixture) {
    let material = f
        .upload(MaterialContentType::Markdown, NOTES.as_bytes())
        .await;
    let told = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&told);
    let activity_id = material.activity_id;
    let processor = f
        .processor(f.materials(), None)
        .on_completed(Arc::new(move |a| {
            assert_eq!(a, activity_id);
            seen.fetch_add(1, Ordering::SeqCst);
        }));
    let outcome = processor
        .process(material.id, false)
        .await
        .expect("process");
    assert_eq!(outcome, ProcessOutcome::Completed);
    assert_eq!(told.load(Ordering::SeqCst), 1);

    let status = f.status(material.id).await;
    assert_eq!(status.overall(), StageStatus::Completed);
    for record in status.records() {
        assert_eq!(record.status, StageStatus::Completed, "{record:?}");
        assert!(record.started_at.is_some() && record.finished_at >= record.started_at);
        assert_eq!(record.error, None);
    }
    let stored = f
        .store
        .find(material.id)
        .await
        .expect("find")
        .expect("some");
    assert_eq!(stored.status, StageStatus::Completed);
    assert_eq!(stored.language.as_deref(), Some("eng"));
    assert!(stored.quality_score.is_some_and(|s| s > 0.0));
    assert!(!stored.tags.is_empty());
    let graph = f.store.graph(material.id).await.expect("graph");
    assert!(!graph.nodes.is_empty() && !graph.edges.is_empty());
    let corpus = f.store.load(material.activity_id).await.expect("corpus");
    assert!(!corpus.chunks.is_empty());
    assert!(corpus.chunks.iter().any(|c| c.text.contains("base case")));

    // A job delivered again after success does nothing more.
    let again = processor.process(material.id, false).await.expect("again");
    assert_eq!(again, ProcessOutcome::Completed);
}

async fn a_rejected_material_fails_at_its_stage(f: Fixture) {
    let material = f
        .upload(MaterialContentType::PlainText, b"caf\xe9 au lait")
        .await;
    let outcome = f
        .processor(f.materials(), None)
        .process(material.id, false)
        .await
        .expect("a rejection is no error for the queue");
    let ProcessOutcome::Failed { stage, error } = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(stage, Stage::Ingestion);
    assert!(error.contains("not UTF-8"), "{error}");
    let status = f.status(material.id).await;
    assert_eq!(status.overall(), StageStatus::Failed);
    assert_eq!(
        status.stage(Stage::Ingestion).error.as_deref(),
        Some(error.as_str())
    );
    assert_eq!(status.stage(Stage::Quality).status, StageStatus::Pending);
    let stored = f
        .store
        .find(material.id)
        .await
        .expect("find")
        .expect("some");
    assert_eq!(stored.status, StageStatus::Failed);

    // An unreadable PDF fails too, at ingestion, never as a crash.
    let pdf = f
        .upload(
            MaterialContentType::Pdf,
            b"%PDF-1.7\nthis is not a pdf at all",
        )
        .await;
    let outcome = f
        .processor(f.materials(), None)
        .process(pdf.id, false)
        .await
        .expect("no error for the queue");
    assert!(
        matches!(
            outcome,
            ProcessOutcome::Failed {
                stage: Stage::Ingestion,
                ..
            }
        ),
        "{outcome:?}"
    );
}

/// A store that fails the completion of one stage once, as a worker dying after its stage
/// started would leave it: `processing`, its output not stored.
struct DiesOnce {
    inner: Arc<dyn MaterialStore>,
    stage: Stage,
    died: AtomicBool,
}

#[async_trait]
impl MaterialStore for DiesOnce {
    async fn create(&self, m: &Material, c: &[u8], j: &NewJob) -> PortResult<()> {
        self.inner.create(m, c, j).await
    }
    async fn find(&self, id: Uuid) -> PortResult<Option<Material>> {
        self.inner.find(id).await
    }
    async fn list(&self, a: Uuid, p: Page) -> PortResult<Paginated<Material>> {
        self.inner.list(a, p).await
    }
    async fn delete(&self, id: Uuid) -> PortResult<()> {
        self.inner.delete(id).await
    }
    async fn content(&self, id: Uuid) -> PortResult<Option<Vec<u8>>> {
        self.inner.content(id).await
    }
    async fn status(&self, id: Uuid) -> PortResult<Option<MaterialStatus>> {
        self.inner.status(id).await
    }
    async fn save_status(&self, id: Uuid, s: &MaterialStatus, at: DateTime<Utc>) -> PortResult<()> {
        self.inner.save_status(id, s, at).await
    }
    async fn complete_stage(
        &self,
        id: Uuid,
        s: &MaterialStatus,
        o: &StageOutput,
        at: DateTime<Utc>,
    ) -> PortResult<()> {
        if o.stage() == self.stage && !self.died.swap(true, Ordering::SeqCst) {
            return Err(PortError::Unavailable(Cause::new("the worker died")));
        }
        self.inner.complete_stage(id, s, o, at).await
    }
    async fn chunks(&self, id: Uuid) -> PortResult<Vec<Chunk>> {
        self.inner.chunks(id).await
    }
    async fn quality(&self, id: Uuid) -> PortResult<Option<QualityReport>> {
        self.inner.quality(id).await
    }
    async fn taxonomy(&self, id: Uuid) -> PortResult<Option<Taxonomy>> {
        self.inner.taxonomy(id).await
    }
    async fn graph(&self, id: Uuid) -> PortResult<ConceptGraph> {
        self.inner.graph(id).await
    }
}

async fn a_stage_left_processing_by_a_dead_worker_is_redone(f: Fixture) {
    let material = f
        .upload(MaterialContentType::Markdown, NOTES.as_bytes())
        .await;
    let dying = Arc::new(DiesOnce {
        inner: f.materials(),
        stage: Stage::Taxonomy,
        died: AtomicBool::new(false),
    });
    let first = f.processor(dying.clone(), None);
    let err = first.process(material.id, false).await.expect_err("died");
    assert!(matches!(err, ProcessError::Storage(_)), "{err:?}");
    let status = f.status(material.id).await;
    assert_eq!(status.stage(Stage::Quality).status, StageStatus::Completed);
    assert_eq!(
        status.stage(Stage::Taxonomy).status,
        StageStatus::Processing
    );
    assert_eq!(status.overall(), StageStatus::Processing);
    let chunks_before = f.store.chunks(material.id).await.expect("chunks");

    // The next attempt (another worker) resumes at the stuck stage.
    let outcome = f
        .processor(dying, None)
        .process(material.id, false)
        .await
        .expect("second attempt");
    assert_eq!(outcome, ProcessOutcome::Completed);
    assert_eq!(
        f.status(material.id).await.overall(),
        StageStatus::Completed
    );
    // Earlier stages were not redone: the same chunks.
    assert_eq!(
        f.store.chunks(material.id).await.expect("chunks"),
        chunks_before
    );
}

async fn retryable_failures_fail_the_stage_only_on_the_last_attempt(f: Fixture) {
    let material = f
        .upload(MaterialContentType::Markdown, NOTES.as_bytes())
        .await;
    let down = || {
        let mut embedder = MockEmbedder::new();
        embedder.expect_model().return_const("mini".to_owned());
        embedder
            .expect_embed()
            .returning(|_| Err(PortError::Unavailable(Cause::new("connection refused"))));
        embedder
    };
    let err = f
        .processor(f.materials(), Some(down()))
        .process(material.id, false)
        .await
        .expect_err("retry later");
    assert!(
        matches!(
            err,
            ProcessError::Stage {
                stage: Stage::Embedding,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        f.status(material.id).await.stage(Stage::Embedding).status,
        StageStatus::Processing
    );
    let outcome = f
        .processor(f.materials(), Some(down()))
        .process(material.id, true)
        .await
        .expect("the last attempt ends the job");
    assert_eq!(
        outcome,
        ProcessOutcome::Failed {
            stage: Stage::Embedding,
            error: "the embeddings service failed while indexing the material".into(),
        }
    );
    let status = f.status(material.id).await;
    assert_eq!(status.overall(), StageStatus::Failed);
    assert_eq!(status.stage(Stage::Graph).status, StageStatus::Completed);
}

async fn a_deleted_material_is_gone(f: Fixture) {
    let material = f
        .upload(MaterialContentType::Markdown, NOTES.as_bytes())
        .await;
    f.store.delete(material.id).await.expect("delete");
    let outcome = f
        .processor(f.materials(), None)
        .process(material.id, false)
        .await
        .expect("nothing to do");
    assert_eq!(outcome, ProcessOutcome::Gone);
}
