use std::sync::Arc;

use ainative_ports::{
    Cause, Embedder, MaterialRetriever, MockEmbedder, MockMaterialCorpus, PortError,
};
use mockall::predicate::eq;

use super::*;

const ACTIVITY: Uuid = Uuid::from_u128(42);

fn retriever(corpus: MockMaterialCorpus, embedder: Option<MockEmbedder>) -> CachedRetriever {
    CachedRetriever::new(
        Arc::new(corpus),
        embedder.map(|e| Arc::new(e) as Arc<dyn Embedder>),
        RetrieverSettings {
            version_ttl: std::time::Duration::ZERO,
            ..RetrieverSettings::default()
        },
    )
}

fn english() -> Corpus {
    corpus_of(crate::fixtures::MARKDOWN)
}

#[tokio::test]
async fn no_processed_material_means_no_passages() {
    let mut corpus = MockMaterialCorpus::new();
    corpus
        .expect_version()
        .with(eq(ACTIVITY))
        .returning(|_| Ok(None));
    corpus.expect_load().never();
    let found = retriever(corpus, None)
        .retrieve(ACTIVITY, "base case", BUDGET)
        .await
        .expect("retrieve");
    assert!(found.is_empty());
}

#[tokio::test]
async fn an_index_is_built_once_per_version() {
    let mut corpus = MockMaterialCorpus::new();
    let mut versions = vec!["v2", "v1", "v1", "v1"];
    corpus
        .expect_version()
        .times(4)
        .returning(move |_| Ok(versions.pop().map(str::to_owned)));
    corpus.expect_load().times(2).returning(|_| Ok(english()));
    let retriever = retriever(corpus, None);
    let (a, b) = tokio::join!(
        retriever.retrieve(ACTIVITY, "base case", BUDGET),
        retriever.retrieve(ACTIVITY, "call stack", BUDGET)
    );
    assert!(!a.expect("a").is_empty() && !b.expect("b").is_empty());
    retriever
        .retrieve(ACTIVITY, "base case", BUDGET)
        .await
        .expect("cached");
    // The material changed: a new version, a new index.
    retriever
        .retrieve(ACTIVITY, "base case", BUDGET)
        .await
        .expect("rebuilt");
}

#[tokio::test]
async fn versions_are_believed_for_their_ttl_until_forgotten() {
    let mut corpus = MockMaterialCorpus::new();
    let mut versions = vec![Some("v1"), None];
    corpus
        .expect_version()
        .times(2)
        .returning(move |_| Ok(versions.pop().flatten().map(str::to_owned)));
    corpus.expect_load().times(1).returning(|_| Ok(english()));
    let retriever = CachedRetriever::new(
        Arc::new(corpus),
        None,
        RetrieverSettings {
            version_ttl: std::time::Duration::from_secs(3600),
            ..RetrieverSettings::default()
        },
    );
    // No material: asked once, then believed (no query per turn).
    for _ in 0..3 {
        let found = retriever.retrieve(ACTIVITY, "base case", BUDGET).await;
        assert_eq!(found.expect("retrieve"), []);
    }
    // A material completed in this process: forgotten, asked again, found.
    retriever.forget(ACTIVITY);
    for _ in 0..2 {
        let found = retriever.retrieve(ACTIVITY, "base case", BUDGET).await;
        assert!(!found.expect("retrieve").is_empty());
    }
}

#[tokio::test]
async fn storage_errors_reach_the_caller() {
    let mut corpus = MockMaterialCorpus::new();
    corpus
        .expect_version()
        .returning(|_| Err(PortError::Unavailable(Cause::new("database down"))));
    let err = retriever(corpus, None)
        .retrieve(ACTIVITY, "base case", BUDGET)
        .await
        .expect_err("unavailable");
    assert!(err.is_unavailable());
}

fn with_vectors() -> Corpus {
    let mut corpus = texts_corpus(&["hash tables and buckets", "binary trees keep order"]);
    corpus.vector_model = Some("embed-small".to_owned());
    corpus.vectors = vec![
        ChunkVector {
            chunk_id: Uuid::from_u128(100),
            vector: vec![1.0, 0.0],
        },
        ChunkVector {
            chunk_id: Uuid::from_u128(101),
            vector: vec![0.0, 1.0],
        },
    ];
    corpus
}

fn vector_corpus() -> MockMaterialCorpus {
    let mut corpus = MockMaterialCorpus::new();
    corpus
        .expect_version()
        .returning(|_| Ok(Some("v1".to_owned())));
    corpus.expect_load().returning(|_| Ok(with_vectors()));
    corpus
}

#[tokio::test]
async fn a_matching_embedder_searches_by_vectors() {
    let mut embedder = MockEmbedder::new();
    embedder
        .expect_model()
        .return_const("embed-small".to_owned());
    embedder
        .expect_embed()
        .withf(|inputs| inputs == ["something about ordering"])
        .times(1)
        .returning(|_| Ok(vec![vec![0.1, 0.9]]));
    let found = retriever(vector_corpus(), Some(embedder))
        .retrieve(ACTIVITY, "something about ordering", BUDGET)
        .await
        .expect("retrieve");
    assert_eq!(found[0].source.chunk_id, Uuid::from_u128(101));
    assert_eq!(found.len(), 2, "cosine keeps every passage that fits");
}

#[tokio::test]
async fn a_failing_embedder_falls_back_to_bm25() {
    let mut embedder = MockEmbedder::new();
    embedder
        .expect_model()
        .return_const("embed-small".to_owned());
    embedder
        .expect_embed()
        .returning(|_| Err(PortError::Unavailable(Cause::new("endpoint down"))));
    let found = retriever(vector_corpus(), Some(embedder))
        .retrieve(ACTIVITY, "hash tables", BUDGET)
        .await
        .expect("retrieve");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].source.chunk_id, Uuid::from_u128(100));
}

#[tokio::test]
async fn an_embedder_of_another_model_is_not_used() {
    let mut embedder = MockEmbedder::new();
    embedder
        .expect_model()
        .return_const("other-model".to_owned());
    embedder.expect_embed().never();
    let found = retriever(vector_corpus(), Some(embedder))
        .retrieve(ACTIVITY, "binary trees", BUDGET)
        .await
        .expect("retrieve");
    assert_eq!(found[0].source.chunk_id, Uuid::from_u128(101));
}
