use super::wire_enum;

/// How much help the tutor gives; ordered from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum HelpLevel {
    /// Questions back only.
    Minimal,
    /// Hints.
    Low,
    /// Explanations and partial guidance.
    #[default]
    Medium,
    /// Worked explanations (never complete solutions when blocked by policy).
    High,
}
wire_enum!(HelpLevel { Minimal => "minimal", Low => "low", Medium => "medium", High => "high" });

impl HelpLevel {
    /// One step up, capped at `max`.
    pub fn raised(self, max: HelpLevel) -> HelpLevel {
        let next = match self {
            Self::Minimal => Self::Low,
            Self::Low => Self::Medium,
            Self::Medium | Self::High => Self::High,
        };
        next.min(max)
    }
}

/// Who answered an interaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Agent {
    /// Socratic tutor.
    Tutor,
    /// Evaluator.
    Evaluator,
    /// Role-play simulator.
    Simulator,
    /// Governance (a blocked request is answered by it).
    Governance,
}
wire_enum!(Agent { Tutor => "tutor", Evaluator => "evaluator", Simulator => "simulator", Governance => "governance" });

/// What the student wants from an interaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Intent {
    /// Understanding a concept.
    ConceptualQuestion,
    /// Feedback on code.
    CodeReview,
    /// Help with an error.
    Debugging,
    /// Asking for the answer (total delegation).
    SolutionRequest,
    /// Clarifying an earlier answer.
    Clarification,
    /// Unrelated to the activity.
    OffTopic,
}
wire_enum!(Intent {
    ConceptualQuestion => "conceptual_question",
    CodeReview => "code_review",
    Debugging => "debugging",
    SolutionRequest => "solution_request",
    Clarification => "clarification",
    OffTopic => "off_topic",
});

/// The inferred state of the student at a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CognitiveState {
    /// Exploring the problem.
    Exploring,
    /// Planning an approach.
    Planning,
    /// Writing code.
    Implementing,
    /// Fixing errors.
    Debugging,
    /// Checking a result.
    Validating,
    /// Looking back.
    Reflecting,
    /// Confused.
    Confused,
    /// Stuck.
    Stuck,
    /// Making progress.
    Progressing,
}
wire_enum!(CognitiveState {
    Exploring => "exploring",
    Planning => "planning",
    Implementing => "implementing",
    Debugging => "debugging",
    Validating => "validating",
    Reflecting => "reflecting",
    Confused => "confused",
    Stuck => "stuck",
    Progressing => "progressing",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_rises_one_step_and_respects_the_cap() {
        assert_eq!(HelpLevel::Minimal.raised(HelpLevel::High), HelpLevel::Low);
        assert_eq!(
            HelpLevel::Medium.raised(HelpLevel::Medium),
            HelpLevel::Medium
        );
        assert_eq!(
            HelpLevel::Low.raised(HelpLevel::Minimal),
            HelpLevel::Minimal
        );
    }

    #[test]
    fn names_round_trip() {
        for intent in Intent::ALL {
            assert_eq!(intent.as_str().parse::<Intent>().unwrap(), *intent);
        }
        assert!("nonsense"
            .parse::<CognitiveState>()
            .unwrap_err()
            .contains("exploring"));
    }
}
