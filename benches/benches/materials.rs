//! Criterion benchmarks of the course-material pipeline (SPEC §10.5): a 1 MiB markdown
//! material through all five stages (target ≤ 10 s), building the retrieval index of 1,000
//! chunks, and retrieval over 1,000 chunks within a token budget (target ≤ 5 ms p50).
//!
//! Run with `cargo bench -p ainative-benches --bench materials` (part of `make bench`).
//! Under `cargo test --all-targets` criterion runs each benchmark once as a smoke test, on a
//! 64 KiB material so debug builds stay quick.
//!
//! The text is generated, deterministic course-like prose: sentences drawn with a skewed
//! (Zipf-like) distribution from the vocabulary of the crate's English and Spanish fixture
//! notes, under headings, with a code block every few sections.

use std::hint::black_box;
use std::time::Duration;

use ainative_domain::{chunk_id, MaterialContentType};
use ainative_materials::{MaterialPipeline, MaterialSource, NoProgress, RetrievalIndex};
use ainative_ports::{Corpus, CorpusChunk, RetrievalBudget};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use uuid::Uuid;

const ENGLISH: &str = include_str!("../../crates/materials/tests/fixtures/recursion.md");
const SPANISH: &str = include_str!("../../crates/materials/tests/fixtures/recursion_es.md");
const MIB: usize = 1024 * 1024;

/// A small deterministic generator (64-bit LCG); benchmarks need no randomness crate.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Skewed towards the start of the range, like word frequencies.
    fn skewed(&mut self, n: usize) -> usize {
        let x = self.next() as f64 / (1u64 << 31) as f64;
        ((x * x) * n as f64) as usize % n
    }
}

fn vocabulary(text: &str) -> Vec<String> {
    let mut words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() > 1)
        .map(str::to_lowercase)
        .collect();
    words.sort();
    words.dedup();
    words
}

fn sentence(rng: &mut Lcg, words: &[String]) -> String {
    let length = 8 + rng.below(18);
    let mut out = String::new();
    for i in 0..length {
        let word = &words[rng.skewed(words.len())];
        if i == 0 {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                out.extend(first.to_uppercase());
                out.push_str(chars.as_str());
            }
        } else {
            out.push(' ');
            out.push_str(word);
        }
    }
    out.push('.');
    out
}

/// Markdown of at least `bytes` bytes.
fn course_markdown(bytes: usize, seed: u64) -> String {
    let english = vocabulary(ENGLISH);
    let spanish = vocabulary(SPANISH);
    let mut rng = Lcg(seed);
    let mut out = String::with_capacity(bytes + 4096);
    let mut section = 0;
    while out.len() < bytes {
        section += 1;
        // One section in five is Spanish: the product serves both.
        let words = if section % 5 == 0 { &spanish } else { &english };
        out.push_str(&format!("\n## {} {section}\n\n", sentence(&mut rng, words)));
        for _ in 0..3 + rng.below(6) {
            let paragraph: Vec<String> = (0..3 + rng.below(5))
                .map(|_| sentence(&mut rng, words))
                .collect();
            out.push_str(&paragraph.join(" "));
            out.push_str("\n\n");
        }
        if section % 3 == 0 {
            out.push_str("```python\ndef step(n):\n    if n <= 1:\n        return n\n    return step(n - 1) + step(n - 2)\n```\n\n");
        }
    }
    out
}

/// `count` chunks of about 500 tokens, as storage would hand them to retrieval.
fn corpus(count: usize) -> Corpus {
    let words = vocabulary(ENGLISH);
    let mut rng = Lcg(7);
    let material_id = Uuid::from_u128(1);
    let chunks = (0..count)
        .map(|i| {
            let mut text = String::new();
            while text.split_whitespace().count() < 480 {
                text.push_str(&sentence(&mut rng, &words));
                text.push(' ');
            }
            let ordinal = u32::try_from(i).unwrap_or(u32::MAX);
            CorpusChunk {
                material_id,
                chunk_id: chunk_id(material_id, ordinal),
                section: None,
                tokens: u32::try_from(text.split_whitespace().count()).unwrap_or(u32::MAX),
                text,
            }
        })
        .collect();
    Corpus {
        chunks,
        language: Some("eng".to_owned()),
        vector_model: None,
        vectors: Vec::new(),
    }
}

/// `cargo bench` passes `--bench`; `cargo test` does not.
fn full_run() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn pipeline(c: &mut Criterion) {
    let size = if full_run() { MIB } else { 64 * 1024 };
    let markdown = course_markdown(size, 42);
    let pipeline = MaterialPipeline::default();
    let source = MaterialSource {
        material_id: Uuid::from_u128(3),
        content_type: MaterialContentType::Markdown,
        bytes: markdown.as_bytes(),
    };
    let mut group = c.benchmark_group("materials");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    group.bench_function("process_1mib_markdown", |b| {
        b.iter(|| black_box(pipeline.process(black_box(&source), &NoProgress)))
    });
    group.finish();
}

fn retrieval(c: &mut Criterion) {
    let corpus = corpus(1000);
    let mut group = c.benchmark_group("materials");
    group.sample_size(10);
    group.bench_function("index_build_1000_chunks", |b| {
        b.iter_batched(
            || corpus.clone(),
            |corpus| black_box(RetrievalIndex::build(corpus)),
            BatchSize::LargeInput,
        )
    });
    group.finish();

    let index = match RetrievalIndex::build(corpus) {
        Ok(index) => index,
        Err(error) => panic!("the benchmark index does not build: {error}"),
    };
    let prompts = [
        "Why does my recursive function never reach the base case?",
        "how does memoization make the fibonacci function faster",
        "¿Qué es la pila de llamadas y por qué se desborda?",
        "call stack frame overflow python limit",
    ];
    let budget = RetrievalBudget::default();
    let mut group = c.benchmark_group("materials");
    group.bench_function("retrieve_1000_chunks", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % prompts.len();
            black_box(index.search_lexical(black_box(prompts[i]), budget))
        })
    });
    group.finish();
}

criterion_group!(benches, pipeline, retrieval);
criterion_main!(benches);
