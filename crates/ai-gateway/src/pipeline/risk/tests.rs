use ainative_domain::{
    Activity, ActivityPolicies, Agent, CognitiveState, CognitiveTrace, HelpLevel, Intent,
    Interaction, InteractionInput, Risk, RiskDimension, RiskKind, RiskLevel, SessionMode,
    StudySession, TraceKind, TraceLevel,
};

mod incremental;
use chrono::{DateTime, Utc};
use serde_json::json;

use super::*;
use crate::pipeline::cognitive::{Assessment, Strategy};
use crate::pipeline::governance::{BlockReason, Verdict};
use crate::pipeline::testing::{activity, at, interaction, session, trace};

/// Owns everything a [`RiskContext`] borrows.
struct Fixture {
    session: StudySession,
    policies: ActivityPolicies,
    interaction: Interaction,
    input: InteractionInput,
    verdict: Verdict,
    assessment: Assessment,
    traces: Vec<CognitiveTrace>,
    stored_traces: Vec<CognitiveTrace>,
    history: Vec<Interaction>,
    received_at: DateTime<Utc>,
}

impl Fixture {
    /// A harmless question at t=100 s, answered at t=101 s, with no past.
    fn new(intent: Intent) -> Self {
        let activity: Activity = activity();
        let session = session(&activity, SessionMode::Tutor);
        let interaction = interaction(&session, intent, HelpLevel::Low, false, at(101));
        let mut n4 = trace(
            &session,
            TraceLevel::N4,
            TraceKind::StudentPrompt,
            CognitiveState::Exploring,
            0.3,
            at(101),
            json!({ "intent": intent }),
        );
        n4.interaction_id = interaction.id;
        Self {
            policies: activity.content.policies.clone(),
            input: InteractionInput {
                prompt: "What is a loop invariant?".into(),
                code: None,
                error_output: None,
            },
            verdict: Verdict::Allow,
            assessment: Assessment {
                state: CognitiveState::Exploring,
                agent: Agent::Tutor,
                help_level: HelpLevel::Low,
                effort: false,
                justification: false,
                strategy: Strategy::Hints,
                rationale: "",
            },
            traces: vec![n4],
            stored_traces: Vec::new(),
            history: Vec::new(),
            received_at: at(100),
            interaction,
            session,
        }
    }

    /// The rules on the state replayed from the stored traces and history, as the gateway
    /// does for a session without a stored state.
    fn run(&self) -> Vec<Risk> {
        let threshold = self.policies.ai_dependency_threshold();
        let state = RunningState::replay(&self.stored_traces, &self.history, threshold);
        let involvement = self
            .traces
            .iter()
            .find(|t| t.level == TraceLevel::N4)
            .map(|t| t.ai_involvement);
        let facts = TurnFacts::of(&self.interaction, involvement, self.received_at);
        let next = state.advance(&facts, threshold);
        RuleRiskAnalyzer.analyze(&RiskContext {
            session: &self.session,
            policies: &self.policies,
            interaction: &self.interaction,
            input: &self.input,
            verdict: &self.verdict,
            assessment: &self.assessment,
            traces: &self.traces,
            state: &state,
            next: &next,
            history: &self.history,
            received_at: self.received_at,
        })
    }

    fn kinds(&self) -> Vec<(RiskKind, RiskLevel, String)> {
        self.run()
            .into_iter()
            .map(|r| (r.kind, r.level, r.evidence_key))
            .collect()
    }

    /// A stored n4 trace of an earlier turn.
    fn past_turn(&mut self, intent: Intent, involvement: f64, secs: i64) {
        self.stored_traces.push(trace(
            &self.session,
            TraceLevel::N4,
            TraceKind::StudentPrompt,
            CognitiveState::Exploring,
            involvement,
            at(secs),
            json!({ "intent": intent }),
        ));
    }

    /// A stored student prompt at `secs`.
    fn past_prompt(&mut self, secs: f64) {
        let mut t = trace(
            &self.session,
            TraceLevel::N3,
            TraceKind::StudentPrompt,
            CognitiveState::Exploring,
            0.0,
            at(0),
            json!({}),
        );
        t.created_at =
            crate::pipeline::testing::t0() + chrono::Duration::milliseconds((secs * 1000.0) as i64);
        self.stored_traces.push(t);
    }
}

#[test]
fn a_plain_question_raises_nothing() {
    assert!(Fixture::new(Intent::ConceptualQuestion).run().is_empty());
}

#[test]
fn blocked_delegation_is_high_cognitive_delegation_at_once() {
    let mut f = Fixture::new(Intent::SolutionRequest);
    f.verdict = Verdict::Block {
        reason: BlockReason::Delegation,
        response: String::new(),
    };
    let risks = f.run();
    assert_eq!(risks.len(), 1);
    let r = &risks[0];
    assert_eq!(
        (r.kind, r.level),
        (RiskKind::CognitiveDelegation, RiskLevel::High)
    );
    assert_eq!(r.dimension, RiskDimension::Cognitive);
    assert_eq!(r.evidence_key, format!("interaction:{}", f.interaction.id));
    assert_eq!(r.interaction_id, Some(f.interaction.id));
    assert_eq!(r.student_id, f.session.student_id);
}

#[test]
fn injection_is_a_high_policy_violation() {
    let mut f = Fixture::new(Intent::ConceptualQuestion);
    f.verdict = Verdict::Block {
        reason: BlockReason::PromptInjection {
            phrase: "ignore previous instructions".into(),
        },
        response: String::new(),
    };
    let risks = f.run();
    assert_eq!(risks.len(), 1);
    assert_eq!(risks[0].kind, RiskKind::PolicyViolation);
    assert_eq!(risks[0].level, RiskLevel::High);
    assert_eq!(risks[0].dimension, RiskDimension::Governance);
    assert_eq!(risks[0].evidence["phrase"], "ignore previous instructions");
}

#[test]
fn third_delegation_attempt_raises_the_count_risk_once() {
    let mut f = Fixture::new(Intent::SolutionRequest);
    f.past_turn(Intent::SolutionRequest, 0.0, 10);
    assert!(!f.kinds().iter().any(|k| k.2 == "delegation:count>=3"));
    f.past_turn(Intent::SolutionRequest, 0.0, 20);
    let risks = f.run();
    let count = risks
        .iter()
        .find(|r| r.evidence_key == "delegation:count>=3")
        .expect("count risk");
    assert_eq!(count.kind, RiskKind::CognitiveDelegation);
    assert_eq!(count.level, RiskLevel::High);
    // a fourth: the same evidence key, which the store does not insert twice
    f.past_turn(Intent::SolutionRequest, 0.0, 30);
    assert!(f.kinds().iter().any(|k| k.2 == "delegation:count>=3"));
    // not a delegation turn: nothing
    let mut g = Fixture::new(Intent::ConceptualQuestion);
    for s in [10, 20, 30] {
        g.past_turn(Intent::SolutionRequest, 0.0, s);
    }
    assert!(g.run().is_empty());
}

#[test]
fn ai_dependency_fires_above_the_threshold_with_a_stable_key() {
    let mut f = Fixture::new(Intent::Debugging);
    f.traces[0].ai_involvement = 0.9;
    f.past_turn(Intent::Debugging, 0.9, 10);
    assert!(f.run().is_empty(), "two turns are not enough");
    f.past_turn(Intent::Debugging, 0.8, 20);
    let first = f.run();
    assert_eq!(first.len(), 1);
    assert_eq!(
        (first[0].kind, first[0].level),
        (RiskKind::AiDependency, RiskLevel::Medium)
    );
    let key = first[0].evidence_key.clone();
    assert_eq!(key, format!("ai_dependency:since={}", f.interaction.id));

    // one more dependent turn: same episode, same key (the store keeps one)
    let current = f.traces[0].clone();
    f.stored_traces.push(current);
    let mut next = Fixture::new(Intent::Debugging);
    next.session = f.session.clone();
    next.stored_traces = f.stored_traces.clone();
    next.traces[0].ai_involvement = 0.9;
    next.traces[0].session_id = f.session.id;
    assert_eq!(next.kinds()[0].2, key);

    // a lower threshold policy-wise does not fire when the mean is below it
    let mut low = Fixture::new(Intent::ConceptualQuestion);
    low.past_turn(Intent::ConceptualQuestion, 0.3, 10);
    low.past_turn(Intent::ConceptualQuestion, 0.3, 20);
    assert!(low.run().is_empty());
    low.policies
        .risk_thresholds
        .insert("ai_dependency".into(), 0.2);
    assert_eq!(low.kinds()[0].0, RiskKind::AiDependency);
}

#[test]
fn large_fast_paste_without_question_is_academic_integrity() {
    let mut f = Fixture::new(Intent::CodeReview);
    f.input.prompt = "Here it is.".into();
    f.input.code = Some("x = 1\n".repeat(80));
    f.assessment.justification = true; // isolate from lack_justification
    let prev = interaction(
        &f.session,
        Intent::ConceptualQuestion,
        HelpLevel::Low,
        false,
        at(95),
    );
    f.history = vec![prev];
    let kinds = f.kinds();
    assert_eq!(kinds.len(), 1);
    assert_eq!(
        (kinds[0].0, kinds[0].1),
        (RiskKind::AcademicIntegrity, RiskLevel::High)
    );

    // with a question mark: fine
    f.input.prompt = "Is this right?".into();
    assert!(f.run().is_empty());
    // slow: fine
    f.input.prompt = "Here it is.".into();
    f.history[0].created_at = at(80);
    assert!(f.run().is_empty());
    // small: fine
    f.history[0].created_at = at(95);
    f.input.code = Some("x = 1".into());
    assert!(f.run().is_empty());
    // no previous answer: fine
    f.input.code = Some("x = 1\n".repeat(80));
    f.history.clear();
    assert!(f.run().is_empty());
}

#[test]
fn automation_needs_more_than_ten_fast_regular_interactions() {
    let mut f = Fixture::new(Intent::ConceptualQuestion);
    // 9 stored + this one = 10 interactions, every 2 s: not enough
    for k in 0..9 {
        f.past_prompt(82.0 + 2.0 * f64::from(k));
    }
    f.received_at = at(100);
    assert!(f.run().is_empty());
    // the 11th
    f.past_prompt(80.0);
    let risks = f.run();
    assert_eq!(risks.len(), 1);
    assert_eq!(
        (risks[0].kind, risks[0].level),
        (RiskKind::AutomationSuspected, RiskLevel::Medium)
    );
    let key = risks[0].evidence_key.clone();
    assert!(key.starts_with("automation:run_start="));

    // the run continues: the same key (run start unchanged), deduplicated
    let mut g = Fixture::new(Intent::ConceptualQuestion);
    g.session = f.session.clone();
    g.stored_traces = f.stored_traces.clone();
    let mut current_prompt = f.stored_traces[0].clone();
    current_prompt.interaction_id = f.interaction.id;
    current_prompt.created_at = at(100);
    g.stored_traces.push(current_prompt);
    g.received_at = at(102);
    let again = g.run();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].evidence_key, key);
    assert_eq!(risks.len(), 1);
}

#[test]
fn irregular_or_slow_rhythms_are_not_automation() {
    let mut slow = Fixture::new(Intent::ConceptualQuestion);
    for k in 0..12 {
        slow.past_prompt(6.0 * f64::from(k));
    }
    slow.received_at = at(72);
    assert!(slow.run().is_empty());

    let mut irregular = Fixture::new(Intent::ConceptualQuestion);
    let mut t = 50.0;
    for k in 0..12 {
        irregular.past_prompt(t);
        t += if k % 2 == 0 { 0.5 } else { 4.5 };
    }
    irregular.received_at = at(t as i64 + 1);
    assert!(irregular.run().is_empty());
}

#[test]
fn unjustified_statements_under_the_policy_are_lack_justification() {
    let mut f = Fixture::new(Intent::CodeReview);
    f.input.prompt = "I used a while loop here.".into();
    let kinds = f.kinds();
    assert_eq!(kinds.len(), 1);
    assert_eq!(
        (kinds[0].0, kinds[0].1),
        (RiskKind::LackJustification, RiskLevel::Low)
    );
    assert_eq!(kinds[0].2, format!("interaction:{}", f.interaction.id));

    f.assessment.justification = true;
    assert!(f.run().is_empty(), "justified");
    f.assessment.justification = false;
    f.policies.require_justification = false;
    assert!(f.run().is_empty(), "policy off");
    f.policies.require_justification = true;
    f.input.prompt = "ok thanks".into();
    assert!(f.run().is_empty(), "too short");
    f.input.prompt = "Why use a while loop here".into();
    assert!(f.run().is_empty(), "a question");

    let mut report = Fixture::new(Intent::Debugging);
    report.input.prompt = "My program crashes when n is zero".into();
    assert!(report.run().is_empty(), "an error report is not a claim");
}

#[test]
fn evidence_keys_are_stable_for_the_same_evidence() {
    let mut f = Fixture::new(Intent::SolutionRequest);
    f.verdict = Verdict::Block {
        reason: BlockReason::Delegation,
        response: String::new(),
    };
    let a: Vec<String> = f.run().into_iter().map(|r| r.evidence_key).collect();
    let b: Vec<String> = f.run().into_iter().map(|r| r.evidence_key).collect();
    assert_eq!(a, b);
}

/// Fenced code of an answer, submitted as `code`.
const SNIPPET: &str = "```python\ndef total(xs):\n    return sum(xs)\n```";

impl Fixture {
    /// A stored earlier turn answered with [`SNIPPET`].
    fn answered_with_snippet(&mut self) {
        let mut answered = interaction(
            &self.session,
            Intent::ConceptualQuestion,
            HelpLevel::Low,
            false,
            at(50),
        );
        answered.prompt = "Show me how a sum looks".into();
        answered.response = format!("Like this:\n{SNIPPET}\nWhat does it return for []?");
        self.history.push(answered);
    }
}

#[test]
fn submitting_the_ais_snippet_unchecked_is_uncritical_acceptance() {
    let mut f = Fixture::new(Intent::CodeReview);
    f.answered_with_snippet();
    f.assessment.justification = true; // isolate from lack_justification
    f.input.prompt = "Done, here is my solution.".into();
    // Same code, other indentation and blank lines.
    f.input.code = Some("def total(xs):\n\n  return   sum(xs)\n".into());
    let kinds = f.kinds();
    assert_eq!(
        kinds,
        vec![(
            RiskKind::UncriticalAcceptance,
            RiskLevel::Medium,
            format!("interaction:{}", f.interaction.id)
        )]
    );
    assert_eq!(
        f.run()[0].dimension,
        RiskKind::UncriticalAcceptance.dimension()
    );

    // Pasted in the prompt instead of the code field: the same.
    let code = f.input.code.take();
    f.input.prompt = format!("Done:\n{SNIPPET}");
    assert_eq!(f.kinds().len(), 1);
    f.input.code = code;
    f.input.prompt = "Done, here is my solution.".into();

    // Changed code, a question now, or an error report: not uncritical.
    let mut changed = f.input.clone();
    changed.code = Some("def total(xs):\n    return sum(xs) if xs else 0".into());
    let saved = std::mem::replace(&mut f.input, changed);
    assert!(f.run().is_empty(), "changed code");
    f.input = saved;
    f.input.prompt = "Is this right?".into();
    assert!(f.run().is_empty(), "a question");
    f.input.prompt = "Done, here is my solution.".into();
    f.interaction.intent = Intent::Debugging;
    assert!(f.run().is_empty(), "an error report");
    f.interaction.intent = Intent::CodeReview;

    // A question between the answer and the submission clears it.
    let mut asked = interaction(
        &f.session,
        Intent::ConceptualQuestion,
        HelpLevel::Low,
        false,
        at(60),
    );
    asked.prompt = "Why does sum of [] return 0?".into();
    asked.response = "Think about the neutral element.".into();
    f.history.push(asked);
    assert!(f.run().is_empty(), "questioned in between");
}
