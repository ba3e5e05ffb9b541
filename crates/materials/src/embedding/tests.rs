use ainative_ports::{Cause, MockEmbedder, PortError};

use super::*;
use crate::progress::NoProgress;
use crate::taxonomy::tests::kept_chunks;

#[test]
fn the_lexical_default_indexes_every_kept_chunk() {
    let (chunks, language) = kept_chunks(crate::fixtures::MARKDOWN_ES);
    let out = index_lexical(&chunks, language.as_deref(), &NoProgress).expect("index");
    assert_eq!(out.kind, EmbeddingKind::Lexical);
    assert_eq!(out.model, "bm25/spanish");
    assert_eq!(out.indexed_chunks as usize, chunks.len());
    assert!(out.vectors.is_empty() && out.dimensions == 0);
}

#[tokio::test]
async fn vectors_are_requested_in_batches_in_chunk_order() {
    let (chunks, _) = kept_chunks(crate::fixtures::MARKDOWN);
    assert!(chunks.len() > 3);
    let mut embedder = MockEmbedder::new();
    embedder.expect_model().return_const("m".to_owned());
    embedder
        .expect_embed()
        .times(chunks.len().div_ceil(3))
        .returning(|inputs| {
            assert!(inputs.len() <= 3);
            Ok(inputs.iter().map(|t| vec![t.len() as f32, 1.0]).collect())
        });
    let out = embed_vectors(&chunks, &embedder, 3, &NoProgress)
        .await
        .expect("vectors");
    assert_eq!(out.kind, EmbeddingKind::Vector);
    assert_eq!((out.model.as_str(), out.dimensions), ("m", 2));
    assert_eq!(out.vectors.len(), chunks.len());
    for (chunk, vector) in chunks.iter().zip(&out.vectors) {
        assert_eq!(vector.chunk_id, chunk.id);
        assert_eq!(vector.vector[0], chunk.text.len() as f32);
    }
}

#[tokio::test]
async fn endpoint_failures_and_bad_vectors_fail_the_stage() {
    let (chunks, _) = kept_chunks(crate::fixtures::MARKDOWN);
    let mut down = MockEmbedder::new();
    down.expect_embed()
        .returning(|_| Err(PortError::Unavailable(Cause::new("down"))));
    let err = embed_vectors(&chunks, &down, 64, &NoProgress)
        .await
        .expect_err("down");
    assert!(err.is_retryable() && !err.is_rejection());

    let mut ragged = MockEmbedder::new();
    ragged.expect_embed().returning(|inputs| {
        Ok(inputs
            .iter()
            .enumerate()
            .map(|(i, _)| vec![1.0; i + 1])
            .collect())
    });
    let err = embed_vectors(&chunks, &ragged, 64, &NoProgress)
        .await
        .expect_err("ragged");
    assert!(matches!(err, MaterialError::BadVectors(_)) && !err.is_retryable());

    let mut short = MockEmbedder::new();
    short.expect_embed().returning(|_| Ok(vec![vec![1.0]]));
    let err = embed_vectors(&chunks, &short, 64, &NoProgress)
        .await
        .expect_err("short");
    assert!(matches!(err, MaterialError::BadVectors(_)));
}
