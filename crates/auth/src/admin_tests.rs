//! Unit tests of user administration.

use std::sync::Arc;
use std::time::Duration;

use ainative_domain::{Email, Role, RoleSet, Tier, User, UserPatch, Username};
use ainative_ports::{MockAuditLog, MockClock, MockRevocationList, MockUserRepository};
use chrono::Utc;
use uuid::Uuid;

use ainative_domain::{AccessDenied, RequestContext, Scope, Scopes};

use crate::{AdminService, AuthError};

fn user() -> User {
    User {
        id: Uuid::new_v4(),
        email: Email::parse("bob@example.com").unwrap(),
        username: Username::parse("bob").unwrap(),
        full_name: "Bob".into(),
        student_id: None,
        roles: RoleSet::student(),
        tier: Tier::Free,
        is_active: true,
        is_verified: false,
        password_hash: "x".into(),
        last_login: None,
        login_count: 0,
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

fn admin() -> RequestContext {
    RequestContext::for_access_token(
        Uuid::new_v4(),
        RoleSet::new([Role::Admin]).unwrap(),
        Tier::Admin,
        Uuid::new_v4(),
        Uuid::new_v4(),
        "req-admin",
        None,
    )
}

fn service(users: MockUserRepository, revocations: MockRevocationList) -> AdminService {
    let mut clock = MockClock::new();
    clock.expect_now().returning(Utc::now);
    AdminService::new(
        Arc::new(users),
        Arc::new(MockAuditLog::new()),
        Arc::new(revocations),
        Arc::new(clock),
        Duration::from_secs(3600),
        crate::UserCache::default(),
    )
}

#[tokio::test]
async fn non_admins_are_forbidden() {
    let svc = service(MockUserRepository::new(), MockRevocationList::new());
    let mut student = admin();
    student.roles = RoleSet::student();
    let patch = UserPatch {
        tier: Some(Tier::Premium),
        ..Default::default()
    };
    assert!(matches!(
        svc.update_user(&student, Uuid::new_v4(), patch.clone())
            .await,
        Err(AuthError::Forbidden(AccessDenied::Rule(_)))
    ));
    // An admin whose credential lacks the admin scope is refused too.
    let mut narrowed = admin();
    narrowed.scopes = Scopes::for_roles(&RoleSet::student());
    assert!(matches!(
        svc.update_user(&narrowed, Uuid::new_v4(), patch).await,
        Err(AuthError::Forbidden(AccessDenied::MissingScope(
            Scope::Admin
        )))
    ));
}

#[tokio::test]
async fn role_change_is_audited_and_revokes_sessions() {
    let target = user();
    let id = target.id;
    let sessions = vec![Uuid::new_v4()];
    let revoked = sessions.clone();
    let mut users = MockUserRepository::new();
    let t = target.clone();
    users
        .expect_find_by_id()
        .returning(move |_| Ok(Some(t.clone())));
    users
        .expect_apply_patch()
        .withf(move |uid, _, audit, revoke| {
            *uid == id
                && *revoke
                && audit.details["before"]["roles"] == serde_json::json!(["student"])
                && audit.details["after"]["roles"] == serde_json::json!(["instructor"])
        })
        .times(1)
        .returning(move |_, patch, _, _| {
            let mut u = target.clone();
            u.roles = patch.roles.clone().unwrap();
            Ok((u, sessions.clone()))
        });
    let mut revocations = MockRevocationList::new();
    revocations
        .expect_revoke_session()
        .withf(move |sid, _| revoked.contains(sid))
        .times(1)
        .returning(|_, _| Ok(()));
    let svc = service(users, revocations);
    let patch = UserPatch {
        roles: Some(RoleSet::new([Role::Instructor]).unwrap()),
        ..Default::default()
    };
    let updated = svc.update_user(&admin(), id, patch).await.unwrap();
    assert!(updated.roles.contains(Role::Instructor));
}

#[tokio::test]
async fn admins_cannot_lock_themselves_out() {
    let svc = service(MockUserRepository::new(), MockRevocationList::new());
    let me = admin();
    let demote = UserPatch {
        roles: Some(RoleSet::student()),
        ..Default::default()
    };
    assert!(matches!(
        svc.update_user(&me, me.user_id, demote).await,
        Err(AuthError::Validation(_))
    ));
    let deactivate = UserPatch {
        is_active: Some(false),
        ..Default::default()
    };
    assert!(matches!(
        svc.update_user(&me, me.user_id, deactivate).await,
        Err(AuthError::Validation(_))
    ));
    assert!(matches!(
        svc.update_user(&me, me.user_id, UserPatch::default()).await,
        Err(AuthError::Validation(_))
    ));
}

#[tokio::test]
async fn unknown_user_is_not_found() {
    let mut users = MockUserRepository::new();
    users.expect_find_by_id().returning(|_| Ok(None));
    let svc = service(users, MockRevocationList::new());
    let patch = UserPatch {
        tier: Some(Tier::Premium),
        ..Default::default()
    };
    assert!(matches!(
        svc.update_user(&admin(), Uuid::new_v4(), patch).await,
        Err(AuthError::NotFound("user"))
    ));
}
