//! The running state kept turn by turn (through its JSON form, as stored) equals the state
//! rebuilt from the whole session, and the rules' inputs equal a naive recomputation over
//! the whole session, on random sessions.

use ainative_domain::{CognitiveState, CognitiveTrace, Intent, Interaction, TraceKind, TraceLevel};
use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::super::state::{checked, snippet_digest};
use super::super::{RunningState, TurnFacts, DEPENDENCY_MIN_TURNS};
use crate::pipeline::testing::{activity, interaction, session, t0, trace};
use ainative_domain::{HelpLevel, SessionMode};

/// One generated turn.
#[derive(Debug, Clone)]
struct Gen {
    intent: usize,
    involvement: u16,
    gap_ms: i64,
    question: bool,
    answer_code: Option<u8>,
}

fn gen() -> impl Strategy<Value = Gen> {
    (
        0..Intent::ALL.len(),
        0u16..=1000,
        // Mostly a steady 2 s rhythm (automation), sometimes anything up to 8 s.
        prop_oneof![3 => Just(2000i64), 1 => 1900i64..2100, 1 => 2i64..8000],
        any::<bool>(),
        prop::option::of(0u8..3),
    )
        .prop_map(|(intent, involvement, gap_ms, question, answer_code)| Gen {
            intent,
            involvement,
            gap_ms,
            question,
            answer_code,
        })
}

/// The session so far, stored as the gateway would store it.
#[derive(Default)]
struct Past {
    traces: Vec<CognitiveTrace>,
    interactions: Vec<Interaction>,
    prompts: Vec<(Uuid, DateTime<Utc>)>,
    involvements: Vec<(Uuid, f64)>,
}

/// The old full recomputation of the dependency rule's episode start.
fn dependency_since(involvements: &[(Uuid, f64)], threshold: f64) -> Option<Uuid> {
    let (mut sum, mut since) = (0.0, None);
    for (turns, (id, x)) in involvements.iter().enumerate() {
        sum += x;
        let turns = turns + 1;
        if turns >= DEPENDENCY_MIN_TURNS && sum / turns as f64 > threshold {
            since.get_or_insert(*id);
        } else {
            since = None;
        }
    }
    since
}

/// Whether the 11 prompts ending at `end` look automated.
fn automated(prompts: &[(Uuid, DateTime<Utc>)], end: usize) -> bool {
    if end < 10 {
        return false;
    }
    let mut rhythm = super::super::Rhythm {
        prompts: prompts[end - 10..=end].to_vec(),
        ..Default::default()
    };
    rhythm.run_start = None;
    rhythm.median_if_automated().is_some()
}

/// The automated run ending at the last prompt: its start and length, by scanning back.
fn automation_run(prompts: &[(Uuid, DateTime<Utc>)]) -> Option<(Uuid, u32)> {
    let last = prompts.len().checked_sub(1)?;
    if !automated(prompts, last) {
        return None;
    }
    let mut first_end = last;
    while first_end > 10 && automated(prompts, first_end - 1) {
        first_end -= 1;
    }
    let start = first_end - 10;
    Some((prompts[start].0, (last - start + 1) as u32))
}

/// The last snippet not tested or questioned since, by scanning back.
fn open_snippet(interactions: &[Interaction]) -> Option<String> {
    for i in interactions.iter().rev() {
        if let Some(snippet) = snippet_digest(&i.response) {
            return Some(snippet);
        }
        if checked(i.intent, &i.prompt) {
            return None;
        }
    }
    None
}

fn check_session(turns: &[Gen], threshold: f64) -> Result<(), TestCaseError> {
    let activity = activity();
    let session = session(&activity, SessionMode::Tutor);
    let mut past = Past::default();
    let mut stored = serde_json::to_value(RunningState::default()).expect("state to JSON");
    let mut received = t0();
    for g in turns {
        let state: RunningState = serde_json::from_value(stored.clone()).expect("state back");
        // What a session without a stored state would rebuild equals what was kept.
        let replayed = RunningState::replay(&past.traces, &past.interactions, threshold);
        prop_assert_eq!(&state, &replayed);

        received += Duration::milliseconds(g.gap_ms);
        let intent = Intent::ALL[g.intent];
        let involvement = f64::from(g.involvement) / 1000.0;
        let mut i = interaction(&session, intent, HelpLevel::Low, false, received);
        i.created_at = received + Duration::milliseconds(1);
        i.prompt = if g.question {
            "why is it so?"
        } else {
            "it is so."
        }
        .into();
        i.response = match g.answer_code {
            Some(n) => format!("Try:\n```py\nx = {n}\nprint( x )\n```"),
            None => "Think again.".into(),
        };
        let facts = TurnFacts::of(&i, Some(involvement), received);
        let next = state.advance(&facts, threshold);

        past.prompts.push((i.id, received));
        past.involvements.push((i.id, involvement));
        let solution_requests = past
            .interactions
            .iter()
            .chain(std::iter::once(&i))
            .filter(|x| x.intent == Intent::SolutionRequest)
            .count();
        prop_assert_eq!(next.solution_requests as usize, solution_requests);
        prop_assert_eq!(
            next.dependency.since,
            dependency_since(&past.involvements, threshold)
        );
        prop_assert_eq!(
            next.rhythm.run_start.zip(Some(next.rhythm.run_len)),
            automation_run(&past.prompts)
        );
        prop_assert_eq!(&state.snippet, &open_snippet(&past.interactions));

        let mut prompt = trace(
            &session,
            TraceLevel::N3,
            TraceKind::StudentPrompt,
            CognitiveState::Exploring,
            0.0,
            received,
            json!({}),
        );
        prompt.interaction_id = i.id;
        let mut n4 = trace(
            &session,
            TraceLevel::N4,
            TraceKind::StudentPrompt,
            CognitiveState::Exploring,
            involvement,
            i.created_at,
            json!({ "intent": intent }),
        );
        n4.interaction_id = i.id;
        past.traces.extend([prompt, n4]);
        past.interactions.push(i);
        stored = serde_json::to_value(&next).expect("state to JSON");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn kept_state_equals_full_recomputation(
        turns in prop::collection::vec(gen(), 0..40),
        threshold in prop_oneof![Just(0.7), 0.1f64..0.9],
    ) {
        check_session(&turns, threshold)?;
    }
}

#[test]
fn a_long_steady_session_keeps_one_automation_run() {
    let turns: Vec<Gen> = (0..30)
        .map(|_| Gen {
            intent: 0,
            involvement: 900,
            gap_ms: 2000,
            question: false,
            answer_code: None,
        })
        .collect();
    check_session(&turns, 0.7).expect("consistent");
}
