use chrono::Utc;

use super::*;
use crate::{ActivityDraft, ActivityPolicies, Difficulty, SessionMode, SessionStatus};

fn ctx(roles: &[Role]) -> RequestContext {
    RequestContext::for_access_token(
        Uuid::new_v4(),
        RoleSet::new(roles.iter().copied()).unwrap(),
        Tier::Free,
        Uuid::new_v4(),
        Uuid::new_v4(),
        "req-1",
        None,
    )
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
        llm_credential_id: None,
    }
}

#[test]
fn activity_matrix() {
    let student = ctx(&[Role::Student]);
    let owner = ctx(&[Role::Instructor]);
    let other = ctx(&[Role::Instructor]);
    let admin = ctx(&[Role::Admin]);
    let draft = activity(owner.user_id, ActivityStatus::Draft);
    let published = activity(owner.user_id, ActivityStatus::Published);
    assert!(!student.can_see_activity(&draft));
    assert!(student.can_see_activity(&published));
    assert!(!other.can_see_activity(&draft));
    assert!(owner.can_see_activity(&draft) && admin.can_see_activity(&draft));
    assert!(!other.owns_activity(&published));
    assert!(owner.owns_activity(&published) && admin.owns_activity(&published));
}

#[test]
fn session_matrix() {
    let student = ctx(&[Role::Student]);
    let stranger = ctx(&[Role::Student]);
    let owner = ctx(&[Role::Instructor]);
    let other = ctx(&[Role::Instructor]);
    let admin = ctx(&[Role::Admin]);
    let a = activity(owner.user_id, ActivityStatus::Published);
    let s = session(student.user_id, &a);
    assert!(student.can_read_session(&s, &a));
    assert!(owner.can_read_session(&s, &a));
    assert!(admin.can_read_session(&s, &a));
    assert!(!stranger.can_read_session(&s, &a));
    assert!(!other.can_read_session(&s, &a));
}

#[test]
fn an_access_token_holds_what_its_roles_allow() {
    let student = ctx(&[Role::Student]);
    assert!(student.require_scope(Scope::SessionsWrite).is_ok());
    assert_eq!(
        student.require_scope(Scope::RisksRead),
        Err(AccessDenied::MissingScope(Scope::RisksRead))
    );
    assert!(student.require_admin().is_err());
    assert!(ctx(&[Role::Admin]).require_admin().is_ok());
    let Credential::AccessToken { session_id, .. } = student.credential else {
        panic!("an access token");
    };
    assert_eq!(student.session_id(), session_id);
    assert!(!student.is_api_key());
    assert!(student.require_identity_management().is_ok());
}

#[test]
fn an_api_key_holds_its_scopes_within_its_owners_roles() {
    let key_id = Uuid::new_v4();
    let all = Scopes::all();
    let student = RequestContext::for_api_key(
        Uuid::new_v4(),
        RoleSet::student(),
        Tier::Free,
        key_id,
        all,
        "r",
        None,
    );
    assert_eq!(student.scopes, Scopes::for_roles(&RoleSet::student()));
    assert_eq!(student.session_id(), key_id);
    assert!(student.is_api_key());
    assert!(student.require_identity_management().is_err());
    let admin_roles = RoleSet::new([Role::Admin]).unwrap();
    let admin = |scopes: Scopes| {
        RequestContext::for_api_key(
            Uuid::new_v4(),
            admin_roles.clone(),
            Tier::Admin,
            key_id,
            scopes,
            "r",
            None,
        )
    };
    assert!(admin([Scope::Admin].into_iter().collect())
        .require_identity_management()
        .is_ok());
    assert!(admin([Scope::SessionsRead].into_iter().collect())
        .require_identity_management()
        .is_err());
}

#[test]
fn a_narrowed_credential_is_refused_what_its_roles_would_allow() {
    let mut admin = ctx(&[Role::Admin]);
    admin.scopes = Scopes::for_roles(&RoleSet::student());
    assert_eq!(
        admin.require_admin(),
        Err(AccessDenied::MissingScope(Scope::Admin))
    );
    assert_eq!(
        AccessDenied::MissingScope(Scope::Admin).to_string(),
        "this credential lacks the scope admin"
    );
}
