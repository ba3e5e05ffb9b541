//! Stage 3, taxonomy: key concepts and suggested tags, by RAKE over the material.
//!
//! *Candidate runs* are the runs of content words between stop words (English ∪ Spanish, see
//! docs/materials.md) and punctuation, over the chunks' fresh text (overlaps are not counted
//! twice). Words are compared by stem (Snowball stemmer of the material's language, accents
//! folded). RAKE's word score is `deg(w) / freq(w)`: `freq` counts a word's occurrences in
//! runs, `deg` adds for each the length of its run (capped at `max_phrase_words`), so words
//! that live in longer phrases score higher. Candidate concepts are the n-grams of 1 to
//! `max_phrase_words` words inside runs; a concept scores
//! `Σ_{w in it} deg(w)/freq(w) × ln(1 + occurrences)`. Multi-word concepts must occur at
//! least twice, and so must single words in materials with 200 or more runs. A concept that
//! never occurs outside a longer kept one (`naive` inside `naive Fibonacci`) is dropped. The
//! top `max_concepts` (ties by key) are kept, scores divided by the top one. Tags are the
//! slugs of the top concepts with a score of at least 0.3, skipping a concept whose words all
//! appear in one tag already.

use std::collections::{BTreeMap, HashMap, HashSet};

use ainative_domain::{Chunk, Concept, Stage, Taxonomy};

use crate::analysis::{candidate_runs, contains_gram};
use crate::config::TaxonomyConfig;
use crate::lexicon::{StopWords, WordStemmer};
use crate::progress::{ProgressSink, StageProgress};

/// Lowest concept score that makes a tag.
const MIN_TAG_SCORE: f32 = 0.3;

/// Runs from which single words seen once are ignored.
const RECURRENCE_THRESHOLD: u64 = 200;

#[derive(Default)]
struct GramStats {
    stems: Vec<String>,
    occurrences: u32,
    chunks: HashSet<usize>,
    surfaces: BTreeMap<String, u32>,
}

/// Runs the taxonomy stage over the kept chunks of a material of main language `language`
/// (ISO 639-3).
pub(crate) fn extract(
    chunks: &[Chunk],
    language: Option<&str>,
    config: &TaxonomyConfig,
    stop: &StopWords,
    progress: &dyn ProgressSink,
) -> Taxonomy {
    let mut stage = StageProgress::new(progress, Stage::Taxonomy);
    let max_words = config.max_phrase_words.max(1);
    let mut stemmer = WordStemmer::new(language);
    let mut grams: HashMap<String, GramStats> = HashMap::new();
    let mut freq: HashMap<String, u64> = HashMap::new();
    let mut degree: HashMap<String, u64> = HashMap::new();
    let mut runs = 0u64;
    for (i, chunk) in chunks.iter().enumerate() {
        for run in candidate_runs(chunk.fresh_text(), stop, &mut stemmer) {
            runs += 1;
            let length = run.stems.len().min(max_words) as u64;
            for stem in &run.stems {
                *freq.entry(stem.clone()).or_default() += 1;
                *degree.entry(stem.clone()).or_default() += length;
            }
            for gram in run.grams(max_words) {
                let stats = grams.entry(run.key(gram)).or_default();
                if stats.stems.is_empty() {
                    stats.stems = run.stems[gram.start..gram.end].to_vec();
                }
                stats.occurrences += 1;
                stats.chunks.insert(i);
                *stats.surfaces.entry(run.surface(gram)).or_default() += 1;
            }
        }
        stage.fraction(i + 1, chunks.len());
    }
    let min_single = if runs >= RECURRENCE_THRESHOLD { 2 } else { 1 };
    let mut scored: Vec<(f64, String, GramStats)> = grams
        .into_iter()
        .filter(|(_, s)| s.occurrences >= if s.stems.len() > 1 { 2 } else { min_single })
        .map(|(key, stats)| {
            let rake: f64 = stats
                .stems
                .iter()
                .map(|w| degree[w] as f64 / freq[w] as f64)
                .sum();
            (rake * (1.0 + f64::from(stats.occurrences)).ln(), key, stats)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let scored = without_nested(scored, config.max_concepts);
    let top = scored.first().map_or(1.0, |s| s.0);
    let concepts: Vec<Concept> = scored
        .into_iter()
        .map(|(score, key, stats)| Concept {
            label: most_frequent(&stats.surfaces),
            score: ((score / top) as f32 * 1000.0).round() / 1000.0,
            occurrences: stats.occurrences,
            chunks: u32::try_from(stats.chunks.len()).unwrap_or(u32::MAX),
            key,
        })
        .collect();
    let tags = tags(&concepts, config.max_tags);
    stage.done();
    Taxonomy { concepts, tags }
}

/// The first `max` concepts, best first, leaving out any that only ever occurs inside a
/// longer concept of the list.
fn without_nested(
    ranked: Vec<(f64, String, GramStats)>,
    max: usize,
) -> Vec<(f64, String, GramStats)> {
    let occurrences: HashMap<String, u32> = ranked
        .iter()
        .map(|(_, key, s)| (key.clone(), s.occurrences))
        .collect();
    let mut kept: Vec<(f64, String, GramStats)> = Vec::new();
    for candidate in ranked {
        if kept.len() >= max {
            break;
        }
        let inside_longer = occurrences.iter().any(|(key, count)| {
            key.len() > candidate.1.len()
                && *count >= candidate.2.occurrences
                && contains_gram(key, &candidate.1)
        });
        if !inside_longer {
            kept.push(candidate);
        }
    }
    kept
}

/// The surface form seen most often; ties go to the smallest string.
fn most_frequent(surfaces: &BTreeMap<String, u32>) -> String {
    let mut best: Option<(&String, u32)> = None;
    for (surface, count) in surfaces {
        if best.is_none_or(|(_, c)| *count > c) {
            best = Some((surface, *count));
        }
    }
    best.map(|(s, _)| s.clone()).unwrap_or_default()
}

fn tags(concepts: &[Concept], max: usize) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    let mut tag_words: Vec<HashSet<String>> = Vec::new();
    for concept in concepts {
        if tags.len() >= max || concept.score < MIN_TAG_SCORE {
            break;
        }
        let words: Vec<String> = concept
            .label
            .split_whitespace()
            .map(|w| {
                w.to_lowercase()
                    .chars()
                    .filter(|c| c.is_alphanumeric() || *c == '-')
                    .collect::<String>()
            })
            .filter(|w| !w.is_empty())
            .collect();
        let slug = words.join("-");
        let covered = tag_words
            .iter()
            .any(|tag| words.iter().all(|w| tag.contains(w)));
        if slug.chars().count() < 3 || covered || tags.contains(&slug) {
            continue;
        }
        tag_words.push(words.into_iter().collect());
        tags.push(slug);
    }
    tags
}

#[cfg(test)]
pub(crate) mod tests;
