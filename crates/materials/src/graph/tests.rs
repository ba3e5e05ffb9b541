use std::collections::HashSet;

use ainative_domain::{chunk_id, Concept};
use uuid::Uuid;

use super::*;
use crate::progress::NoProgress;
use crate::taxonomy::tests::{kept_chunks, taxonomy};

fn graph(markdown: &str, config: &GraphConfig) -> ConceptGraph {
    let (chunks, language) = kept_chunks(markdown);
    build(
        &chunks,
        language.as_deref(),
        &taxonomy(markdown),
        config,
        &StopWords::default(),
        &NoProgress,
    )
}

fn has_edge(graph: &ConceptGraph, a: &str, b: &str) -> bool {
    graph
        .edges
        .iter()
        .any(|e| (e.source == a && e.target == b) || (e.source == b && e.target == a))
}

#[test]
fn course_notes_give_a_bounded_well_formed_graph() {
    let config = GraphConfig::default();
    let g = graph(crate::fixtures::MARKDOWN, &config);
    assert!(!g.nodes.is_empty() && g.nodes.len() <= config.max_nodes);
    assert!(!g.edges.is_empty() && g.edges.len() <= config.max_edges);
    let ids: HashSet<&str> = g.nodes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids.len(), g.nodes.len(), "node ids are unique");
    for edge in &g.edges {
        assert!(ids.contains(edge.source.as_str()) && ids.contains(edge.target.as_str()));
        assert!(edge.source < edge.target, "{edge:?}");
        assert!(edge.weight > 0.0 && edge.weight <= 1.0);
        assert!(
            !edge.target.split('_').any(|w| edge.source == w)
                && !edge.source.split('_').any(|w| edge.target == w),
            "no edge between a concept and its own word: {edge:?}"
        );
    }
    assert_eq!(g.edges[0].weight, 1.0);
    assert!(g.edges.windows(2).all(|w| w[0].count >= w[1].count));
    assert!(has_edge(&g, "call_stack", "frame"));
    assert!(has_edge(&g, "base_case", "recurs_call"));
    assert!(!has_edge(&g, "base_case", "case"));
    assert_eq!(
        g,
        graph(crate::fixtures::MARKDOWN, &config),
        "deterministic"
    );
}

#[test]
fn the_graph_respects_its_bounds() {
    let config = GraphConfig {
        max_nodes: 3,
        max_edges: 2,
        window_words: 20,
    };
    let g = graph(crate::fixtures::MARKDOWN, &config);
    assert_eq!(g.nodes.len(), 3);
    assert!(g.edges.len() <= 2);
}

fn concept(key: &str) -> Concept {
    Concept {
        key: key.to_owned(),
        label: key.to_owned(),
        score: 1.0,
        occurrences: 1,
        chunks: 1,
    }
}

#[test]
fn concepts_co_occur_only_within_the_window() {
    let filler = vec!["the"; 30].join(" ");
    let text = format!("alpha beta {filler} gamma");
    let chunk = Chunk {
        id: chunk_id(Uuid::nil(), 0),
        ordinal: 0,
        section: None,
        tokens: crate::text::count_tokens(&text),
        text,
        overlap_tokens: 0,
    };
    let taxonomy = Taxonomy {
        concepts: vec![concept("alpha"), concept("beta"), concept("gamma")],
        tags: Vec::new(),
    };
    let run = |window_words| {
        let config = GraphConfig {
            max_nodes: 10,
            max_edges: 10,
            window_words,
        };
        build(
            std::slice::from_ref(&chunk),
            None,
            &taxonomy,
            &config,
            &StopWords::default(),
            &NoProgress,
        )
    };
    let near = run(20);
    assert!(has_edge(&near, "alpha", "beta"));
    assert!(!has_edge(&near, "alpha", "gamma") && !has_edge(&near, "beta", "gamma"));
    let wide = run(40);
    assert!(has_edge(&wide, "alpha", "gamma"));
    assert_eq!(wide.edges.len(), 3);
}
