//! Step 5, traceability: the cognitive traces of one interaction.
//!
//! Every interaction yields:
//! - n3 `student_prompt` (at the time the request arrived; involvement 0.0 — the student's
//!   own words) and n3 `ai_response` (at the time of the answer; the turn's involvement);
//! - n4, the cognitive reading of the turn (inferred state, intent, the tutor's strategy, the
//!   student's strategy, whether the prompt justifies itself, effort, block reason), with the
//!   turn's involvement. Its kind is `self_correction` when the student resolved the error of
//!   the previous turn themselves, `strategy_change` when the intent differs from the previous
//!   turn's, and `student_prompt` otherwise;
//! - n1 `code_submission` when code is submitted and n2 `error_report` when error output is
//!   (both 0.0: the student's own artefacts);
//! - n3 `tutor_intervention` when governance blocked the turn.
//!
//! The involvement of the turn is [`super::involvement::ai_involvement`].

use ainative_domain::{
    turn_row_id, CognitiveState, CognitiveTrace, Intent, Interaction, InteractionInput,
    StudySession, TraceKind, TraceLevel,
};
use chrono::{DateTime, Utc};
use serde_json::json;

use super::cognitive::Assessment;
use super::governance::{BlockReason, Redactions, Verdict};
use super::involvement::{ai_involvement, InvolvementInputs};
use super::text::{contains_code, is_question};

/// Everything the traces of a turn are built from.
#[derive(Debug, Clone, Copy)]
pub struct TurnRecord<'a> {
    /// The session.
    pub session: &'a StudySession,
    /// The interaction (response, intent, help level, agent, `created_at` = answer time).
    pub interaction: &'a Interaction,
    /// The redacted input.
    pub input: &'a InteractionInput,
    /// The cognitive engine's decisions.
    pub assessment: &'a Assessment,
    /// Governance's decision.
    pub verdict: &'a Verdict,
    /// What was redacted.
    pub redactions: Redactions,
    /// The previous interaction of the session, if any.
    pub previous: Option<&'a Interaction>,
    /// When the request arrived.
    pub received_at: DateTime<Utc>,
}

/// Step 5 of the pipeline.
pub trait TraceBuilder: Send + Sync {
    /// The traces of a turn.
    fn traces(&self, turn: &TurnRecord<'_>) -> Vec<CognitiveTrace>;
}

/// The builder documented in this module.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultTraceBuilder;

/// The involvement of a turn.
pub fn turn_involvement(turn: &TurnRecord<'_>) -> f64 {
    ai_involvement(&InvolvementInputs {
        intent: turn.interaction.intent,
        help_level: turn.interaction.help_level,
        blocked: turn.interaction.blocked,
        prompt: &turn.input.prompt,
        code: turn.input.code.as_deref(),
        response: &turn.interaction.response,
    })
}

impl TraceBuilder for DefaultTraceBuilder {
    fn traces(&self, turn: &TurnRecord<'_>) -> Vec<CognitiveTrace> {
        let i = turn.interaction;
        let a = turn.assessment;
        let involvement = turn_involvement(turn);
        let make = |level, kind, ai: f64, at, summary: String, data| CognitiveTrace {
            id: turn_row_id(),
            session_id: turn.session.id,
            interaction_id: i.id,
            level,
            kind,
            cognitive_state: a.state,
            ai_involvement: ai,
            agent: i.agent,
            summary,
            data,
            created_at: at,
        };
        let prompt = &turn.input.prompt;
        let mut traces = vec![make(
            TraceLevel::N3,
            TraceKind::StudentPrompt,
            0.0,
            turn.received_at,
            format!("Student: {}", excerpt(prompt, 120)),
            json!({
                "intent": i.intent,
                "chars": prompt.chars().count(),
                "is_question": is_question(prompt),
                "redactions": turn.redactions,
            }),
        )];
        if let Some(code) = &turn.input.code {
            traces.push(make(
                TraceLevel::N1,
                TraceKind::CodeSubmission,
                0.0,
                turn.received_at,
                format!("Submitted {} lines of code", code.lines().count()),
                json!({ "chars": code.chars().count(), "lines": code.lines().count() }),
            ));
        }
        if let Some(error) = &turn.input.error_output {
            let first = error
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or_default();
            traces.push(make(
                TraceLevel::N2,
                TraceKind::ErrorReport,
                0.0,
                turn.received_at,
                format!("Error: {}", excerpt(first, 120)),
                json!({ "chars": error.chars().count(), "lines": error.lines().count() }),
            ));
        }
        traces.push(make(
            TraceLevel::N3,
            TraceKind::AiResponse,
            involvement,
            i.created_at,
            format!("{}: {}", i.agent, excerpt(&i.response, 120)),
            json!({
                "chars": i.response.chars().count(),
                "contains_code": contains_code(&i.response),
                "blocked": i.blocked,
                "cache_hit": i.cache_hit,
                "provider": i.provider,
                "model": i.model,
                "sources": i.sources,
            }),
        ));
        if let Verdict::Block { reason, .. } = turn.verdict {
            let phrase = match reason {
                BlockReason::PromptInjection { phrase } => Some(phrase.as_str()),
                BlockReason::Delegation => None,
            };
            traces.push(make(
                TraceLevel::N3,
                TraceKind::TutorIntervention,
                involvement,
                i.created_at,
                format!("Governance blocked the turn ({})", reason.as_str()),
                json!({ "reason": reason.as_str(), "phrase": phrase, "strategy": a.strategy.as_str() }),
            ));
        }
        traces.push(make(
            TraceLevel::N4,
            cognitive_kind(turn),
            involvement,
            i.created_at,
            format!("{} · {} · {}", a.state, i.intent, a.strategy.as_str()),
            json!({
                "cognitive_state": a.state,
                "intent": i.intent,
                "help_level": i.help_level,
                "strategy": a.strategy.as_str(),
                "student_strategy": student_strategy(i.intent, a.state, turn.input),
                "justification": a.justification,
                "effort": a.effort,
                "blocked": i.blocked,
                "block_reason": turn.verdict.reason().map(BlockReason::as_str),
                "rationale": a.rationale,
            }),
        ));
        traces
    }
}

fn cognitive_kind(turn: &TurnRecord<'_>) -> TraceKind {
    match turn.previous {
        Some(prev)
            if prev.intent == Intent::Debugging
                && turn.assessment.state == CognitiveState::Progressing =>
        {
            TraceKind::SelfCorrection
        }
        Some(prev) if prev.intent != turn.interaction.intent => TraceKind::StrategyChange,
        _ => TraceKind::StudentPrompt,
    }
}

/// The student's way of working in this turn.
fn student_strategy(
    intent: Intent,
    state: CognitiveState,
    input: &InteractionInput,
) -> &'static str {
    match (intent, state) {
        (Intent::SolutionRequest, _) => "delegation",
        (_, CognitiveState::Planning) => "planning",
        (Intent::Debugging, CognitiveState::Stuck) => "trial_and_error",
        (Intent::Debugging, _) => "debugging",
        (Intent::CodeReview, _) => "validation",
        _ if input.code.is_some() => "incremental_implementation",
        (Intent::Clarification, _) => "clarification_seeking",
        (Intent::OffTopic, _) => "off_task",
        _ => "concept_exploration",
    }
}

/// The first `max` characters of `text` on one line, with `…` when cut.
pub fn excerpt(text: &str, max: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= max {
        line
    } else {
        let cut: String = line.chars().take(max).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::cognitive::Strategy;
    use crate::pipeline::testing::{activity, at, interaction, session};
    use ainative_domain::{Agent, HelpLevel, SessionMode};

    fn assessment(state: CognitiveState) -> Assessment {
        Assessment {
            state,
            agent: Agent::Tutor,
            help_level: HelpLevel::Low,
            effort: true,
            justification: false,
            strategy: Strategy::Hints,
            rationale: "test",
        }
    }

    fn kinds(traces: &[CognitiveTrace]) -> Vec<(TraceLevel, TraceKind)> {
        traces.iter().map(|t| (t.level, t.kind)).collect()
    }

    #[test]
    fn trace_sets_per_input() {
        use TraceKind as K;
        use TraceLevel as L;
        let activity = activity();
        let s = session(&activity, SessionMode::Tutor);
        let a = assessment(CognitiveState::Debugging);
        // (code, error output, blocked, expected traces)
        type Case = (
            Option<&'static str>,
            Option<&'static str>,
            bool,
            Vec<(L, K)>,
        );
        let cases: [Case; 4] = [
            (
                None,
                None,
                false,
                vec![
                    (L::N3, K::StudentPrompt),
                    (L::N3, K::AiResponse),
                    (L::N4, K::StudentPrompt),
                ],
            ),
            (
                Some("x = 1"),
                None,
                false,
                vec![
                    (L::N3, K::StudentPrompt),
                    (L::N1, K::CodeSubmission),
                    (L::N3, K::AiResponse),
                    (L::N4, K::StudentPrompt),
                ],
            ),
            (
                Some("x = 1"),
                Some("NameError"),
                false,
                vec![
                    (L::N3, K::StudentPrompt),
                    (L::N1, K::CodeSubmission),
                    (L::N2, K::ErrorReport),
                    (L::N3, K::AiResponse),
                    (L::N4, K::StudentPrompt),
                ],
            ),
            (
                None,
                None,
                true,
                vec![
                    (L::N3, K::StudentPrompt),
                    (L::N3, K::AiResponse),
                    (L::N3, K::TutorIntervention),
                    (L::N4, K::StudentPrompt),
                ],
            ),
        ];
        for (code, error, blocked, expected) in cases {
            let mut i = interaction(&s, Intent::Debugging, HelpLevel::Low, blocked, at(5));
            i.response = "What does the error say?".into();
            let input = InteractionInput {
                prompt: "help".into(),
                code: code.map(Into::into),
                error_output: error.map(Into::into),
            };
            let verdict = if blocked {
                Verdict::Block {
                    reason: BlockReason::Delegation,
                    response: String::new(),
                }
            } else {
                Verdict::Allow
            };
            let traces = DefaultTraceBuilder.traces(&TurnRecord {
                session: &s,
                interaction: &i,
                input: &input,
                assessment: &a,
                verdict: &verdict,
                redactions: Redactions::default(),
                previous: None,
                received_at: at(0),
            });
            assert_eq!(kinds(&traces), expected);
            for t in &traces {
                assert_eq!(t.interaction_id, i.id);
                assert_eq!(t.session_id, s.id);
                assert!((0.0..=1.0).contains(&t.ai_involvement));
                let own = matches!(
                    t.kind,
                    K::StudentPrompt | K::CodeSubmission | K::ErrorReport
                ) && t.level != L::N4;
                if own || blocked {
                    assert_eq!(t.ai_involvement, 0.0, "{:?}", t.kind);
                } else {
                    assert!(t.ai_involvement > 0.0, "{:?}", t.kind);
                }
            }
            assert_eq!(traces[0].created_at, at(0));
            assert_eq!(traces.last().map(|t| t.created_at), Some(at(5)));
            let n4 = traces.last().map(|t| t.data.clone()).unwrap_or_default();
            assert_eq!(n4["intent"], "debugging");
            assert_eq!(n4["strategy"], "hints");
            assert_eq!(n4["justification"], false);
            assert_eq!(n4["blocked"], blocked);
        }
    }

    #[test]
    fn cognitive_kind_reflects_the_previous_turn() {
        let activity = activity();
        let s = session(&activity, SessionMode::Tutor);
        let input = InteractionInput {
            prompt: "it works now".into(),
            code: None,
            error_output: None,
        };
        let current = interaction(&s, Intent::ConceptualQuestion, HelpLevel::Low, false, at(5));
        let debugging = interaction(&s, Intent::Debugging, HelpLevel::Low, false, at(0));
        let conceptual = interaction(&s, Intent::ConceptualQuestion, HelpLevel::Low, false, at(0));
        let cases = [
            (
                Some(&debugging),
                CognitiveState::Progressing,
                TraceKind::SelfCorrection,
            ),
            (
                Some(&debugging),
                CognitiveState::Exploring,
                TraceKind::StrategyChange,
            ),
            (
                Some(&conceptual),
                CognitiveState::Exploring,
                TraceKind::StudentPrompt,
            ),
            (None, CognitiveState::Progressing, TraceKind::StudentPrompt),
        ];
        for (previous, state, kind) in cases {
            let a = assessment(state);
            let turn = TurnRecord {
                session: &s,
                interaction: &current,
                input: &input,
                assessment: &a,
                verdict: &Verdict::Allow,
                redactions: Redactions::default(),
                previous,
                received_at: at(0),
            };
            assert_eq!(cognitive_kind(&turn), kind);
        }
    }

    #[test]
    fn excerpts_are_short_single_lines() {
        assert_eq!(excerpt("a\n  b", 10), "a b");
        assert_eq!(excerpt("abcdef", 3), "abc…");
    }
}
