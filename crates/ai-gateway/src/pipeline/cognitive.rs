//! Step 3, the cognitive engine: infer the student's cognitive state, choose the agent and the
//! help level.
//!
//! # State rules (first match wins; phrases EN/ES on folded text)
//! 1. reflection words ("I learned", "now I understand", "looking back", "aprendí", "ahora
//!    entiendo", "me di cuenta", …) → **reflecting**;
//! 2. a debugging, solution-request or clarification intent repeated for the third time in a
//!    row → **stuck**;
//! 3. a clarification with another one among the last three interactions → **confused**;
//! 4. progress words ("now it works", "I fixed", "ya funciona", "lo arreglé", …), or the
//!    previous interaction was debugging and this one reports no error → **progressing**;
//! 5. a debugging intent or error output → **debugging**;
//! 6. a code review or checking words ("test", "verify", "is this right", "comprobar", "¿está
//!    bien?", …) → **validating**;
//! 7. planning words ("my plan", "steps", "first I will", "pseudocode", "mi plan", "pasos",
//!    "estrategia", …) → **planning**;
//! 8. code present → **implementing**;
//! 9. a (single) solution request → **stuck**; anything else → **exploring**.
//!
//! # Agent
//! The governance agent answers blocked turns; otherwise the session mode decides
//! (`tutor`/`practice` → tutor, `evaluator` → evaluator, `simulator` → simulator).
//!
//! # Help level
//! The first turn starts at `minimal`. Each turn starts from the level of the last turn that
//! was not blocked and rises **one step only when the student shows effort** in this turn —
//! code submitted, error output reported, or an explanation of what they tried ("I tried",
//! "my approach", "intenté", "mi enfoque", …); a solution request is never effort. The level is
//! never above the activity's `max_help_level`, and a blocked turn does not raise it.

use ainative_domain::{
    ActivityPolicies, Agent, CognitiveState, HelpLevel, Intent, Interaction, StudySession,
};

use super::governance::Governed;
use super::text::{has_justification, Folded, Phrases};

/// How the answering agent goes about this turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// Questions back only (minimal help).
    SocraticQuestioning,
    /// Hints (low help).
    Hints,
    /// Explanations and partial guidance (medium help).
    GuidedExplanation,
    /// Worked explanations without complete solutions (high help).
    WorkedExplanation,
    /// The governance agent asks the student to reformulate.
    ReformulationRequest,
    /// The simulator plays its role.
    RolePlay,
    /// The evaluator gives formative feedback.
    FormativeAssessment,
}

impl Strategy {
    /// Stable name stored in traces.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::SocraticQuestioning => "socratic_questioning",
            Self::Hints => "hints",
            Self::GuidedExplanation => "guided_explanation",
            Self::WorkedExplanation => "worked_explanation",
            Self::ReformulationRequest => "reformulation_request",
            Self::RolePlay => "role_play",
            Self::FormativeAssessment => "formative_assessment",
        }
    }
}

/// What the cognitive engine decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    /// Inferred state.
    pub state: CognitiveState,
    /// Answering agent.
    pub agent: Agent,
    /// Help level applied.
    pub help_level: HelpLevel,
    /// The student showed effort in this turn.
    pub effort: bool,
    /// The prompt justifies itself.
    pub justification: bool,
    /// The agent's strategy.
    pub strategy: Strategy,
    /// Which rule chose the state.
    pub rationale: &'static str,
}

/// Step 3 of the pipeline.
pub trait CognitiveEngine: Send + Sync {
    /// Assesses a governed turn given the session's last interactions (oldest first).
    fn assess(
        &self,
        turn: &Governed,
        history: &[Interaction],
        session: &StudySession,
        policies: &ActivityPolicies,
    ) -> Assessment;
}

/// The rule-based engine documented in this module.
#[derive(Debug, Clone, Copy, Default)]
pub struct RuleCognitiveEngine;

impl CognitiveEngine for RuleCognitiveEngine {
    fn assess(
        &self,
        turn: &Governed,
        history: &[Interaction],
        session: &StudySession,
        policies: &ActivityPolicies,
    ) -> Assessment {
        let blocked = turn.verdict.is_blocked();
        let effort = shows_effort(turn);
        let (state, rationale) = infer_state(turn, history);
        let agent = if blocked {
            Agent::Governance
        } else {
            session.mode.agent()
        };
        let help_level = help_level(history, effort && !blocked, policies.max_help_level);
        Assessment {
            state,
            agent,
            help_level,
            effort,
            justification: has_justification(&turn.input.prompt),
            strategy: strategy(agent, help_level),
            rationale,
        }
    }
}

static EFFORT_PHRASES: Phrases = Phrases::new(&[
    "i tried",
    "i ve tried",
    "i have tried",
    "my approach",
    "my idea",
    "my attempt",
    "so far",
    "i wrote",
    "i implemented",
    "intente",
    "he intentado",
    "probe",
    "he probado",
    "mi enfoque",
    "mi idea",
    "mi intento",
    "hasta ahora",
    "escribi",
    "implemente",
]);

/// Whether the turn shows the student's own effort (see the module documentation).
pub fn shows_effort(turn: &Governed) -> bool {
    turn.intent != Intent::SolutionRequest
        && (turn.input.code.is_some()
            || turn.input.error_output.is_some()
            || Folded::new(&turn.input.prompt).has_any(&EFFORT_PHRASES))
}

/// The help level of this turn: the last unblocked level (or `minimal`), one step up on
/// effort, never above `max`.
pub fn help_level(history: &[Interaction], effort: bool, max: HelpLevel) -> HelpLevel {
    let previous = history
        .iter()
        .rev()
        .find(|i| !i.blocked)
        .map_or(HelpLevel::Minimal, |i| i.help_level)
        .min(max);
    if effort {
        previous.raised(max)
    } else {
        previous
    }
}

fn strategy(agent: Agent, help: HelpLevel) -> Strategy {
    match (agent, help) {
        (Agent::Governance, _) => Strategy::ReformulationRequest,
        (Agent::Simulator, _) => Strategy::RolePlay,
        (Agent::Evaluator, _) => Strategy::FormativeAssessment,
        (Agent::Tutor, HelpLevel::Minimal) => Strategy::SocraticQuestioning,
        (Agent::Tutor, HelpLevel::Low) => Strategy::Hints,
        (Agent::Tutor, HelpLevel::Medium) => Strategy::GuidedExplanation,
        (Agent::Tutor, HelpLevel::High) => Strategy::WorkedExplanation,
    }
}

static REFLECTION: Phrases = Phrases::new(&[
    "i learned",
    "i ve learned",
    "now i understand",
    "now i see",
    "looking back",
    "in hindsight",
    "i realized",
    "i realised",
    "i realize",
    "lesson",
    "aprendi",
    "ahora entiendo",
    "ahora veo",
    "me di cuenta",
    "en retrospectiva",
    "reflexion*",
]);
static PROGRESS: Phrases = Phrases::new(&[
    "now it works",
    "it works now",
    "it worked",
    "fixed it",
    "i fixed",
    "solved it",
    "i solved",
    "ya funciona",
    "ahora funciona",
    "funciona ahora",
    "lo arregle",
    "lo solucione",
    "lo resolvi",
]);
static VALIDATION: Phrases = Phrases::new(&[
    "test",
    "tests",
    "testing",
    "prueba",
    "pruebas",
    "verify",
    "verifica*",
    "comprob*",
    "check if",
    "check whether",
    "is this right",
    "is it correct",
    "is this correct",
    "esta bien",
    "es correcto",
]);
static PLANNING: Phrases = Phrases::new(&[
    "plan",
    "my plan",
    "steps",
    "first i will",
    "first i ll",
    "i will start",
    "strategy",
    "pseudocode",
    "pseudocodigo",
    "mi plan",
    "pasos",
    "primero voy",
    "primero har*",
    "estrategia",
    "enfoque",
    "diseno",
]);

/// How many of the last interactions (newest first) have `intent`, stopping at the first
/// that does not.
fn repeats(history: &[Interaction], intent: Intent) -> usize {
    history
        .iter()
        .rev()
        .take_while(|i| i.intent == intent)
        .count()
}

fn infer_state(turn: &Governed, history: &[Interaction]) -> (CognitiveState, &'static str) {
    let prompt = Folded::new(&turn.input.prompt);
    let intent = turn.intent;
    let has_code = turn.input.code.is_some() || turn.input.prompt.contains("```");
    let has_error = turn.input.error_output.is_some();
    let repeatable = matches!(
        intent,
        Intent::Debugging | Intent::SolutionRequest | Intent::Clarification
    );
    let recent_clarifications = history
        .iter()
        .rev()
        .take(3)
        .filter(|i| i.intent == Intent::Clarification)
        .count();
    let after_debugging = history
        .last()
        .is_some_and(|i| i.intent == Intent::Debugging);
    if prompt.has_any(&REFLECTION) {
        (CognitiveState::Reflecting, "reflection words")
    } else if repeatable && repeats(history, intent) >= 2 {
        (CognitiveState::Stuck, "same intent three times in a row")
    } else if intent == Intent::Clarification && recent_clarifications >= 1 {
        (CognitiveState::Confused, "repeated clarifications")
    } else if prompt.has_any(&PROGRESS)
        || (after_debugging && !has_error && intent != Intent::Debugging)
    {
        (CognitiveState::Progressing, "error resolved")
    } else if intent == Intent::Debugging || has_error {
        (
            CognitiveState::Debugging,
            "debugging intent or error output",
        )
    } else if intent == Intent::CodeReview || prompt.has_any(&VALIDATION) {
        (CognitiveState::Validating, "review or checking words")
    } else if prompt.has_any(&PLANNING) {
        (CognitiveState::Planning, "planning words")
    } else if has_code {
        (CognitiveState::Implementing, "code submitted")
    } else if intent == Intent::SolutionRequest {
        (CognitiveState::Stuck, "asks for the solution")
    } else {
        (CognitiveState::Exploring, "question or exploration")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::governance::{Redactions, Verdict};
    use crate::pipeline::testing::{activity, interaction, session, t0};
    use ainative_domain::{InteractionInput, SessionMode};

    fn turn(prompt: &str, code: bool, error: bool, intent: Intent) -> Governed {
        Governed {
            input: InteractionInput {
                prompt: prompt.into(),
                code: code.then(|| "x = 1".to_owned()),
                error_output: error.then(|| "Traceback".to_owned()),
            },
            intent,
            redactions: Redactions::default(),
            verdict: Verdict::Allow,
        }
    }

    fn history(intents: &[Intent]) -> Vec<Interaction> {
        let s = session(&activity(), SessionMode::Tutor);
        intents
            .iter()
            .map(|i| interaction(&s, *i, HelpLevel::Minimal, false, t0()))
            .collect()
    }

    #[test]
    fn states_follow_the_rules() {
        use CognitiveState as S;
        use Intent as I;
        // (prompt, code, error, intent, previous intents, expected)
        type Case<'a> = (&'a str, bool, bool, I, &'a [I], S);
        let cases: &[Case] = &[
            (
                "Now I understand recursion",
                false,
                false,
                I::ConceptualQuestion,
                &[],
                S::Reflecting,
            ),
            (
                "Ahora entiendo el bucle",
                false,
                false,
                I::ConceptualQuestion,
                &[],
                S::Reflecting,
            ),
            (
                "still an error",
                false,
                true,
                I::Debugging,
                &[I::Debugging, I::Debugging],
                S::Stuck,
            ),
            (
                "what do you mean?",
                false,
                false,
                I::Clarification,
                &[I::Clarification],
                S::Confused,
            ),
            (
                "ok, and then?",
                false,
                false,
                I::Clarification,
                &[],
                S::Exploring,
            ),
            (
                "Ya funciona!",
                false,
                false,
                I::ConceptualQuestion,
                &[],
                S::Progressing,
            ),
            (
                "what next?",
                false,
                false,
                I::ConceptualQuestion,
                &[I::Debugging],
                S::Progressing,
            ),
            ("this fails", false, true, I::Debugging, &[], S::Debugging),
            ("review it", true, false, I::CodeReview, &[], S::Validating),
            (
                "My plan: first loop, then sum",
                false,
                false,
                I::ConceptualQuestion,
                &[],
                S::Planning,
            ),
            (
                "here is my loop",
                true,
                false,
                I::ConceptualQuestion,
                &[],
                S::Implementing,
            ),
            (
                "what is a loop",
                false,
                false,
                I::ConceptualQuestion,
                &[],
                S::Exploring,
            ),
            (
                "give me the code",
                false,
                false,
                I::SolutionRequest,
                &[],
                S::Stuck,
            ),
        ];
        let s = session(&activity(), SessionMode::Tutor);
        for (prompt, code, error, intent, past, expected) in cases {
            let a = RuleCognitiveEngine.assess(
                &turn(prompt, *code, *error, *intent),
                &history(past),
                &s,
                &ActivityPolicies::default(),
            );
            assert_eq!(a.state, *expected, "prompt {prompt:?}");
        }
    }

    #[test]
    fn help_rises_only_after_effort_and_never_above_the_cap() {
        let past = |level| {
            let mut h = history(&[Intent::ConceptualQuestion]);
            h[0].help_level = level;
            h
        };
        use HelpLevel as H;
        // (history level, effort, max, expected)
        let cases = [
            (None, false, H::High, H::Minimal),
            (None, true, H::High, H::Low),
            (Some(H::Low), false, H::High, H::Low),
            (Some(H::Low), true, H::High, H::Medium),
            (Some(H::Medium), true, H::Medium, H::Medium),
            (Some(H::High), false, H::Low, H::Low),
            (Some(H::Minimal), true, H::Minimal, H::Minimal),
        ];
        for (level, effort, max, expected) in cases {
            let h = level.map(past).unwrap_or_default();
            assert_eq!(
                help_level(&h, effort, max),
                expected,
                "{level:?} {effort} {max:?}"
            );
        }
        // a blocked last turn is skipped when finding the previous level
        let mut h = history(&[Intent::ConceptualQuestion, Intent::SolutionRequest]);
        h[0].help_level = H::Medium;
        h[1].help_level = H::Minimal;
        h[1].blocked = true;
        assert_eq!(help_level(&h, false, H::High), H::Medium);
    }

    #[test]
    fn effort_is_code_errors_or_explained_attempts_but_never_delegation() {
        assert!(shows_effort(&turn("look", true, false, Intent::CodeReview)));
        assert!(shows_effort(&turn("why?", false, true, Intent::Debugging)));
        assert!(shows_effort(&turn(
            "Intenté usar un for",
            false,
            false,
            Intent::ConceptualQuestion
        )));
        assert!(shows_effort(&turn(
            "my approach is a loop",
            false,
            false,
            Intent::ConceptualQuestion
        )));
        assert!(!shows_effort(&turn(
            "what is a loop",
            false,
            false,
            Intent::ConceptualQuestion
        )));
        assert!(!shows_effort(&turn(
            "give me the code",
            true,
            false,
            Intent::SolutionRequest
        )));
    }

    #[test]
    fn agent_follows_the_mode_unless_blocked() {
        let a = activity();
        let mut t = turn("what is a loop", false, false, Intent::ConceptualQuestion);
        let p = ActivityPolicies::default();
        for (mode, agent) in [
            (SessionMode::Tutor, Agent::Tutor),
            (SessionMode::Practice, Agent::Tutor),
            (SessionMode::Evaluator, Agent::Evaluator),
            (SessionMode::Simulator, Agent::Simulator),
        ] {
            assert_eq!(
                RuleCognitiveEngine
                    .assess(&t, &[], &session(&a, mode), &p)
                    .agent,
                agent
            );
        }
        t.verdict = Verdict::Block {
            reason: crate::pipeline::governance::BlockReason::Delegation,
            response: String::new(),
        };
        t.input.code = Some("x".into());
        let blocked = RuleCognitiveEngine.assess(&t, &[], &session(&a, SessionMode::Tutor), &p);
        assert_eq!(blocked.agent, Agent::Governance);
        assert_eq!(blocked.strategy, Strategy::ReformulationRequest);
        assert_eq!(blocked.help_level, HelpLevel::Minimal);
    }
}
