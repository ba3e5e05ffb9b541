//! The risk rules' running state of a session: what the rules need from the session's past,
//! folded turn by turn, so a turn reads one row instead of every trace of its session.
//!
//! Each part is advanced by one turn's facts ([`RunningState::advance`]), and the same
//! fold over a session's stored traces and interactions rebuilds it
//! ([`RunningState::replay`]): the gateway does that once for a session stored before the
//! state existed (or whose state is stale), and the property tests check that both agree.

use ainative_domain::{CognitiveTrace, Intent, Interaction, TraceKind, TraceLevel};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::rules::{
    AUTOMATION_MAX_INTERVAL_SECS, AUTOMATION_MIN_INTERACTIONS, DEPENDENCY_MIN_TURNS,
};
use crate::pipeline::involvement::to_f64;
use crate::pipeline::text::is_question;

/// The session's past as the rules see it (before the current turn).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunningState {
    /// Solution requests so far (blocked or not).
    pub solution_requests: u32,
    /// Running mean of the turns' AI involvement.
    pub dependency: Dependency,
    /// The rhythm of the last prompts.
    pub rhythm: Rhythm,
    /// The last code snippet the AI gave, while nobody tested or questioned it.
    pub snippet: Option<String>,
}

/// Running mean of AI involvement and the turn where it last went above the threshold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Dependency {
    /// Turns counted.
    pub turns: u32,
    /// Sum of their involvement, stored as the bits of the `f64` (exact through JSON).
    #[serde(with = "f64_bits")]
    pub sum: f64,
    /// The turn where the mean last went above the threshold, while it stays above.
    pub since: Option<Uuid>,
}

/// The last prompts' arrival times and the automated run they belong to, if any.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Rhythm {
    /// The last [`AUTOMATION_MIN_INTERACTIONS`] prompts (interaction, arrival), oldest first.
    pub prompts: Vec<(Uuid, DateTime<Utc>)>,
    /// First prompt of the current automated run.
    pub run_start: Option<Uuid>,
    /// Interactions in that run.
    pub run_len: u32,
}

/// What one turn adds to the state.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnFacts {
    /// The interaction.
    pub interaction_id: Uuid,
    /// Its intent.
    pub intent: Intent,
    /// Its AI involvement (the n4 trace's; `None` without one: the turn then counts for
    /// neither delegation nor dependency, as a replay of its traces would not see it).
    pub involvement: Option<f64>,
    /// When the request arrived.
    pub received_at: DateTime<Utc>,
    /// The student tested or questioned something: an error report (debugging) or a question.
    pub checked: bool,
    /// Digest of the code in the AI's answer, when it has a fenced block.
    pub answer_snippet: Option<String>,
}

impl TurnFacts {
    /// The facts of a stored interaction with its involvement.
    pub fn of(
        interaction: &Interaction,
        involvement: Option<f64>,
        received_at: DateTime<Utc>,
    ) -> Self {
        Self {
            interaction_id: interaction.id,
            intent: interaction.intent,
            involvement,
            received_at,
            checked: checked(interaction.intent, &interaction.prompt),
            answer_snippet: snippet_digest(&interaction.response),
        }
    }
}

/// An error report or a question: the student is testing or questioning.
pub fn checked(intent: Intent, prompt: &str) -> bool {
    intent == Intent::Debugging || is_question(prompt)
}

impl RunningState {
    /// The state after one more turn; `threshold` is the activity's `ai_dependency` one.
    pub fn advance(&self, turn: &TurnFacts, threshold: f64) -> Self {
        let mut next = self.clone();
        if let Some(involvement) = turn.involvement {
            next.count_delegation(turn.intent);
            next.dependency
                .add(turn.interaction_id, involvement, threshold);
        }
        next.rhythm.add(turn.interaction_id, turn.received_at);
        next.see_answer(turn.checked, turn.answer_snippet.clone());
        next
    }

    fn count_delegation(&mut self, intent: Intent) {
        if intent == Intent::SolutionRequest {
            self.solution_requests += 1;
        }
    }

    fn see_answer(&mut self, checked: bool, answer_snippet: Option<String>) {
        if answer_snippet.is_some() {
            self.snippet = answer_snippet;
        } else if checked {
            self.snippet = None;
        }
    }

    /// Rebuilds the state from the session's stored n4 and n3 `student_prompt` traces (as
    /// [`super::RISK_TRACES`] selects them) and its recent interactions (oldest first): the
    /// snippet is known only if the AI gave it within `history`.
    pub fn replay(traces: &[CognitiveTrace], history: &[Interaction], threshold: f64) -> Self {
        let mut state = Self::default();
        let mut n4: Vec<&CognitiveTrace> = traces
            .iter()
            .filter(|t| t.level == TraceLevel::N4)
            .collect();
        n4.sort_by_key(|t| t.created_at);
        for t in n4 {
            let intent = t
                .data
                .get("intent")
                .and_then(|v| v.as_str())
                .and_then(|s| s.parse().ok());
            if let Some(intent) = intent {
                state.count_delegation(intent);
            }
            state
                .dependency
                .add(t.interaction_id, t.ai_involvement, threshold);
        }
        let mut prompts: Vec<&CognitiveTrace> = traces
            .iter()
            .filter(|t| t.level == TraceLevel::N3 && t.kind == TraceKind::StudentPrompt)
            .collect();
        prompts.sort_by_key(|t| t.created_at);
        for t in prompts {
            state.rhythm.add(t.interaction_id, t.created_at);
        }
        for i in history {
            state.see_answer(checked(i.intent, &i.prompt), snippet_digest(&i.response));
        }
        state
    }
}

impl Dependency {
    fn add(&mut self, interaction_id: Uuid, involvement: f64, threshold: f64) {
        self.turns += 1;
        self.sum += involvement;
        if self.turns as usize >= DEPENDENCY_MIN_TURNS && self.mean() > threshold {
            self.since.get_or_insert(interaction_id);
        } else {
            self.since = None;
        }
    }

    /// The mean involvement (0 without turns).
    pub fn mean(&self) -> f64 {
        if self.turns == 0 {
            0.0
        } else {
            self.sum / to_f64(self.turns as usize)
        }
    }
}

impl Rhythm {
    fn add(&mut self, interaction_id: Uuid, at: DateTime<Utc>) {
        self.prompts.push((interaction_id, at));
        let excess = self
            .prompts
            .len()
            .saturating_sub(AUTOMATION_MIN_INTERACTIONS);
        self.prompts.drain(..excess);
        match self.median_if_automated() {
            Some(_) if self.run_start.is_some() => self.run_len += 1,
            Some(_) => {
                self.run_start = self.prompts.first().map(|p| p.0);
                self.run_len = self.prompts.len() as u32;
            }
            None => {
                self.run_start = None;
                self.run_len = 0;
            }
        }
    }

    /// The median interval when the window is full and every interval in it is under
    /// [`AUTOMATION_MAX_INTERVAL_SECS`] and within max(1 s, 25 %) of the median.
    pub fn median_if_automated(&self) -> Option<f64> {
        if self.prompts.len() < AUTOMATION_MIN_INTERACTIONS {
            return None;
        }
        let intervals: Vec<f64> = self
            .prompts
            .windows(2)
            .map(|w| (w[1].1 - w[0].1).num_milliseconds() as f64 / 1000.0)
            .collect();
        let median = median(&intervals);
        let tolerance = (0.25 * median).max(1.0);
        intervals
            .iter()
            .all(|d| *d < AUTOMATION_MAX_INTERVAL_SECS && (*d - median).abs() <= tolerance)
            .then_some(median)
    }
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// The code of `text`: its fenced blocks (the fence lines' language tags dropped), each line
/// trimmed, blank lines and runs of spaces removed; `None` without a non-empty block.
pub fn normalized_code(text: &str) -> Option<String> {
    let blocks: Vec<&str> = text
        .split("```")
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, block)| block)
        .collect();
    if blocks.is_empty() {
        return None;
    }
    let mut out = String::new();
    for block in blocks {
        // The first line of a fence is its language tag when the block has more lines.
        let body = match block.split_once('\n') {
            Some((tag, rest)) if !tag.trim().contains(' ') => rest,
            _ => block,
        };
        normalize_into(body, &mut out);
    }
    (!out.is_empty()).then_some(out)
}

/// `code` with each line trimmed, runs of spaces collapsed and blank lines removed.
pub fn normalize_code(code: &str) -> Option<String> {
    let mut out = String::new();
    normalize_into(code, &mut out);
    (!out.is_empty()).then_some(out)
}

fn normalize_into(code: &str, out: &mut String) {
    for line in code.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&words.join(" "));
    }
}

/// Digest (hex SHA-256) of normalised code.
pub fn digest(normalized: &str) -> String {
    hex::encode(Sha256::digest(normalized.as_bytes()))
}

/// Digest of the fenced code of an AI answer.
pub fn snippet_digest(answer: &str) -> Option<String> {
    normalized_code(answer).map(|c| digest(&c))
}

mod f64_bits {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(value.to_bits())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(f64::from_bits(u64::deserialize(d)?))
    }
}
