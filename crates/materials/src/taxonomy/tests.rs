use ainative_domain::{chunk_id, MaterialContentType};
use uuid::Uuid;
use whatlang::Detector;

use super::*;
use crate::config::ChunkingConfig;
use crate::ingest::{ingest, MaterialSource};
use crate::progress::NoProgress;

/// The kept chunks of a markdown material and its language, through the real stages.
pub(crate) fn kept_chunks(markdown: &str) -> (Vec<Chunk>, Option<String>) {
    let source = MaterialSource {
        material_id: Uuid::nil(),
        content_type: MaterialContentType::Markdown,
        bytes: markdown.as_bytes(),
    };
    let chunks = ingest(
        &source,
        &ChunkingConfig::new(120, 20).expect("config"),
        &NoProgress,
    )
    .expect("ingest")
    .chunks;
    let report = crate::quality::assess(&chunks, &Detector::new(), &NoProgress).expect("quality");
    (report.retain_kept(chunks), report.language)
}

pub(crate) fn taxonomy(markdown: &str) -> Taxonomy {
    let (chunks, language) = kept_chunks(markdown);
    extract(
        &chunks,
        language.as_deref(),
        &TaxonomyConfig::default(),
        &StopWords::default(),
        &NoProgress,
    )
}

fn labels(taxonomy: &Taxonomy, n: usize) -> Vec<&str> {
    taxonomy
        .concepts
        .iter()
        .take(n)
        .map(|c| c.label.as_str())
        .collect()
}

#[test]
fn english_notes_yield_their_key_concepts_and_tags() {
    let t = taxonomy(crate::fixtures::MARKDOWN);
    let top = labels(&t, 6);
    for expected in ["base case", "call stack", "recursive function"] {
        assert!(top.contains(&expected), "{expected} not in {top:?}");
    }
    assert_eq!(t.concepts[0].score, 1.0);
    assert!(t.concepts.windows(2).all(|w| w[0].score >= w[1].score));
    assert!(t.concepts.len() <= TaxonomyConfig::default().max_concepts);
    assert_eq!(&t.tags[..2], ["base-case", "call-stack"]);
    for tag in [
        "recursive-call",
        "recursive-function",
        "dynamic-programming",
    ] {
        assert!(t.tags.iter().any(|t| t == tag), "{tag} not in {:?}", t.tags);
    }
    assert!(t.tags.len() <= TaxonomyConfig::default().max_tags);
    let base_case = &t.concepts[0];
    assert_eq!(base_case.key, "base_case");
    assert!(
        base_case.occurrences >= 8 && base_case.chunks >= 3,
        "{base_case:?}"
    );
}

#[test]
fn spanish_notes_are_stemmed_in_spanish() {
    let t = taxonomy(crate::fixtures::MARKDOWN_ES);
    assert_eq!(labels(&t, 2), ["caso base", "función recursiva"]);
    // "funciones recursivas" and "función recursiva" are one concept.
    let concept = &t.concepts[1];
    assert_eq!(concept.key, "funcion_recurs");
    assert!(concept.occurrences >= 4);
    assert_eq!(&t.tags[..2], ["caso-base", "función-recursiva"]);
    assert!(!t
        .concepts
        .iter()
        .any(|c| c.label.split(' ').any(|w| w == "de" || w == "la")));
}

fn chunk(ordinal: u32, text: &str, overlap_tokens: u32) -> Chunk {
    Chunk {
        id: chunk_id(Uuid::nil(), ordinal),
        ordinal,
        section: None,
        text: text.to_owned(),
        tokens: crate::text::count_tokens(text),
        overlap_tokens,
    }
}

fn extract_texts(texts: &[&str]) -> Taxonomy {
    let chunks: Vec<Chunk> = texts
        .iter()
        .zip(0..)
        .map(|(text, i)| chunk(i, text, 0))
        .collect();
    extract(
        &chunks,
        Some("eng"),
        &TaxonomyConfig::default(),
        &StopWords::default(),
        &NoProgress,
    )
}

#[test]
fn a_word_only_seen_inside_a_longer_concept_is_not_listed() {
    let t = extract_texts(&[
        "The naive Fibonacci function is slow.",
        "Fibonacci numbers grow fast. The naive Fibonacci version repeats work.",
    ]);
    let keys: Vec<&str> = t.concepts.iter().map(|c| c.key.as_str()).collect();
    assert!(keys.contains(&"naiv_fibonacci"), "{keys:?}");
    assert!(keys.contains(&"fibonacci"), "also seen alone: {keys:?}");
    assert!(!keys.contains(&"naiv"), "{keys:?}");
}

#[test]
fn overlaps_are_not_counted_twice() {
    let chunks = [
        chunk(0, "Hash tables store pairs. Hash tables are fast.", 0),
        chunk(1, "Hash tables are fast. Trees keep order.", 4),
    ];
    let t = extract(
        &chunks,
        Some("eng"),
        &TaxonomyConfig::default(),
        &StopWords::default(),
        &NoProgress,
    );
    let hash_tables = t
        .concepts
        .iter()
        .find(|c| c.key == "hash_tabl")
        .expect("hash tables");
    assert_eq!(hash_tables.occurrences, 2);
    assert_eq!(hash_tables.chunks, 1);
}

#[test]
fn taxonomy_is_deterministic_and_empty_input_is_fine() {
    assert_eq!(
        taxonomy(crate::fixtures::MARKDOWN),
        taxonomy(crate::fixtures::MARKDOWN)
    );
    let empty = extract(
        &[],
        None,
        &TaxonomyConfig::default(),
        &StopWords::default(),
        &NoProgress,
    );
    assert!(empty.concepts.is_empty() && empty.tags.is_empty());
}
