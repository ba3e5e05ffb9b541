use ainative_domain::{Activity, ActivityStatus, Role, RoleSet, StudySession};
use ainative_ports::{ActivityVisibility, RiskScope, SessionVisibility};
use uuid::Uuid;

use super::TutoringError;

/// The caller of a tutoring use case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// User id.
    pub user_id: Uuid,
    /// Roles.
    pub roles: RoleSet,
}

impl Actor {
    /// True for admins.
    pub fn is_admin(&self) -> bool {
        self.roles.contains(Role::Admin)
    }

    /// Which activities this caller may see.
    pub fn activity_visibility(&self) -> ActivityVisibility {
        if self.is_admin() {
            ActivityVisibility::All
        } else if self.roles.contains(Role::Instructor) {
            ActivityVisibility::PublishedOrOwnedBy(self.user_id)
        } else {
            ActivityVisibility::Published
        }
    }

    /// Whether this caller may see the activity.
    pub fn can_see_activity(&self, activity: &Activity) -> bool {
        self.is_admin()
            || activity.owner_id == self.user_id
            || activity.status == ActivityStatus::Published
    }

    /// Whether this caller may change the activity (and see its sessions' data).
    pub fn owns_activity(&self, activity: &Activity) -> bool {
        self.is_admin() || activity.owner_id == self.user_id
    }

    /// Which sessions this caller may see.
    pub fn session_visibility(&self) -> SessionVisibility {
        if self.is_admin() {
            SessionVisibility::All
        } else {
            SessionVisibility::Involving(self.user_id)
        }
    }

    /// Whether this caller may read the session: its student, the activity's owner, an admin.
    pub fn can_read_session(&self, session: &StudySession, activity: &Activity) -> bool {
        self.is_admin() || session.student_id == self.user_id || activity.owner_id == self.user_id
    }

    /// Which risks this caller may list; students may not list risks.
    pub fn risk_scope(&self) -> Result<RiskScope, TutoringError> {
        if self.is_admin() {
            Ok(RiskScope::All)
        } else if self.roles.contains(Role::Instructor) {
            Ok(RiskScope::ActivityOwner(self.user_id))
        } else {
            Err(TutoringError::Forbidden(
                "only instructors and admins list risks",
            ))
        }
    }

    /// Fails unless the caller is an instructor or admin.
    pub fn require_author(&self) -> Result<(), TutoringError> {
        if self.roles.contains_any(&[Role::Instructor, Role::Admin]) {
            Ok(())
        } else {
            Err(TutoringError::Forbidden(
                "only instructors and admins create activities",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ainative_domain::{
        ActivityDraft, ActivityPolicies, Difficulty, SessionMode, SessionStatus,
    };
    use chrono::Utc;

    fn actor(roles: &[Role]) -> Actor {
        Actor {
            user_id: Uuid::new_v4(),
            roles: RoleSet::new(roles.iter().copied()).unwrap(),
        }
    }

    fn activity(owner: Uuid, status: ActivityStatus) -> Activity {
        Activity {
            id: Uuid::new_v4(),
            content: ActivityDraft {
                title: "t".into(),
                description: String::new(),
                instructions: String::new(),
                subject: String::new(),
                difficulty: Difficulty::Beginner,
                tags: vec![],
                evaluation_criteria: vec![],
                policies: ActivityPolicies::default(),
            },
            owner_id: owner,
            status,
            published_at: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn session(student: Uuid, activity: &Activity) -> StudySession {
        StudySession {
            id: Uuid::new_v4(),
            student_id: student,
            activity_id: activity.id,
            mode: SessionMode::Tutor,
            simulator_type: None,
            status: SessionStatus::Active,
            interaction_count: 0,
            started_at: Utc::now(),
            ended_at: None,
        }
    }

    #[test]
    fn activity_matrix() {
        let student = actor(&[Role::Student]);
        let owner = actor(&[Role::Instructor]);
        let other = actor(&[Role::Instructor]);
        let admin = actor(&[Role::Admin]);
        let draft = activity(owner.user_id, ActivityStatus::Draft);
        let published = activity(owner.user_id, ActivityStatus::Published);
        assert!(!student.can_see_activity(&draft));
        assert!(student.can_see_activity(&published));
        assert!(!other.can_see_activity(&draft));
        assert!(owner.can_see_activity(&draft) && admin.can_see_activity(&draft));
        assert!(
            !other.owns_activity(&published)
                && owner.owns_activity(&published)
                && admin.owns_activity(&published)
        );
        assert!(student.require_author().is_err() && other.require_author().is_ok());
    }

    #[test]
    fn session_matrix() {
        let student = actor(&[Role::Student]);
        let stranger = actor(&[Role::Student]);
        let owner = actor(&[Role::Instructor]);
        let other = actor(&[Role::Instructor]);
        let admin = actor(&[Role::Admin]);
        let a = activity(owner.user_id, ActivityStatus::Published);
        let s = session(student.user_id, &a);
        assert!(student.can_read_session(&s, &a));
        assert!(owner.can_read_session(&s, &a));
        assert!(admin.can_read_session(&s, &a));
        assert!(!stranger.can_read_session(&s, &a));
        assert!(!other.can_read_session(&s, &a));
        assert!(student.risk_scope().is_err());
        assert_eq!(
            other.risk_scope().unwrap(),
            RiskScope::ActivityOwner(other.user_id)
        );
    }
}
