//! What the evaluator counts in a session's traces and risks.

use std::collections::{HashMap, HashSet};

use ainative_domain::{CognitiveState, CognitiveTrace, Risk, RiskKind, TraceKind, TraceLevel};
use uuid::Uuid;

/// Counts of one session.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SessionStats {
    /// Interactions (n4 traces).
    pub turns: usize,
    /// Turns per inferred state.
    pub states: HashMap<CognitiveState, usize>,
    /// Turns per intent (wire name).
    pub intents: HashMap<String, usize>,
    /// Turns whose prompt justified itself.
    pub justified: usize,
    /// Turns that showed effort.
    pub effort: usize,
    /// Code submissions (n1).
    pub code_submissions: usize,
    /// Error reports (n2).
    pub error_reports: usize,
    /// Mean AI involvement of the turns.
    pub ai_mean: f64,
    /// A planning or exploring turn came before the first code submission.
    pub planned_before_code: bool,
    /// Runs of debugging turns.
    pub debugging_episodes: usize,
    /// Of which followed by progress.
    pub resolved_episodes: usize,
    /// Self-corrections.
    pub self_corrections: usize,
    /// Risks per kind.
    pub risks: HashMap<RiskKind, usize>,
}

impl SessionStats {
    /// Turns in `state`.
    pub fn state(&self, state: CognitiveState) -> usize {
        self.states.get(&state).copied().unwrap_or(0)
    }

    /// Turns with `intent` (wire name).
    pub fn intent(&self, intent: &str) -> usize {
        self.intents.get(intent).copied().unwrap_or(0)
    }

    /// Risks of `kind`.
    pub fn risk(&self, kind: RiskKind) -> usize {
        self.risks.get(&kind).copied().unwrap_or(0)
    }

    /// `part / turns`, 0 without turns.
    pub fn ratio(&self, part: usize) -> f64 {
        if self.turns == 0 {
            0.0
        } else {
            part as f64 / self.turns as f64
        }
    }

    /// Counts the traces and risks of a session.
    pub fn from(traces: &[CognitiveTrace], risks: &[Risk]) -> Self {
        let mut turns: Vec<&CognitiveTrace> = traces
            .iter()
            .filter(|t| t.level == TraceLevel::N4)
            .collect();
        turns.sort_by_key(|t| t.created_at);
        let with_code: HashSet<Uuid> = traces
            .iter()
            .filter(|t| t.level == TraceLevel::N1)
            .map(|t| t.interaction_id)
            .collect();
        let flag = |t: &CognitiveTrace, name: &str| {
            t.data.get(name).and_then(serde_json::Value::as_bool) == Some(true)
        };

        let mut s = SessionStats {
            turns: turns.len(),
            code_submissions: with_code.len(),
            error_reports: traces.iter().filter(|t| t.level == TraceLevel::N2).count(),
            ..Self::default()
        };
        for t in &turns {
            *s.states.entry(t.cognitive_state).or_default() += 1;
            if let Some(intent) = t.data.get("intent").and_then(serde_json::Value::as_str) {
                *s.intents.entry(intent.to_owned()).or_default() += 1;
            }
            s.justified += usize::from(flag(t, "justification"));
            s.effort += usize::from(flag(t, "effort"));
            s.self_corrections += usize::from(t.kind == TraceKind::SelfCorrection);
        }
        if !turns.is_empty() {
            s.ai_mean = (turns.iter().map(|t| t.ai_involvement).sum::<f64>() / turns.len() as f64)
                .clamp(0.0, 1.0);
        }
        let first_code = turns
            .iter()
            .position(|t| with_code.contains(&t.interaction_id));
        s.planned_before_code = match first_code {
            Some(i) => turns[..i].iter().any(|t| {
                matches!(
                    t.cognitive_state,
                    CognitiveState::Planning | CognitiveState::Exploring
                )
            }),
            None => false,
        };
        let debugging = |t: &CognitiveTrace| {
            t.cognitive_state == CognitiveState::Debugging
                || (t.cognitive_state == CognitiveState::Stuck
                    && t.data.get("intent").and_then(serde_json::Value::as_str)
                        == Some("debugging"))
        };
        let resolving = |t: &CognitiveTrace| {
            t.kind == TraceKind::SelfCorrection
                || matches!(
                    t.cognitive_state,
                    CognitiveState::Progressing
                        | CognitiveState::Validating
                        | CognitiveState::Reflecting
                )
        };
        let mut i = 0;
        while i < turns.len() {
            if debugging(turns[i]) {
                let mut j = i;
                while j < turns.len() && debugging(turns[j]) {
                    j += 1;
                }
                s.debugging_episodes += 1;
                if turns.get(j).is_some_and(|t| resolving(t)) {
                    s.resolved_episodes += 1;
                }
                i = j;
            } else {
                i += 1;
            }
        }
        for risk in risks {
            *s.risks.entry(risk.kind).or_default() += 1;
        }
        s
    }
}
