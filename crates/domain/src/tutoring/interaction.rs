use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Agent, HelpLevel, Intent};
use crate::{contains_nul, ValidationErrors, NUL_MESSAGE};

/// What a student sends, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InteractionInput {
    /// 1–8000 characters.
    pub prompt: String,
    /// Submitted code, at most 50,000 characters.
    pub code: Option<String>,
    /// Error output, at most 10,000 characters.
    pub error_output: Option<String>,
}

impl InteractionInput {
    /// Checks the limits of SPEC §6.
    pub fn new(
        prompt: String,
        code: Option<String>,
        error_output: Option<String>,
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let len = prompt.trim().chars().count();
        if !(1..=8000).contains(&len) {
            errors.push("prompt", "must be between 1 and 8000 characters");
        }
        if code.as_ref().is_some_and(|c| c.chars().count() > 50_000) {
            errors.push("code", "must be at most 50000 characters");
        }
        if error_output
            .as_ref()
            .is_some_and(|c| c.chars().count() > 10_000)
        {
            errors.push("error_output", "must be at most 10000 characters");
        }
        for (field, value) in [
            ("prompt", Some(&prompt)),
            ("code", code.as_ref()),
            ("error_output", error_output.as_ref()),
        ] {
            if value.is_some_and(|v| contains_nul(v)) {
                errors.push(field, NUL_MESSAGE);
            }
        }
        errors.into_result()?;
        let blank_to_none = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        Ok(Self {
            prompt,
            code: blank_to_none(code),
            error_output: blank_to_none(error_output),
        })
    }
}

/// One exchange between a student and the AI, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Interaction {
    /// Identifier.
    pub id: Uuid,
    /// Session.
    pub session_id: Uuid,
    /// Position in the session: 1, 2, …
    pub seq: u32,
    /// The (redacted) prompt.
    pub prompt: String,
    /// The answer.
    pub response: String,
    /// Who answered.
    pub agent: Agent,
    /// Classified intent.
    pub intent: Intent,
    /// Help level applied.
    pub help_level: HelpLevel,
    /// Blocked by governance.
    pub blocked: bool,
    /// Served from the response cache.
    pub cache_hit: bool,
    /// Provider name (`offline`, `openai`, or `governance` when blocked).
    pub provider: String,
    /// Model name.
    pub model: String,
    /// Prompt tokens.
    pub tokens_in: u32,
    /// Completion tokens.
    pub tokens_out: u32,
    /// Gateway latency.
    pub latency_ms: u64,
    /// The chunks of course material that grounded the answer, best first (empty when the
    /// activity has no processed material).
    pub sources: Vec<crate::ChunkSource>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_nul_name_their_fields() {
        assert!(InteractionInput::new("What is a loop?".into(), None, None).is_ok());
        let errors = InteractionInput::new(
            "a\0b".into(),
            Some("x".repeat(50_001)),
            Some("trace\0".into()),
        )
        .unwrap_err()
        .0;
        let fields: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| (e.field.as_str(), e.message.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("code", "must be at most 50000 characters"),
                ("prompt", NUL_MESSAGE),
                ("error_output", NUL_MESSAGE),
            ]
        );
    }
}
