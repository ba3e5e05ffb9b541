//! The `offline` provider: deterministic, rule-based Socratic guidance — not a language model.
//!
//! The answer is composed from the gateway's [`Guidance`] (agent × intent × help level, the
//! simulator role, the activity) and from what simple rules read in the student's last message
//! (the error line, the topic of a question, signs of code). It asks questions and gives
//! strategies, never a complete solution; code appears only as a skeleton (a debug print, a
//! test outline) and only when the activity allows code snippets. Every answer says it comes
//! from the offline rule-based tutor. The same request always gets the same answer.
//!
//! Token counts are approximations: whitespace-separated words (see
//! [`super::estimate_tokens`]).

mod cues;
mod roles;
mod tutor;

use ainative_domain::Agent;
use ainative_ports::{
    ChatRole, GroundingPassage, Guidance, LlmError, LlmProvider, LlmRequest, LlmResponse,
    LlmStream, StreamEvent,
};
use async_trait::async_trait;
use futures::stream;

use self::cues::{quotable, Cues};
use super::{estimate_prompt_tokens, estimate_tokens};

/// Provider name recorded on interactions.
pub const OFFLINE_PROVIDER: &str = "offline";
/// Model name recorded on interactions.
pub const OFFLINE_MODEL: &str = "rule-based-socratic-v1";
/// First line of every offline answer.
pub const OFFLINE_NOTICE: &str =
    "[Offline rule-based tutor — guidance from fixed rules, not a language model.]";

/// The offline, rule-based tutor (SPEC §6 "Providers").
#[derive(Debug, Clone, Copy, Default)]
pub struct OfflineProvider;

impl OfflineProvider {
    /// The offline provider.
    pub fn new() -> Self {
        Self
    }

    /// The answer to `request` (pure: same request, same answer).
    pub fn answer(&self, request: &LlmRequest) -> LlmResponse {
        let content = compose(request);
        LlmResponse {
            tokens_in: estimate_prompt_tokens(&request.messages),
            tokens_out: estimate_tokens(&content),
            model: OFFLINE_MODEL.to_owned(),
            content,
        }
    }
}

#[async_trait]
impl LlmProvider for OfflineProvider {
    fn name(&self) -> &str {
        OFFLINE_PROVIDER
    }

    fn model(&self) -> &str {
        OFFLINE_MODEL
    }

    async fn complete(&self, request: &LlmRequest) -> Result<LlmResponse, LlmError> {
        Ok(self.answer(request))
    }

    async fn stream(&self, request: &LlmRequest) -> Result<LlmStream, LlmError> {
        let response = self.answer(request);
        let mut events: Vec<Result<StreamEvent, LlmError>> = word_chunks(&response.content)
            .into_iter()
            .map(|chunk| Ok(StreamEvent::Delta(chunk.to_owned())))
            .collect();
        events.push(Ok(StreamEvent::Done(response)));
        Ok(Box::pin(stream::iter(events)))
    }
}

/// `text` cut after each run of whitespace that precedes a word: every chunk is one word with
/// the whitespace that follows it; concatenated, the chunks are `text`.
pub(crate) fn word_chunks(text: &str) -> Vec<&str> {
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut previous_was_space = false;
    for (i, c) in text.char_indices() {
        if previous_was_space && !c.is_whitespace() {
            chunks.push(&text[start..i]);
            start = i;
        }
        previous_was_space = c.is_whitespace();
    }
    if start < text.len() {
        chunks.push(&text[start..]);
    }
    chunks
}

/// What the composers need to know about the turn.
pub(super) struct Turn<'a> {
    guidance: &'a Guidance,
    cues: Cues,
    /// The previous answer of the assistant, shortened, if any.
    previous_answer: Option<String>,
}

impl Turn<'_> {
    /// The activity as a phrase (`"Linked lists"`, or `this activity`).
    fn activity(&self) -> String {
        let title = self.guidance.activity_title.trim();
        if title.is_empty() {
            "this activity".to_owned()
        } else {
            format!("\"{}\"", quotable(title))
        }
    }

    /// The subject as a phrase (`Rust`, or `programming`).
    fn subject(&self) -> String {
        let subject = self.guidance.subject.trim();
        if subject.is_empty() {
            "programming".to_owned()
        } else {
            quotable(subject)
        }
    }
}

/// `"text"` followed by a full stop, unless the quoted text already ends a sentence.
pub(super) fn quoted(text: &str) -> String {
    if text.ends_with(['.', '!', '?', '…']) {
        format!("\"{text}\"")
    } else {
        format!("\"{text}\".")
    }
}

/// Paragraphs of an answer.
#[derive(Default)]
pub(super) struct Answer {
    parts: Vec<String>,
}

impl Answer {
    fn say(&mut self, text: impl Into<String>) -> &mut Self {
        self.parts.push(text.into());
        self
    }

    fn list(&mut self, items: &[String]) -> &mut Self {
        let lines: Vec<String> = items
            .iter()
            .enumerate()
            .map(|(i, item)| format!("{}. {item}", i + 1))
            .collect();
        self.parts.push(lines.join("\n"));
        self
    }

    fn finish(self) -> String {
        self.parts.join("\n\n")
    }
}

/// Words of the best passage quoted at most.
const QUOTE_WORDS: usize = 60;

/// A quotation of the best passage of the course material, with its section, and a question
/// that sends the student back to it.
fn cite(passage: &GroundingPassage) -> String {
    let words: Vec<&str> = passage.text.split_whitespace().collect();
    let mut excerpt = words[..words.len().min(QUOTE_WORDS)].join(" ");
    if words.len() > QUOTE_WORDS {
        excerpt.push('…');
    }
    let section = passage
        .section
        .as_deref()
        .map_or_else(String::new, |s| format!(" ({})", quotable(s)));
    format!(
        "From the course material{section}:\n> {excerpt}\n\nRead this passage again: which part of it answers your question, and which part is still unclear?"
    )
}

fn compose(request: &LlmRequest) -> String {
    let last_user = request
        .messages
        .iter()
        .rev()
        .find(|m| m.role == ChatRole::User)
        .map(|m| m.content.as_str())
        .unwrap_or_default();
    let previous_answer = request
        .messages
        .iter()
        .rev()
        .find(|m| m.role == ChatRole::Assistant)
        .and_then(|m| {
            m.content
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty() && *l != OFFLINE_NOTICE)
                .map(quotable)
        });
    let turn = Turn {
        guidance: &request.guidance,
        cues: Cues::read(last_user),
        previous_answer,
    };
    let mut answer = Answer::default();
    answer.say(OFFLINE_NOTICE);
    match turn.guidance.agent {
        Agent::Tutor => {
            tutor::compose(&turn, &mut answer);
            if let Some(best) = turn.guidance.grounding.first() {
                answer.say(cite(best));
            }
        }
        Agent::Evaluator => roles::evaluator(&turn, &mut answer),
        Agent::Simulator => roles::simulator(&turn, &mut answer),
        Agent::Governance => roles::governance(&turn, &mut answer),
    }
    answer.finish()
}

#[cfg(test)]
mod tests;
