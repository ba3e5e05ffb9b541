//! The cognitive path of a session: a pure reconstruction from its traces.
//!
//! - **states**: the traces ordered by time (then level), consecutive traces in the same
//!   cognitive state merged into one span, each with its start, end (the start of the next
//!   span, or the last trace for the final one) and duration;
//! - **time per state**: for each pair of consecutive traces, the seconds between them count
//!   for the state of the earlier one (so the times add up to the session's traced duration);
//! - **AI-involvement average**: the mean `ai_involvement` of the n4 traces (one per
//!   interaction, carrying the involvement of the turn); of all traces when there is no n4;
//! - **counts per level** n1–n4, the **transitions** between states, and the number of
//!   interactions.

use std::collections::{BTreeMap, HashSet};

use ainative_domain::{CognitiveState, CognitiveTrace, TraceLevel};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Consecutive traces in one state.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StateSpan {
    /// The state.
    pub state: CognitiveState,
    /// Time of its first trace.
    pub started_at: DateTime<Utc>,
    /// Start of the next span (or the last trace).
    pub ended_at: DateTime<Utc>,
    /// `ended_at - started_at`, in seconds.
    pub duration_secs: f64,
    /// Interactions with traces in this span.
    pub interactions: usize,
}

/// A change of state.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Transition {
    /// State before.
    pub from: CognitiveState,
    /// State after.
    pub to: CognitiveState,
    /// When the new state began.
    pub at: DateTime<Utc>,
    /// The interaction where it began.
    pub interaction_id: Uuid,
}

/// Traces per level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LevelCounts {
    /// Deliverables (code).
    pub n1: usize,
    /// Technical (errors).
    pub n2: usize,
    /// Interactional.
    pub n3: usize,
    /// Cognitive.
    pub n4: usize,
}

/// The reconstructed path of a session.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CognitivePath {
    /// States in order, consecutive duplicates merged.
    pub states: Vec<StateSpan>,
    /// Seconds spent in each state (by wire name).
    pub time_per_state: BTreeMap<String, f64>,
    /// Mean AI involvement per interaction, 0–1.
    pub ai_involvement_avg: f64,
    /// Traces per level.
    pub level_counts: LevelCounts,
    /// Changes of state, in order.
    pub transitions: Vec<Transition>,
    /// Distinct interactions traced.
    pub interaction_count: usize,
    /// Seconds from the first to the last trace.
    pub total_duration_secs: f64,
}

fn seconds(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_milliseconds().max(0) as f64 / 1000.0
}

/// Reconstructs the cognitive path of a session from its traces (any order).
pub fn reconstruct(traces: &[CognitiveTrace]) -> CognitivePath {
    let mut ordered: Vec<&CognitiveTrace> = traces.iter().collect();
    ordered.sort_by_key(|t| (t.created_at, t.level));

    let mut level_counts = LevelCounts::default();
    for t in &ordered {
        match t.level {
            TraceLevel::N1 => level_counts.n1 += 1,
            TraceLevel::N2 => level_counts.n2 += 1,
            TraceLevel::N3 => level_counts.n3 += 1,
            TraceLevel::N4 => level_counts.n4 += 1,
        }
    }

    let mut time_per_state: BTreeMap<String, f64> = BTreeMap::new();
    for pair in ordered.windows(2) {
        *time_per_state
            .entry(pair[0].cognitive_state.as_str().to_owned())
            .or_default() += seconds(pair[0].created_at, pair[1].created_at);
    }
    if let Some(last) = ordered.last() {
        time_per_state
            .entry(last.cognitive_state.as_str().to_owned())
            .or_default();
    }

    let mut states: Vec<StateSpan> = Vec::new();
    let mut transitions = Vec::new();
    let mut span_interactions: HashSet<Uuid> = HashSet::new();
    for t in &ordered {
        match states.last_mut() {
            Some(span) if span.state == t.cognitive_state => {
                span_interactions.insert(t.interaction_id);
                span.interactions = span_interactions.len();
            }
            previous => {
                if let Some(span) = previous {
                    transitions.push(Transition {
                        from: span.state,
                        to: t.cognitive_state,
                        at: t.created_at,
                        interaction_id: t.interaction_id,
                    });
                }
                span_interactions.clear();
                span_interactions.insert(t.interaction_id);
                states.push(StateSpan {
                    state: t.cognitive_state,
                    started_at: t.created_at,
                    ended_at: t.created_at,
                    duration_secs: 0.0,
                    interactions: 1,
                });
            }
        }
    }
    let last_time = ordered.last().map(|t| t.created_at);
    let starts: Vec<DateTime<Utc>> = states.iter().map(|s| s.started_at).collect();
    for (i, span) in states.iter_mut().enumerate() {
        span.ended_at = starts
            .get(i + 1)
            .copied()
            .or(last_time)
            .unwrap_or(span.started_at);
        span.duration_secs = seconds(span.started_at, span.ended_at);
    }

    let n4: Vec<f64> = ordered
        .iter()
        .filter(|t| t.level == TraceLevel::N4)
        .map(|t| t.ai_involvement)
        .collect();
    let source: Vec<f64> = if n4.is_empty() {
        ordered.iter().map(|t| t.ai_involvement).collect()
    } else {
        n4
    };
    let ai_involvement_avg = if source.is_empty() {
        0.0
    } else {
        (source.iter().sum::<f64>() / source.len() as f64).clamp(0.0, 1.0)
    };

    let interaction_count = ordered
        .iter()
        .map(|t| t.interaction_id)
        .collect::<HashSet<_>>()
        .len();
    let total_duration_secs = match (ordered.first(), ordered.last()) {
        (Some(first), Some(last)) => seconds(first.created_at, last.created_at),
        _ => 0.0,
    };

    CognitivePath {
        states,
        time_per_state,
        ai_involvement_avg,
        level_counts,
        transitions,
        interaction_count,
        total_duration_secs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::testing::{activity, at, session, turn_traces, TurnSpec};
    use ainative_domain::{Intent, SessionMode};
    use CognitiveState as S;

    #[test]
    fn reconstructs_a_fixed_session() {
        let s = session(&activity(), SessionMode::Tutor);
        let mut coding = TurnSpec::new(30, S::Implementing, Intent::CodeReview, 0.4);
        coding.code = true;
        let mut failing = TurnSpec::new(60, S::Debugging, Intent::Debugging, 0.6);
        failing.error = true;
        failing.code = true;
        let mut traces: Vec<CognitiveTrace> = [
            TurnSpec::new(0, S::Exploring, Intent::ConceptualQuestion, 0.2),
            TurnSpec::new(10, S::Exploring, Intent::ConceptualQuestion, 0.2),
            coding,
            failing,
            TurnSpec::new(100, S::Progressing, Intent::ConceptualQuestion, 0.2),
        ]
        .into_iter()
        .flat_map(|spec| turn_traces(&s, spec))
        .collect();
        traces.reverse(); // any order in

        let path = reconstruct(&traces);
        let states: Vec<S> = path.states.iter().map(|s| s.state).collect();
        assert_eq!(
            states,
            [S::Exploring, S::Implementing, S::Debugging, S::Progressing]
        );
        assert_eq!(path.states[0].started_at, at(0));
        assert_eq!(path.states[0].ended_at, at(30));
        assert_eq!(path.states[0].duration_secs, 30.0);
        assert_eq!(path.states[0].interactions, 2);
        assert_eq!(path.states[3].ended_at, at(102));
        assert_eq!(path.time_per_state["exploring"], 30.0);
        assert_eq!(path.time_per_state["implementing"], 30.0);
        assert_eq!(path.time_per_state["debugging"], 40.0);
        assert_eq!(path.time_per_state["progressing"], 2.0);
        assert_eq!(path.total_duration_secs, 102.0);
        let total: f64 = path.time_per_state.values().sum();
        assert_eq!(total, path.total_duration_secs);
        assert_eq!(
            path.level_counts,
            LevelCounts {
                n1: 2,
                n2: 1,
                n3: 10,
                n4: 5
            }
        );
        assert_eq!(path.interaction_count, 5);
        assert!((path.ai_involvement_avg - 0.32).abs() < 1e-9);
        let transitions: Vec<(S, S)> = path.transitions.iter().map(|t| (t.from, t.to)).collect();
        assert_eq!(
            transitions,
            [
                (S::Exploring, S::Implementing),
                (S::Implementing, S::Debugging),
                (S::Debugging, S::Progressing)
            ]
        );
        assert_eq!(path.transitions[0].at, at(30));
        let json = serde_json::to_value(&path).expect("serialisable");
        assert_eq!(json["states"][0]["state"], "exploring");
        assert_eq!(json["level_counts"]["n4"], 5);
    }

    #[test]
    fn empty_session() {
        let path = reconstruct(&[]);
        assert!(path.states.is_empty() && path.transitions.is_empty());
        assert_eq!(path.ai_involvement_avg, 0.0);
        assert_eq!(path.total_duration_secs, 0.0);
        assert_eq!(path.interaction_count, 0);
    }
}
