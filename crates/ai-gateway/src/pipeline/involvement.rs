//! How much of a step the AI did: the `ai_involvement` of traces.
//!
//! # Formula
//! For an answered (not blocked) turn:
//!
//! ```text
//! involvement = 0.30 · intent_weight + 0.25 · help_weight + 0.30 · response_share
//!             + 0.15 · response_has_code            (clamped to 0..=1)
//! ```
//! - `intent_weight`: solution_request 1.0, debugging 0.6, code_review 0.5,
//!   clarification 0.4, conceptual_question 0.3, off_topic 0.1 — how much of the work the
//!   student asked the AI to do;
//! - `help_weight`: minimal 0.1, low 0.35, medium 0.6, high 0.85;
//! - `response_share = r / (r + s)`, with `r` the characters of the answer and `s` the
//!   characters the student wrote (prompt + code): the AI's share of the text of the step;
//! - `response_has_code`: 1 when the answer contains code (a fence or code-like lines).
//!
//! A blocked turn is 0.0 (the AI did none of the task), and so are the student's own
//! artefacts: the prompt (n3 `student_prompt`), the code (n1) and the error output (n2).

use ainative_domain::{HelpLevel, Intent};

use super::text::contains_code;

/// What the involvement of a turn is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvolvementInputs<'a> {
    /// Classified intent.
    pub intent: Intent,
    /// Help level applied.
    pub help_level: HelpLevel,
    /// Blocked by governance.
    pub blocked: bool,
    /// The student's prompt.
    pub prompt: &'a str,
    /// The student's code.
    pub code: Option<&'a str>,
    /// The answer.
    pub response: &'a str,
}

/// The AI involvement of a turn, in `0.0..=1.0` (see the module documentation).
pub fn ai_involvement(x: &InvolvementInputs<'_>) -> f64 {
    if x.blocked {
        return 0.0;
    }
    let intent_weight = match x.intent {
        Intent::SolutionRequest => 1.0,
        Intent::Debugging => 0.6,
        Intent::CodeReview => 0.5,
        Intent::Clarification => 0.4,
        Intent::ConceptualQuestion => 0.3,
        Intent::OffTopic => 0.1,
    };
    let help_weight = match x.help_level {
        HelpLevel::Minimal => 0.1,
        HelpLevel::Low => 0.35,
        HelpLevel::Medium => 0.6,
        HelpLevel::High => 0.85,
    };
    let student = x.prompt.chars().count() + x.code.map_or(0, |c| c.chars().count());
    let response = x.response.chars().count();
    let share = if student + response == 0 {
        0.0
    } else {
        to_f64(response) / to_f64(student + response)
    };
    let code = if contains_code(x.response) { 1.0 } else { 0.0 };
    let value = 0.30 * intent_weight + 0.25 * help_weight + 0.30 * share + 0.15 * code;
    clamp_unit(value)
}

/// `value` clamped to `0.0..=1.0` (NaN becomes 0).
pub fn clamp_unit(value: f64) -> f64 {
    if value.is_nan() {
        0.0
    } else {
        value.clamp(0.0, 1.0)
    }
}

/// A count as `f64` (exact below 2^53).
pub fn to_f64(n: usize) -> f64 {
    u32::try_from(n).map_or(f64::from(u32::MAX), f64::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn base() -> InvolvementInputs<'static> {
        InvolvementInputs {
            intent: Intent::ConceptualQuestion,
            help_level: HelpLevel::Low,
            blocked: false,
            prompt: "what is a loop?",
            code: None,
            response: "What do you think repeats in your program?",
        }
    }

    #[test]
    fn blocked_turns_are_zero() {
        let x = InvolvementInputs {
            blocked: true,
            intent: Intent::SolutionRequest,
            ..base()
        };
        assert_eq!(ai_involvement(&x), 0.0);
    }

    #[test]
    fn monotonic_expectations() {
        let levels = [
            HelpLevel::Minimal,
            HelpLevel::Low,
            HelpLevel::Medium,
            HelpLevel::High,
        ];
        let by_help: Vec<f64> = levels
            .iter()
            .map(|h| {
                ai_involvement(&InvolvementInputs {
                    help_level: *h,
                    ..base()
                })
            })
            .collect();
        assert!(by_help.windows(2).all(|w| w[0] < w[1]), "{by_help:?}");

        let solution = ai_involvement(&InvolvementInputs {
            intent: Intent::SolutionRequest,
            ..base()
        });
        let conceptual = ai_involvement(&base());
        assert!(solution > conceptual);

        let long_code = "x = 1\n".repeat(100);
        let with_code = ai_involvement(&InvolvementInputs {
            code: Some(&long_code),
            ..base()
        });
        assert!(
            with_code < conceptual,
            "more student work, less AI involvement"
        );

        let code_answer = "```python\nfor i in range(3):\n    print(i)\n```";
        let answered_with_code = ai_involvement(&InvolvementInputs {
            response: code_answer,
            ..base()
        });
        let answered_in_words = ai_involvement(&InvolvementInputs {
            response: "Think about the range of i and what it prints.",
            ..base()
        });
        assert!(answered_with_code > answered_in_words);
    }

    fn intents() -> impl Strategy<Value = Intent> {
        proptest::sample::select(Intent::ALL.to_vec())
    }

    fn help_levels() -> impl Strategy<Value = HelpLevel> {
        proptest::sample::select(HelpLevel::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn always_between_zero_and_one(
            intent in intents(),
            help_level in help_levels(),
            blocked in any::<bool>(),
            prompt in ".{0,300}",
            code in proptest::option::of(".{0,300}"),
            response in ".{0,600}",
        ) {
            let v = ai_involvement(&InvolvementInputs {
                intent, help_level, blocked, prompt: &prompt, code: code.as_deref(), response: &response,
            });
            prop_assert!((0.0..=1.0).contains(&v), "{v}");
        }
    }
}
