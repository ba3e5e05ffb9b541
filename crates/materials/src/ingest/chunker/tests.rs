use proptest::prelude::*;

use super::*;
use crate::ingest::Block;

type Blocks = Vec<(BlockKind, String)>;

fn doc(sections: Vec<(Option<&str>, Blocks)>) -> Document {
    Document {
        sections: sections
            .into_iter()
            .map(|(title, blocks)| Section {
                title: title.map(str::to_owned),
                blocks: blocks
                    .into_iter()
                    .map(|(kind, text)| Block { kind, text })
                    .collect(),
            })
            .collect(),
        warnings: Vec::new(),
    }
}

fn chunk(document: &Document, config: &ChunkingConfig) -> Vec<Chunk> {
    chunk_document(document, Uuid::nil(), config, &mut |_, _| {}).expect("chunks")
}

fn words(text: &str) -> Vec<&str> {
    text.split_whitespace().collect()
}

/// The invariants of the module documentation.
fn check(
    document: &Document,
    config: &ChunkingConfig,
    chunks: &[Chunk],
) -> Result<(), TestCaseError> {
    let expected: Vec<&str> = document
        .sections
        .iter()
        .flat_map(|s| &s.blocks)
        .flat_map(|b| b.text.split_whitespace())
        .collect();
    let mut covered: Vec<&str> = Vec::new();
    for (i, c) in chunks.iter().enumerate() {
        let all = words(&c.text);
        prop_assert_eq!(c.ordinal as usize, i);
        prop_assert_eq!(c.id, chunk_id(Uuid::nil(), c.ordinal));
        prop_assert_eq!(c.tokens as usize, all.len(), "tokens counts the text");
        prop_assert!(
            c.tokens <= config.target_tokens(),
            "chunk {} has {} tokens",
            i,
            c.tokens
        );
        prop_assert!(c.overlap_tokens <= config.overlap_tokens());
        prop_assert!(c.tokens > c.overlap_tokens, "chunk {} adds nothing", i);
        if c.overlap_tokens > 0 {
            let previous = words(&chunks[i - 1].text);
            let n = c.overlap_tokens as usize;
            prop_assert_eq!(
                &all[..n],
                &previous[previous.len() - n..],
                "overlap repeats the end of the previous chunk"
            );
        }
        prop_assert_eq!(
            words(c.fresh_text()),
            all[c.overlap_tokens as usize..].to_vec()
        );
        covered.extend_from_slice(&all[c.overlap_tokens as usize..]);
    }
    prop_assert_eq!(
        covered,
        expected,
        "fresh parts cover the document exactly, in order"
    );
    Ok(())
}

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => "[a-z]{1,8}",
        1 => "[A-Z][a-z]{0,6}\\.",
        1 => "[a-z]{1,3}[.?!][A-Za-z]{1,3}",
        1 => "[0-9]{1,2}\\.[0-9]",
        1 => "¿[a-zñáé]{2,6}\\?",
    ]
}

fn sentence(max_words: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(word(), 1..max_words).prop_map(|w| format!("{}.", w.join(" ")))
}

fn block() -> impl Strategy<Value = (BlockKind, String)> {
    prop_oneof![
        6 => prop::collection::vec(sentence(30), 1..8).prop_map(|s| (BlockKind::Prose, s.join(" "))),
        1 => sentence(700).prop_map(|s| (BlockKind::Prose, s)),
        2 => prop::collection::vec(prop::collection::vec(word(), 0..10), 1..20)
            .prop_map(|lines| {
                let text = lines.iter().map(|l| format!("    {}", l.join(" "))).collect::<Vec<_>>().join("\n");
                (BlockKind::Code, text)
            }),
    ]
}

fn document() -> impl Strategy<Value = Document> {
    prop::collection::vec(
        (
            prop::option::of("[A-Z][a-z]{2,8}"),
            prop::collection::vec(block(), 1..8),
        ),
        1..6,
    )
    .prop_map(|sections| Document {
        sections: sections
            .into_iter()
            .map(|(title, blocks)| {
                let mut all = Vec::new();
                if let Some(t) = &title {
                    all.push(Block {
                        kind: BlockKind::Heading,
                        text: t.clone(),
                    });
                }
                all.extend(blocks.into_iter().map(|(kind, text)| Block { kind, text }));
                Section { title, blocks: all }
            })
            .collect(),
        warnings: Vec::new(),
    })
}

fn config() -> impl Strategy<Value = ChunkingConfig> {
    (8u32..600).prop_flat_map(|target| {
        (0..=target / 4)
            .prop_map(move |overlap| ChunkingConfig::new(target, overlap).expect("valid settings"))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn chunks_respect_budget_coverage_and_overlap(document in document(), config in config()) {
        let chunks = chunk(&document, &config);
        check(&document, &config, &chunks)?;
        prop_assert_eq!(chunk(&document, &config), chunks, "deterministic");
    }
}

fn prose(sentences: usize, words_each: usize, seed: usize) -> String {
    (0..sentences)
        .map(|s| {
            let body: Vec<String> = (0..words_each)
                .map(|w| format!("w{}x{}", seed, s * 31 + w))
                .collect();
            // Capitalised: Unicode sees no sentence end before a lowercase word.
            format!("S{}.", body.join(" "))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn chunks_end_on_sentence_boundaries_when_sentences_are_short() {
    let document = doc(vec![(None, vec![(BlockKind::Prose, prose(200, 12, 1))])]);
    let config = ChunkingConfig::default();
    let chunks = chunk(&document, &config);
    assert!(chunks.len() >= 5, "{} chunks", chunks.len());
    for c in &chunks {
        assert!(
            c.text.ends_with('.'),
            "chunk {} ends mid-sentence",
            c.ordinal
        );
        assert!(c.tokens > 400 && c.tokens <= 500 || c.ordinal as usize == chunks.len() - 1);
    }
    for c in &chunks[1..] {
        assert!(c.overlap_tokens > 0 && c.overlap_tokens <= 50);
        assert_eq!(c.overlap_tokens % 12, 0, "the overlap is whole sentences");
    }
}

#[test]
fn chunks_prefer_paragraph_boundaries() {
    // Paragraphs of 8 sentences × 10 words: a cut lands between paragraphs.
    let paragraphs: Vec<(BlockKind, String)> = (0..12)
        .map(|p| (BlockKind::Prose, prose(8, 10, p)))
        .collect();
    let document = doc(vec![(None, paragraphs)]);
    let chunks = chunk(&document, &ChunkingConfig::default());
    for c in &chunks[..chunks.len() - 1] {
        let last = c.text.rsplit("\n\n").next().unwrap_or_default();
        assert_eq!(
            words(last).len(),
            80,
            "chunk {} ends with a whole paragraph",
            c.ordinal
        );
    }
}

#[test]
fn headings_bound_chunks_and_small_sections_merge() {
    let document = doc(vec![
        (
            Some("Intro"),
            vec![
                (BlockKind::Heading, "Intro".into()),
                (BlockKind::Prose, prose(2, 5, 0)),
            ],
        ),
        (
            Some("Loops"),
            vec![
                (BlockKind::Heading, "Loops".into()),
                (BlockKind::Prose, prose(30, 10, 1)),
            ],
        ),
        (
            Some("Functions"),
            vec![
                (BlockKind::Heading, "Functions".into()),
                (BlockKind::Prose, prose(30, 10, 2)),
            ],
        ),
    ]);
    let chunks = chunk(&document, &ChunkingConfig::default());
    assert_eq!(chunks.len(), 2, "{chunks:#?}");
    assert_eq!(
        chunks[0].section.as_deref(),
        Some("Intro"),
        "the short intro merged into Loops"
    );
    assert!(chunks[0].text.starts_with("Intro\n\n"));
    assert!(chunks[0].text.contains("\n\nLoops\n\n"));
    assert_eq!(chunks[1].section.as_deref(), Some("Functions"));
    assert!(chunks[1].text.starts_with("Functions"));
    assert_eq!(chunks[1].overlap_tokens, 0, "no overlap across a heading");
}

#[test]
fn code_keeps_its_lines() {
    let code = "fn main() {\n    let x = 1;\n\n    println!(\"{x}\");\n}";
    let document = doc(vec![(
        None,
        vec![
            (BlockKind::Prose, "Look:".into()),
            (BlockKind::Code, code.into()),
        ],
    )]);
    let chunks = chunk(&document, &ChunkingConfig::default());
    assert_eq!(chunks.len(), 1);
    assert_eq!(
        chunks[0].text,
        "Look:\n\nfn main() {\n    let x = 1;\n    println!(\"{x}\");\n}"
    );
}

#[test]
fn a_huge_sentence_is_cut_into_pieces_that_fit() {
    let giant = format!("{}.", vec!["palabra"; 2000].join(" "));
    let document = doc(vec![(None, vec![(BlockKind::Prose, giant)])]);
    let config = ChunkingConfig::default();
    let chunks = chunk(&document, &config);
    assert!(chunks.iter().all(|c| c.tokens <= 500));
    assert_eq!(
        chunks
            .iter()
            .map(|c| u64::from(c.tokens - c.overlap_tokens))
            .sum::<u64>(),
        2000
    );
    assert!(
        chunks[1..].iter().all(|c| c.overlap_tokens == 50),
        "word overlap when no sentence fits"
    );
}

#[test]
fn too_many_chunks_is_refused() {
    let document = doc(vec![(None, vec![(BlockKind::Prose, prose(100, 10, 0))])]);
    let config = ChunkingConfig::default().with_max_chunks(1);
    let err =
        chunk_document(&document, Uuid::nil(), &config, &mut |_, _| {}).expect_err("too long");
    assert!(matches!(err, RejectedMaterial::TooLong { max: 1, .. }));
}

#[test]
fn sentences_split_only_at_whitespace() {
    assert_eq!(
        sentences("See e.g.Foo now. Pi is 3.14! ¿Qué? Sí."),
        ["See e.g.Foo now.", "Pi is 3.14!", "¿Qué?", "Sí."]
    );
}
