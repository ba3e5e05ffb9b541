mod cached;

use ainative_domain::{Chunk, ChunkVector};
use uuid::Uuid;

use super::*;
use crate::taxonomy::tests::kept_chunks;

pub(super) fn corpus_of(markdown: &str) -> Corpus {
    let (chunks, language) = kept_chunks(markdown);
    let material_id = Uuid::from_u128(7);
    Corpus {
        chunks: chunks
            .iter()
            .map(|c| corpus_chunk(material_id, c))
            .collect(),
        language,
        vector_model: None,
        vectors: Vec::new(),
    }
}

fn corpus_chunk(material_id: Uuid, chunk: &Chunk) -> CorpusChunk {
    CorpusChunk {
        material_id,
        chunk_id: chunk.id,
        section: chunk.section.clone(),
        text: chunk.text.clone(),
        tokens: chunk.tokens,
    }
}

fn texts_corpus(texts: &[&str]) -> Corpus {
    Corpus {
        chunks: texts
            .iter()
            .zip(0u128..)
            .map(|(text, i)| CorpusChunk {
                material_id: Uuid::from_u128(1),
                chunk_id: Uuid::from_u128(100 + i),
                section: None,
                text: (*text).to_owned(),
                tokens: crate::text::count_tokens(text),
            })
            .collect(),
        language: Some("eng".to_owned()),
        vector_model: None,
        vectors: Vec::new(),
    }
}

const BUDGET: RetrievalBudget = RetrievalBudget {
    max_tokens: 1200,
    max_chunks: 4,
};

#[test]
fn bm25_finds_the_passage_that_answers() {
    let index = RetrievalIndex::build(corpus_of(crate::fixtures::MARKDOWN)).expect("index");
    assert_eq!(index.analyzer_name(), "bm25/english");
    let found = index
        .search_lexical("Why does my function need a base case?", BUDGET)
        .expect("search");
    assert!(!found.is_empty());
    assert!(
        found[0].text.to_lowercase().contains("base case"),
        "{}",
        found[0].text
    );
    assert!(found
        .windows(2)
        .all(|w| w[0].source.score >= w[1].source.score));
    assert!(found.iter().map(|p| p.tokens).sum::<u32>() <= BUDGET.max_tokens);
    assert!(found.len() <= BUDGET.max_chunks);
    assert!(found
        .iter()
        .all(|p| p.source.material_id == Uuid::from_u128(7)));

    let memo = index
        .search_lexical("memoizing fibonacci", BUDGET)
        .expect("search");
    assert!(
        memo[0].text.contains("Memoization stores the result"),
        "stems match: {}",
        memo[0].text
    );
}

#[test]
fn spanish_material_matches_queries_without_accents() {
    let index = RetrievalIndex::build(corpus_of(crate::fixtures::MARKDOWN_ES)).expect("index");
    assert_eq!(index.analyzer_name(), "bm25/spanish");
    let found = index
        .search_lexical("que es la memoizacion?", BUDGET)
        .expect("search");
    assert!(found[0].text.contains("memoización"), "{}", found[0].text);
}

#[test]
fn the_budget_caps_tokens_and_passages() {
    let index = RetrievalIndex::build(corpus_of(crate::fixtures::MARKDOWN)).expect("index");
    let query = "recursive function call stack base case";
    let one = index
        .search_lexical(
            query,
            RetrievalBudget {
                max_tokens: 5000,
                max_chunks: 1,
            },
        )
        .expect("search");
    assert_eq!(one.len(), 1);
    let tight = RetrievalBudget {
        max_tokens: 150,
        max_chunks: 10,
    };
    let found = index.search_lexical(query, tight).expect("search");
    assert!(!found.is_empty());
    assert!(found.iter().map(|p| p.tokens).sum::<u32>() <= 150);
    // Nothing fits in 10 tokens: the best passage is cut to its first 10 words.
    let cut = index
        .search_lexical(
            query,
            RetrievalBudget {
                max_tokens: 10,
                max_chunks: 3,
            },
        )
        .expect("search");
    assert_eq!(cut.len(), 1);
    assert_eq!(cut[0].tokens, 10);
    assert_eq!(crate::text::count_tokens(&cut[0].text), 10);
    assert_eq!(cut[0].source, found[0].source);
}

#[test]
fn weak_matches_and_empty_queries_return_nothing_extra() {
    let index = RetrievalIndex::build(texts_corpus(&[
        "Hash tables map keys to buckets; a hash function picks the bucket of a key.",
        "Binary trees keep keys in order.",
        "Queues serve the oldest element first.",
    ]))
    .expect("index");
    let found = index
        .search_lexical("hash function of a hash table", BUDGET)
        .expect("search");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].source.chunk_id, Uuid::from_u128(100));
    assert!(index
        .search_lexical("?!  ...", BUDGET)
        .expect("search")
        .is_empty());
    assert!(index
        .search_lexical("zebra", BUDGET)
        .expect("search")
        .is_empty());
    // Query syntax is not interpreted.
    let tricky = index
        .search_lexical("keys:(\"order AND -NOT* [trees", BUDGET)
        .expect("never a parse error");
    assert_eq!(tricky[0].source.chunk_id, Uuid::from_u128(101));
}

#[test]
fn vectors_are_searched_by_cosine_when_present() {
    let mut corpus = texts_corpus(&["alpha", "beta", "gamma"]);
    corpus.vector_model = Some("test-model".to_owned());
    corpus.vectors = vec![
        ChunkVector {
            chunk_id: Uuid::from_u128(100),
            vector: vec![1.0, 0.0, 0.0],
        },
        ChunkVector {
            chunk_id: Uuid::from_u128(101),
            vector: vec![0.0, 1.0, 0.0],
        },
        ChunkVector {
            chunk_id: Uuid::from_u128(102),
            vector: vec![0.7, 0.7, 0.0],
        },
    ];
    let index = RetrievalIndex::build(corpus).expect("index");
    assert_eq!(index.vector_model(), Some("test-model"));
    let found = index
        .search_vector(&[0.0, 1.0, 0.1], BUDGET)
        .expect("vector index");
    let ids: Vec<u128> = found.iter().map(|p| p.source.chunk_id.as_u128()).collect();
    assert_eq!(ids, [101, 102, 100]);
    assert!(
        index.search_vector(&[1.0, 0.0], BUDGET).is_none(),
        "wrong length"
    );

    let mut partial = texts_corpus(&["alpha", "beta"]);
    partial.vector_model = Some("test-model".to_owned());
    partial.vectors = vec![ChunkVector {
        chunk_id: Uuid::from_u128(100),
        vector: vec![1.0],
    }];
    let index = RetrievalIndex::build(partial).expect("index");
    assert_eq!(
        index.vector_model(),
        None,
        "a chunk without a vector disables vectors"
    );
}

#[test]
fn an_empty_corpus_finds_nothing() {
    let index = RetrievalIndex::build(Corpus::default()).expect("index");
    assert!(index.is_empty());
    assert!(index
        .search_lexical("anything", BUDGET)
        .expect("search")
        .is_empty());
}
