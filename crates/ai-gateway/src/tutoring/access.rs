//! The access rules of the tutoring use cases, as functions over the caller's
//! [`RequestContext`]: what it may list (as port filters) and which role rules apply. The
//! pure predicates (`can_see_activity`, `owns_activity`, `can_read_session`) are methods of
//! the context itself.

use ainative_domain::{AccessDenied, RequestContext, Role, Scope};
use ainative_ports::{ActivityVisibility, RiskScope, SessionVisibility};

use super::TutoringError;

/// Fails with 403 unless the caller's credential carries `scope`; checked before anything is
/// read, so a narrowed credential learns nothing.
pub fn require(ctx: &RequestContext, scope: Scope) -> Result<(), TutoringError> {
    Ok(ctx.require_scope(scope)?)
}

/// Which activities the caller may see.
pub fn activity_visibility(ctx: &RequestContext) -> ActivityVisibility {
    if ctx.is_admin() {
        ActivityVisibility::All
    } else if ctx.has_role(Role::Instructor) {
        ActivityVisibility::PublishedOrOwnedBy(ctx.user_id)
    } else {
        ActivityVisibility::Published
    }
}

/// Which sessions the caller may see.
pub fn session_visibility(ctx: &RequestContext) -> SessionVisibility {
    if ctx.is_admin() {
        SessionVisibility::All
    } else {
        SessionVisibility::Involving(ctx.user_id)
    }
}

/// Which risks the caller may list; students may not list risks.
pub fn risk_scope(ctx: &RequestContext) -> Result<RiskScope, TutoringError> {
    if ctx.is_admin() {
        Ok(RiskScope::All)
    } else if ctx.has_role(Role::Instructor) {
        Ok(RiskScope::ActivityOwner(ctx.user_id))
    } else {
        Err(AccessDenied::Rule("only instructors and admins list risks").into())
    }
}

/// Fails unless the caller is an instructor or admin.
pub fn require_author(ctx: &RequestContext) -> Result<(), TutoringError> {
    Ok(ctx.require_any_role(
        &[Role::Instructor, Role::Admin],
        "only instructors and admins create activities",
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ainative_domain::{RoleSet, Scopes, Tier};
    use uuid::Uuid;

    fn ctx(roles: &[Role]) -> RequestContext {
        RequestContext::for_access_token(
            Uuid::new_v4(),
            RoleSet::new(roles.iter().copied()).unwrap(),
            Tier::Free,
            Uuid::new_v4(),
            Uuid::new_v4(),
            "req",
            None,
        )
    }

    #[test]
    fn listing_filters_follow_the_roles() {
        let student = ctx(&[Role::Student]);
        let instructor = ctx(&[Role::Instructor]);
        let admin = ctx(&[Role::Admin]);
        assert_eq!(activity_visibility(&student), ActivityVisibility::Published);
        assert_eq!(
            activity_visibility(&instructor),
            ActivityVisibility::PublishedOrOwnedBy(instructor.user_id)
        );
        assert_eq!(activity_visibility(&admin), ActivityVisibility::All);
        assert_eq!(
            session_visibility(&student),
            SessionVisibility::Involving(student.user_id)
        );
        assert_eq!(session_visibility(&admin), SessionVisibility::All);
        assert!(risk_scope(&student).is_err());
        assert_eq!(
            risk_scope(&instructor).unwrap(),
            RiskScope::ActivityOwner(instructor.user_id)
        );
        assert!(require_author(&student).is_err() && require_author(&instructor).is_ok());
    }

    #[test]
    fn scopes_are_required_whatever_the_roles() {
        let mut admin = ctx(&[Role::Admin]);
        assert!(require(&admin, Scope::ActivitiesWrite).is_ok());
        admin.scopes = [Scope::ActivitiesRead].into_iter().collect::<Scopes>();
        assert!(matches!(
            require(&admin, Scope::ActivitiesWrite),
            Err(TutoringError::Forbidden(AccessDenied::MissingScope(
                Scope::ActivitiesWrite
            )))
        ));
    }
}
