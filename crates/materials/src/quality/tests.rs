use ainative_domain::{chunk_id, MaterialContentType};

use super::*;
use crate::config::ChunkingConfig;
use crate::ingest::{ingest, MaterialSource};
use crate::progress::NoProgress;

fn chunks(texts: &[&str]) -> Vec<Chunk> {
    texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let ordinal = u32::try_from(i).expect("ordinal");
            Chunk {
                id: chunk_id(Uuid::nil(), ordinal),
                ordinal,
                section: None,
                text: (*text).to_owned(),
                tokens: crate::text::count_tokens(text),
                overlap_tokens: 0,
            }
        })
        .collect()
}

fn assess_texts(texts: &[&str]) -> Result<QualityReport, MaterialError> {
    assess(&chunks(texts), &Detector::new(), &NoProgress)
}

fn material(markdown: &str) -> Vec<Chunk> {
    let source = MaterialSource {
        material_id: Uuid::nil(),
        content_type: MaterialContentType::Markdown,
        bytes: markdown.as_bytes(),
    };
    ingest(
        &source,
        &ChunkingConfig::new(120, 20).expect("config"),
        &NoProgress,
    )
    .expect("ingest")
    .chunks
}

const ENGLISH: &str = "A recursive function calls itself on a smaller input until it reaches \
    a base case, which it answers directly without another call.";
const SPANISH: &str = "Una función recursiva se llama a sí misma con una entrada más pequeña \
    hasta llegar al caso base, que responde directamente sin otra llamada.";

#[test]
fn real_course_notes_are_kept_with_their_language() {
    let english = material(crate::fixtures::MARKDOWN);
    let report = assess(&english, &Detector::new(), &NoProgress).expect("report");
    assert_eq!(report.dropped, 0, "{:?}", report.chunks);
    assert_eq!(report.language.as_deref(), Some("eng"));
    assert!(report.score > 0.7, "score {}", report.score);

    let spanish = material(crate::fixtures::MARKDOWN_ES);
    let report = assess(&spanish, &Detector::new(), &NoProgress).expect("report");
    assert_eq!(report.language.as_deref(), Some("spa"));
    assert_eq!(report.languages[0].language, "spa");
}

#[test]
fn languages_are_shared_by_tokens() {
    let report = assess_texts(&[ENGLISH, SPANISH, SPANISH_2]).expect("report");
    assert_eq!(report.language.as_deref(), Some("spa"));
    let shares: Vec<(&str, f32)> = report
        .languages
        .iter()
        .map(|l| (l.language.as_str(), l.share))
        .collect();
    assert_eq!(shares.len(), 2);
    assert_eq!(shares[1].0, "eng");
    assert!((shares[0].1 + shares[1].1 - 1.0).abs() < 0.01);
}

const SPANISH_2: &str = "La memoización guarda el resultado de cada subproblema en una caché, \
    de modo que cada subproblema se calcula una sola vez y el programa es más rápido.";

#[test]
fn empty_duplicated_and_unreadable_chunks_are_dropped() {
    let report = assess_texts(&[
        ENGLISH,
        "--- *** ---",
        "A RECURSIVE function calls itself, on a smaller input until it reaches a base case; \
         which it answers directly without another call!",
        "\u{fffd}\u{fffd}\u{fffd}\u{fffd} \u{fffd}\u{fffd}ab\u{fffd}\u{fffd}",
        "Ã©Ã¨Ã  Ã§Ã¹ Ã¢Ã®Ã´ â€™â€œ",
        "|---|---|===|+++|--|ab|",
        SPANISH,
    ])
    .expect("report");
    let reasons: Vec<Option<DropReason>> =
        report.chunks.iter().map(|c| c.dropped.clone()).collect();
    assert_eq!(
        reasons,
        vec![
            None,
            Some(DropReason::Empty),
            Some(DropReason::Duplicate {
                of: chunk_id(Uuid::nil(), 0)
            }),
            Some(DropReason::Unreadable),
            Some(DropReason::Unreadable),
            Some(DropReason::Unreadable),
            None,
        ]
    );
    assert_eq!((report.kept, report.dropped), (2, 5));
    assert!(report.chunks[1].language.is_none());
}

#[test]
fn light_mojibake_is_kept_with_a_lower_score() {
    let broken = "La recursiÃ³n es una tÃ©cnica en la que una funciÃ³n se llama a sÃ\u{AD} misma \
                  con una entrada mÃ¡s pequeÃ±a hasta llegar al caso base.";
    let report = assess_texts(&[SPANISH, broken]).expect("report");
    assert!(report.chunks[1].dropped.is_none());
    assert!(report.chunks[1].score < report.chunks[0].score);
}

#[test]
fn scores_follow_the_documented_formula() {
    // 25 distinct words, nothing suspicious: 1 × (0.4 + 0.3 × 25/50 + 0.3 × 1) = 0.85.
    let distinct: Vec<String> = (0..25).map(|i| format!("word{i}")).collect();
    let distinct = distinct.join(" ");
    // 100 times one word: ttr 0.01, so 0.4 + 0.3 + 0.3 × 0.01 / 0.3 = 0.71.
    let repeated = vec!["again"; 100].join(" ");
    let report = assess_texts(&[&distinct, &repeated, "--"]).expect("report");
    assert_eq!(report.chunks[0].score, 0.85);
    assert_eq!(report.chunks[1].score, 0.71);
    // Token-weighted mean (0.85 × 25 + 0.71 × 100) / 125 = 0.738, × (0.5 + 0.5 × 2/3).
    assert_eq!(report.score, round3(0.738 * (0.5 + 0.5 * 2.0 / 3.0)));
}

#[test]
fn a_material_with_nothing_readable_is_rejected() {
    let err = assess_texts(&["***", "\u{fffd}\u{fffd}\u{fffd}"]).expect_err("nothing readable");
    assert!(matches!(
        err,
        MaterialError::Rejected(RejectedMaterial::NothingReadable)
    ));
}
