use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{wire_enum, Agent};
use crate::ValidationErrors;

/// How the AI takes part in a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SessionMode {
    /// Socratic tutoring.
    #[default]
    Tutor,
    /// Practice with feedback.
    Practice,
    /// The AI evaluates the student's work.
    Evaluator,
    /// The AI plays a professional role.
    Simulator,
}
wire_enum!(SessionMode { Tutor => "tutor", Practice => "practice", Evaluator => "evaluator", Simulator => "simulator" });

impl SessionMode {
    /// The agent that answers in this mode.
    pub fn agent(&self) -> Agent {
        match self {
            Self::Tutor | Self::Practice => Agent::Tutor,
            Self::Evaluator => Agent::Evaluator,
            Self::Simulator => Agent::Simulator,
        }
    }
}

/// The role the simulator plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SimulatorType {
    /// A product owner.
    ProductOwner,
    /// A scrum master.
    ScrumMaster,
    /// A technical interviewer.
    TechInterviewer,
    /// An incident responder.
    IncidentResponder,
    /// A client.
    Client,
    /// A DevSecOps engineer.
    Devsecops,
}
wire_enum!(SimulatorType {
    ProductOwner => "product_owner",
    ScrumMaster => "scrum_master",
    TechInterviewer => "tech_interviewer",
    IncidentResponder => "incident_responder",
    Client => "client",
    Devsecops => "devsecops",
});

/// Lifecycle of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SessionStatus {
    /// Open for interactions.
    #[default]
    Active,
    /// Paused.
    Paused,
    /// Ended normally; has an evaluation.
    Completed,
    /// Abandoned.
    Aborted,
}
wire_enum!(SessionStatus { Active => "active", Paused => "paused", Completed => "completed", Aborted => "aborted" });

/// A change of a session's status asked for through the API (ending, which also evaluates,
/// is separate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionAction {
    /// Active → paused: no interaction is accepted until it resumes.
    Pause,
    /// Paused → active.
    Resume,
    /// Active or paused → aborted (final, no evaluation).
    Abort,
}
wire_enum!(SessionAction { Pause => "pause", Resume => "resume", Abort => "abort" });

impl SessionAction {
    /// The status after the action.
    pub fn target(&self) -> SessionStatus {
        match self {
            Self::Pause => SessionStatus::Paused,
            Self::Resume => SessionStatus::Active,
            Self::Abort => SessionStatus::Aborted,
        }
    }

    /// The status the action leads to from `from`, or `None` when the transition is illegal.
    pub fn apply(&self, from: SessionStatus) -> Option<SessionStatus> {
        use SessionStatus::{Active, Paused};
        match (self, from) {
            (Self::Pause, Active) | (Self::Resume, Paused) | (Self::Abort, Active | Paused) => {
                Some(self.target())
            }
            _ => None,
        }
    }
}

impl SessionStatus {
    /// Completed and aborted sessions never change again.
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Completed | Self::Aborted)
    }
}

/// A student's tutoring session on an activity.
#[derive(Debug, Clone, PartialEq)]
pub struct StudySession {
    /// Identifier.
    pub id: Uuid,
    /// The student.
    pub student_id: Uuid,
    /// The activity.
    pub activity_id: Uuid,
    /// Mode.
    pub mode: SessionMode,
    /// Role played in simulator mode.
    pub simulator_type: Option<SimulatorType>,
    /// Lifecycle.
    pub status: SessionStatus,
    /// Interactions so far.
    pub interaction_count: u32,
    /// Start.
    pub started_at: DateTime<Utc>,
    /// End, once ended.
    pub ended_at: Option<DateTime<Utc>>,
    /// The student's own model credential chosen at start, used where the activity allows
    /// student credentials (SPEC §10.4).
    pub llm_credential_id: Option<Uuid>,
}

/// Why a session takes no further interaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TurnRefused {
    /// The session is paused, completed or aborted.
    #[error("the session is not active")]
    NotActive,
    /// The session reached its activity's `max_interactions`.
    #[error("the session reached its interaction limit")]
    LimitReached,
}

impl StudySession {
    /// Whether the session, as read, takes one more interaction under `max_interactions`.
    /// Stores apply the same rule atomically when recording (two turns may race past a
    /// check made earlier).
    pub fn accepts_turn(&self, max_interactions: Option<u32>) -> Result<(), TurnRefused> {
        if self.status != SessionStatus::Active {
            return Err(TurnRefused::NotActive);
        }
        if max_interactions.is_some_and(|max| self.interaction_count >= max) {
            return Err(TurnRefused::LimitReached);
        }
        Ok(())
    }

    /// Checks that `simulator_type` is given exactly when the mode is simulator.
    pub fn check_mode(
        mode: SessionMode,
        simulator_type: Option<SimulatorType>,
    ) -> Result<(), ValidationErrors> {
        match (mode, simulator_type) {
            (SessionMode::Simulator, None) => Err(ValidationErrors::single(
                "simulator_type",
                "is required in simulator mode",
            )),
            (SessionMode::Simulator, Some(_)) | (_, None) => Ok(()),
            (_, Some(_)) => Err(ValidationErrors::single(
                "simulator_type",
                "is allowed only in simulator mode",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_turn_needs_an_active_session_under_its_limit() {
        let mut s = StudySession {
            id: Uuid::new_v4(),
            student_id: Uuid::new_v4(),
            activity_id: Uuid::new_v4(),
            mode: SessionMode::Tutor,
            simulator_type: None,
            status: SessionStatus::Active,
            interaction_count: 2,
            started_at: chrono::Utc::now(),
            ended_at: None,
            llm_credential_id: None,
        };
        assert_eq!(s.accepts_turn(None), Ok(()));
        assert_eq!(s.accepts_turn(Some(3)), Ok(()));
        assert_eq!(s.accepts_turn(Some(2)), Err(TurnRefused::LimitReached));
        s.status = SessionStatus::Completed;
        assert_eq!(s.accepts_turn(None), Err(TurnRefused::NotActive));
    }

    #[test]
    fn only_open_sessions_change_status() {
        use SessionAction::{Abort, Pause, Resume};
        use SessionStatus::{Aborted, Active, Completed, Paused};
        assert_eq!(Pause.apply(Active), Some(Paused));
        assert_eq!(Resume.apply(Paused), Some(Active));
        assert_eq!(Abort.apply(Active), Some(Aborted));
        assert_eq!(Abort.apply(Paused), Some(Aborted));
        for action in SessionAction::ALL {
            // A final status never changes, and no action leaves the status as it was.
            assert_eq!(action.apply(Completed), None);
            assert_eq!(action.apply(Aborted), None);
            for from in SessionStatus::ALL {
                assert_ne!(action.apply(*from), Some(*from));
            }
        }
        assert_eq!(Pause.apply(Paused), None);
        assert_eq!(Resume.apply(Active), None);
    }

    #[test]
    fn simulator_type_goes_with_simulator_mode_only() {
        assert!(StudySession::check_mode(SessionMode::Simulator, None).is_err());
        assert!(StudySession::check_mode(SessionMode::Tutor, Some(SimulatorType::Client)).is_err());
        assert!(
            StudySession::check_mode(SessionMode::Simulator, Some(SimulatorType::Client)).is_ok()
        );
        assert!(StudySession::check_mode(SessionMode::Practice, None).is_ok());
    }
}
