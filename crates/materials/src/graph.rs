//! Stage 4, graph: the concept co-occurrence graph.
//!
//! Nodes are the top `max_nodes` concepts of the taxonomy (weight = concept score). In each
//! chunk's fresh text, concept occurrences are found as n-grams of the candidate runs (the
//! same analysis as the taxonomy). Two different concepts co-occur when the second starts at
//! most `window_words` words after the first and their words do not overlap; each occurrence
//! counts at most once per other concept. Pairs where one concept is part of the other
//! (`case`, `base case`) are not edges. An edge's `count` is its number of co-occurrences
//! and its weight `count / max count`. The `max_edges` strongest edges are kept (ties by
//! ids), so the graph stays small and the output is deterministic.

use std::collections::{BTreeMap, HashMap, HashSet};

use ainative_domain::{Chunk, ConceptGraph, GraphEdge, GraphNode, Stage, Taxonomy};

use crate::analysis::{candidate_runs, contains_gram};
use crate::config::GraphConfig;
use crate::lexicon::{StopWords, WordStemmer};
use crate::progress::{ProgressSink, StageProgress};

/// A concept found in a chunk: word positions `start..=end`.
struct Occurrence {
    start: usize,
    end: usize,
    node: usize,
}

/// Runs the graph stage over the kept chunks of a material of main language `language`.
pub(crate) fn build(
    chunks: &[Chunk],
    language: Option<&str>,
    taxonomy: &Taxonomy,
    config: &GraphConfig,
    stop: &StopWords,
    progress: &dyn ProgressSink,
) -> ConceptGraph {
    let mut stage = StageProgress::new(progress, Stage::Graph);
    let concepts = &taxonomy.concepts[..taxonomy.concepts.len().min(config.max_nodes)];
    let index: HashMap<&str, usize> = concepts
        .iter()
        .enumerate()
        .map(|(i, c)| (c.key.as_str(), i))
        .collect();
    let longest = concepts
        .iter()
        .map(|c| c.key.split('_').count())
        .max()
        .unwrap_or(1);
    let mut stemmer = WordStemmer::new(language);
    let mut counts: BTreeMap<(usize, usize), u32> = BTreeMap::new();
    for (i, chunk) in chunks.iter().enumerate() {
        let mut found = Vec::new();
        for run in candidate_runs(chunk.fresh_text(), stop, &mut stemmer) {
            for gram in run.grams(longest) {
                if let Some(node) = index.get(run.key(gram).as_str()) {
                    found.push(Occurrence {
                        start: run.positions[gram.start],
                        end: run.positions[gram.end - 1],
                        node: *node,
                    });
                }
            }
        }
        count_pairs(&mut found, config.window_words, &mut counts);
        stage.fraction(i + 1, chunks.len());
    }
    let nodes = concepts
        .iter()
        .map(|c| GraphNode {
            id: c.key.clone(),
            label: c.label.clone(),
            weight: c.score,
        })
        .collect();
    let edges = strongest_edges(counts, concepts, config.max_edges);
    stage.done();
    ConceptGraph { nodes, edges }
}

fn count_pairs(
    found: &mut [Occurrence],
    window: usize,
    counts: &mut BTreeMap<(usize, usize), u32>,
) {
    found.sort_by_key(|o| (o.start, o.end, o.node));
    for (i, first) in found.iter().enumerate() {
        let mut linked = HashSet::new();
        for second in &found[i + 1..] {
            if second.start - first.start > window {
                break;
            }
            if second.node == first.node || second.start <= first.end {
                continue;
            }
            if linked.insert(second.node) {
                let pair = (first.node.min(second.node), first.node.max(second.node));
                *counts.entry(pair).or_default() += 1;
            }
        }
    }
}

fn strongest_edges(
    counts: BTreeMap<(usize, usize), u32>,
    concepts: &[ainative_domain::Concept],
    max_edges: usize,
) -> Vec<GraphEdge> {
    let mut edges: Vec<GraphEdge> = counts
        .into_iter()
        .filter(|((a, b), _)| {
            let (a, b) = (&concepts[*a].key, &concepts[*b].key);
            !contains_gram(a, b) && !contains_gram(b, a)
        })
        .map(|((a, b), count)| {
            let (a, b) = (&concepts[a].key, &concepts[b].key);
            let (source, target) = if a <= b { (a, b) } else { (b, a) };
            GraphEdge {
                source: source.clone(),
                target: target.clone(),
                weight: 0.0,
                count,
            }
        })
        .collect();
    edges.sort_by(|x, y| {
        y.count
            .cmp(&x.count)
            .then_with(|| x.source.cmp(&y.source))
            .then_with(|| x.target.cmp(&y.target))
    });
    edges.truncate(max_edges);
    let max = edges.first().map_or(1, |e| e.count).max(1);
    for edge in &mut edges {
        edge.weight = ((edge.count as f32 / max as f32) * 1000.0).round() / 1000.0;
    }
    edges
}

#[cfg(test)]
mod tests;
