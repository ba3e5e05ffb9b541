use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{wire_enum, HelpLevel};
use crate::ValidationErrors;

/// Difficulty of an activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Difficulty {
    /// For newcomers.
    #[default]
    Beginner,
    /// Some experience expected.
    Intermediate,
    /// Experienced students.
    Advanced,
}
wire_enum!(Difficulty { Beginner => "beginner", Intermediate => "intermediate", Advanced => "advanced" });

/// Publication state of an activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ActivityStatus {
    /// Visible to its owner and admins only.
    #[default]
    Draft,
    /// Open to students.
    Published,
    /// Closed; kept for its history.
    Archived,
}
wire_enum!(ActivityStatus { Draft => "draft", Published => "published", Archived => "archived" });

/// The pedagogical policies of an activity, applied by the AI gateway.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ActivityPolicies {
    /// Ceiling of the tutor's help.
    pub max_help_level: HelpLevel,
    /// Requests for complete solutions are blocked.
    pub block_complete_solutions: bool,
    /// Statements without a justification are flagged.
    pub require_justification: bool,
    /// The tutor may show code snippets.
    pub allow_code_snippets: bool,
    /// Interactions allowed per session.
    pub max_interactions: Option<u32>,
    /// Risk thresholds by name, each in 0..=1 (e.g. `ai_dependency: 0.7`).
    pub risk_thresholds: BTreeMap<String, f64>,
    /// A model credential of the activity's owner: its turns go to that endpoint (SPEC §10.4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub llm_credential_id: Option<Uuid>,
    /// With a credential that is suspended or gone, turns get 409 instead of falling back to
    /// the platform's model.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub require_own_credential: bool,
    /// Students may start sessions of this activity with a model credential of their own
    /// (SPEC §10.4); checked again at every turn, so turning it off stops their use.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub allow_student_credentials: bool,
}

impl Default for ActivityPolicies {
    fn default() -> Self {
        Self {
            max_help_level: HelpLevel::Medium,
            block_complete_solutions: true,
            require_justification: true,
            allow_code_snippets: false,
            max_interactions: None,
            risk_thresholds: BTreeMap::new(),
            llm_credential_id: None,
            require_own_credential: false,
            allow_student_credentials: false,
        }
    }
}

impl ActivityPolicies {
    /// The AI-dependency threshold (default 0.7).
    pub fn ai_dependency_threshold(&self) -> f64 {
        self.risk_thresholds
            .get("ai_dependency")
            .copied()
            .unwrap_or(0.7)
    }

    fn validate(&self, errors: &mut ValidationErrors) {
        if self.max_interactions == Some(0) {
            errors.push("policies.max_interactions", "must be at least 1 when set");
        }
        for (name, value) in &self.risk_thresholds {
            if !(0.0..=1.0).contains(value) || value.is_nan() {
                errors.push(
                    format!("policies.risk_thresholds.{name}"),
                    "must be between 0 and 1",
                );
            }
        }
    }
}

/// The editable content of an activity, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityDraft {
    /// 1–200 characters.
    pub title: String,
    /// Free text.
    pub description: String,
    /// What the student must do.
    pub instructions: String,
    /// Subject, e.g. `python`.
    pub subject: String,
    /// Difficulty.
    pub difficulty: Difficulty,
    /// At most 20 tags of 1–50 characters.
    pub tags: Vec<String>,
    /// What the evaluation looks at.
    pub evaluation_criteria: Vec<String>,
    /// Policies.
    pub policies: ActivityPolicies,
}

impl ActivityDraft {
    /// Maximum number of tags.
    pub const MAX_TAGS: usize = 20;

    /// Checks the field rules; trims text and deduplicates tags.
    pub fn validated(mut self) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        self.title = self.title.trim().to_owned();
        let title_len = self.title.chars().count();
        if !(1..=200).contains(&title_len) {
            errors.push("title", "must be between 1 and 200 characters");
        }
        for (field, value, max) in [
            ("description", &self.description, 20_000),
            ("instructions", &self.instructions, 50_000),
            ("subject", &self.subject, 100),
        ] {
            if value.chars().count() > max {
                errors.push(field, format!("must be at most {max} characters"));
            }
        }
        let mut tags: Vec<String> = self.tags.iter().map(|t| t.trim().to_lowercase()).collect();
        tags.dedup();
        if tags.len() > Self::MAX_TAGS {
            errors.push("tags", "must have at most 20 tags");
        }
        if tags.iter().any(|t| !(1..=50).contains(&t.chars().count())) {
            errors.push("tags", "each tag must be between 1 and 50 characters");
        }
        self.tags = tags;
        if self.evaluation_criteria.len() > 50
            || self
                .evaluation_criteria
                .iter()
                .any(|c| c.chars().count() > 500)
        {
            errors.push(
                "evaluation_criteria",
                "at most 50 criteria of at most 500 characters",
            );
        }
        self.policies.validate(&mut errors);
        for (field, values) in [
            ("title", std::slice::from_ref(&self.title)),
            ("description", std::slice::from_ref(&self.description)),
            ("instructions", std::slice::from_ref(&self.instructions)),
            ("subject", std::slice::from_ref(&self.subject)),
            ("tags", self.tags.as_slice()),
            ("evaluation_criteria", self.evaluation_criteria.as_slice()),
        ] {
            if values.iter().any(|v| crate::contains_nul(v)) {
                errors.push(field, crate::NUL_MESSAGE);
            }
        }
        errors.into_result()?;
        Ok(self)
    }
}

/// An activity published by an instructor.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    /// Identifier.
    pub id: Uuid,
    /// Content and policies.
    pub content: ActivityDraft,
    /// The instructor who owns it.
    pub owner_id: Uuid,
    /// Publication state.
    pub status: ActivityStatus,
    /// When first published.
    pub published_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> ActivityDraft {
        ActivityDraft {
            title: " Loops ".into(),
            description: String::new(),
            instructions: "Write a loop".into(),
            subject: "python".into(),
            difficulty: Difficulty::Beginner,
            tags: vec!["Loops".into(), "loops".into()],
            evaluation_criteria: vec![],
            policies: ActivityPolicies::default(),
        }
    }

    #[test]
    fn valid_draft_is_normalised() {
        let d = draft().validated().unwrap();
        assert_eq!(d.title, "Loops");
        assert_eq!(d.tags, ["loops"]);
    }

    #[test]
    fn no_text_field_holds_nul() {
        let mut d = draft();
        d.title = "Lo\0ops".into();
        d.tags = vec!["ok".into(), "b\0d".into()];
        d.evaluation_criteria = vec!["\0".into()];
        let errors = d.validated().unwrap_err().0;
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["title", "tags", "evaluation_criteria"]);
        assert!(errors.iter().all(|e| e.message == crate::NUL_MESSAGE));
    }

    #[test]
    fn rules_name_their_fields() {
        let mut d = draft();
        d.title = String::new();
        d.tags = (0..21).map(|i| format!("t{i}")).collect();
        d.policies
            .risk_thresholds
            .insert("ai_dependency".into(), 1.5);
        d.policies.max_interactions = Some(0);
        let fields: Vec<String> = d
            .validated()
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "title",
                "tags",
                "policies.max_interactions",
                "policies.risk_thresholds.ai_dependency"
            ]
        );
    }
}
