//! Contract cases of [`crate::UserRepository`].

use ainative_domain::{Page, Role, RoleSet, Tier, UserPatch, Username};
use uuid::Uuid;

use super::fixtures::{audit_entry, auth_session, new_user, now, plus_secs, refresh_token, sorted};
use super::Stores;
use crate::{PortError, UserFilter};

/// Creates a user and finds it by id, by e-mail and by username, case-insensitively.
pub async fn user_create_and_find(s: Stores) {
    let at = now();
    let mut new = new_user("Ada_Lovelace", at);
    new.student_id = Some("S-001".to_owned());
    new.roles = RoleSet::new([Role::Student, Role::Instructor]).expect("roles");
    new.tier = Tier::Premium;
    new.is_verified = true;

    let created = s.users.create(new.clone(), None).await.expect("create");
    assert_eq!(created.id, new.id);
    assert_eq!(created.email, new.email);
    assert_eq!(created.username, new.username);
    assert_eq!(created.full_name, new.full_name);
    assert_eq!(created.student_id, new.student_id);
    assert_eq!(created.roles, new.roles);
    assert_eq!(created.tier, Tier::Premium);
    assert!(created.is_active);
    assert!(created.is_verified);
    assert_eq!(created.password_hash, new.password_hash);
    assert_eq!(created.last_login, None);
    assert_eq!(created.login_count, 0);
    assert_eq!(created.created_at, at);
    assert_eq!(created.updated_at, at);

    let by_id = s.users.find_by_id(new.id).await.expect("find_by_id");
    assert_eq!(by_id.as_ref(), Some(&created));

    for login in [
        "ada_lovelace@example.com",
        "ADA_LOVELACE@Example.COM",
        "Ada_Lovelace",
        "ada_lovelace",
        "ADA_LOVELACE",
    ] {
        let found = s.users.find_by_login(login).await.expect("find_by_login");
        assert_eq!(found.as_ref(), Some(&created), "login {login:?}");
    }

    assert_eq!(s.users.find_by_id(Uuid::new_v4()).await, Ok(None));
    assert_eq!(s.users.find_by_login("nobody").await, Ok(None));
    assert_eq!(s.users.find_by_login("nobody@example.com").await, Ok(None));
}

/// `create` with an audit row writes both.
pub async fn user_create_writes_audit_row(s: Stores) {
    let at = now();
    let new = new_user("admin_one", at);
    let audit = audit_entry(new.id, at);
    s.users
        .create(new.clone(), Some(audit.clone()))
        .await
        .expect("create");

    let page = s.audit.list(Page::default()).await.expect("audit list");
    assert_eq!(page.total, 1);
    let row = &page.items[0];
    assert_eq!(row.actor_id, audit.actor_id);
    assert_eq!(row.action, audit.action);
    assert_eq!(row.target_type, "user");
    assert_eq!(row.target_id, new.id);
    assert_eq!(row.details, audit.details);
    assert_eq!(row.created_at, at);
}

/// A taken e-mail address is `Conflict::Email` and nothing is written.
pub async fn user_conflict_email(s: Stores) {
    let at = now();
    let first = new_user("first", at);
    s.users.create(first.clone(), None).await.expect("create");

    let mut dup = new_user("second", at);
    dup.email = first.email.clone();
    assert_conflict(&s, dup, crate::Conflict::Email).await;
}

/// A username taken in another case is `Conflict::Username` and nothing is written.
pub async fn user_conflict_username(s: Stores) {
    let at = now();
    let first = new_user("Grace", at);
    s.users.create(first.clone(), None).await.expect("create");

    let mut dup = new_user("someone_else", at);
    dup.username = Username::parse("gRACE").expect("username");
    assert_conflict(&s, dup, crate::Conflict::Username).await;
}

/// A taken student id is `Conflict::StudentId` and nothing is written; absent student ids
/// never conflict.
pub async fn user_conflict_student_id(s: Stores) {
    let at = now();
    let mut first = new_user("first", at);
    first.student_id = Some("S-42".to_owned());
    s.users.create(first.clone(), None).await.expect("create");
    s.users
        .create(new_user("no_id_1", at), None)
        .await
        .expect("absent student id");
    s.users
        .create(new_user("no_id_2", at), None)
        .await
        .expect("second absent student id");

    let mut dup = new_user("second", at);
    dup.student_id = Some("S-42".to_owned());
    assert_conflict(&s, dup, crate::Conflict::StudentId).await;
}

async fn assert_conflict(s: &Stores, dup: crate::NewUser, conflict: crate::Conflict) {
    let audit = audit_entry(dup.id, dup.created_at);
    let result = s.users.create(dup.clone(), Some(audit)).await;
    assert_eq!(result, Err(PortError::Conflict(conflict)));
    assert_eq!(s.users.find_by_id(dup.id).await, Ok(None));
    let by_login = s
        .users
        .find_by_login(dup.username.as_str())
        .await
        .expect("find_by_login");
    assert_ne!(by_login.map(|u| u.id), Some(dup.id));
    let audit = s.audit.list(Page::default()).await.expect("audit list");
    assert_eq!(audit.total, 0, "the audit row must not be written");
    assert!(audit.items.is_empty());
}

/// `record_login` sets `last_login` and counts logins; unknown users are `NotFound`.
pub async fn user_record_login(s: Stores) {
    let at = now();
    let new = new_user("counter", at);
    s.users.create(new.clone(), None).await.expect("create");

    let first = plus_secs(at, 10);
    s.users.record_login(new.id, first).await.expect("login 1");
    let user = s
        .users
        .find_by_id(new.id)
        .await
        .expect("find")
        .expect("user");
    assert_eq!(user.last_login, Some(first));
    assert_eq!(user.login_count, 1);

    let second = plus_secs(at, 20);
    s.users.record_login(new.id, second).await.expect("login 2");
    let user = s
        .users
        .find_by_id(new.id)
        .await
        .expect("find")
        .expect("user");
    assert_eq!(user.last_login, Some(second));
    assert_eq!(user.login_count, 2);

    assert_eq!(
        s.users.record_login(Uuid::new_v4(), second).await,
        Err(PortError::NotFound)
    );
}

/// `change_password` replaces the hash and revokes exactly the user's unrevoked sessions.
pub async fn user_change_password_revokes_sessions(s: Stores) {
    let at = now();
    let user = new_user("changer", at);
    let other = new_user("bystander", at);
    s.users.create(user.clone(), None).await.expect("create");
    s.users.create(other.clone(), None).await.expect("create");

    let live_a = auth_session(user.id, at, 3600);
    let live_b = auth_session(user.id, at, 3600);
    let old = auth_session(user.id, at, 3600);
    let others = auth_session(other.id, at, 3600);
    for session in [&live_a, &live_b, &old, &others] {
        s.sessions
            .start(session.clone(), refresh_token(at))
            .await
            .expect("start");
    }
    let earlier = plus_secs(at, 5);
    assert_eq!(s.sessions.revoke(old.id, earlier).await, Ok(true));

    let changed_at = plus_secs(at, 60);
    let revoked = s
        .users
        .change_password(user.id, "$2b$04$new-hash", changed_at)
        .await
        .expect("change_password");
    assert_eq!(sorted(revoked), sorted(vec![live_a.id, live_b.id]));

    let stored = s
        .users
        .find_by_id(user.id)
        .await
        .expect("find")
        .expect("user");
    assert_eq!(stored.password_hash, "$2b$04$new-hash");
    for id in [live_a.id, live_b.id] {
        let session = s.sessions.find(id).await.expect("find").expect("session");
        assert_eq!(session.revoked_at, Some(changed_at));
    }
    let old = s
        .sessions
        .find(old.id)
        .await
        .expect("find")
        .expect("session");
    assert_eq!(old.revoked_at, Some(earlier), "an earlier revocation stays");
    let others = s
        .sessions
        .find(others.id)
        .await
        .expect("find")
        .expect("session");
    assert_eq!(others.revoked_at, None, "other users' sessions stay");

    assert_eq!(
        s.users
            .change_password(Uuid::new_v4(), "$2b$04$x", changed_at)
            .await,
        Err(PortError::NotFound)
    );
}

/// `list` filters by role and activity, orders by creation time then id, and counts the
/// whole filtered list.
pub async fn user_list_filters_and_pagination(s: Stores) {
    let at = now();
    let mut a = new_user("user_a", plus_secs(at, 1));
    a.roles = RoleSet::student();
    let mut b = new_user("user_b", plus_secs(at, 2));
    b.roles = RoleSet::new([Role::Student, Role::Instructor]).expect("roles");
    let mut c = new_user("user_c", plus_secs(at, 3));
    c.roles = RoleSet::new([Role::Instructor]).expect("roles");
    c.is_active = false;
    let mut d = new_user("user_d", plus_secs(at, 4));
    d.roles = RoleSet::new([Role::Admin]).expect("roles");
    // Same creation time as `d`: the id breaks the tie.
    let mut e = new_user("user_e", plus_secs(at, 4));
    e.is_active = false;
    // Insert out of order.
    for user in [&e, &c, &a, &d, &b] {
        s.users.create(user.clone(), None).await.expect("create");
    }
    let mut expected = [&a, &b, &c, &d, &e];
    expected.sort_by_key(|u| (u.created_at, u.id));
    let expected: Vec<Uuid> = expected.iter().map(|u| u.id).collect();

    let all = UserFilter::default();
    let page = |limit: i64, offset: i64| Page::new(Some(limit), Some(offset)).expect("page");

    let first = s.users.list(&all, page(2, 0)).await.expect("list");
    assert_eq!(ids(&first.items), expected[..2].to_vec());
    assert_eq!((first.total, first.limit, first.offset), (5, 2, 0));

    let middle = s.users.list(&all, page(2, 2)).await.expect("list");
    assert_eq!(ids(&middle.items), expected[2..4].to_vec());
    assert_eq!(middle.total, 5);

    let last = s.users.list(&all, page(2, 4)).await.expect("list");
    assert_eq!(ids(&last.items), expected[4..].to_vec());
    assert_eq!(last.total, 5);

    let beyond = s.users.list(&all, page(10, 10)).await.expect("list");
    assert!(beyond.items.is_empty());
    assert_eq!(beyond.total, 5);

    let everything = s.users.list(&all, page(100, 0)).await.expect("list");
    assert_eq!(ids(&everything.items), expected);
    let stored_b = everything
        .items
        .iter()
        .find(|u| u.id == b.id)
        .expect("b listed");
    assert_eq!(stored_b.roles, b.roles);

    let instructors = UserFilter {
        role: Some(Role::Instructor),
        is_active: None,
    };
    let found = s
        .users
        .list(&instructors, page(100, 0))
        .await
        .expect("list");
    assert_eq!(ids(&found.items), vec![b.id, c.id]);
    assert_eq!(found.total, 2);

    let one_instructor = s.users.list(&instructors, page(1, 1)).await.expect("list");
    assert_eq!(ids(&one_instructor.items), vec![c.id]);
    assert_eq!(one_instructor.total, 2);

    let inactive = UserFilter {
        role: None,
        is_active: Some(false),
    };
    let found = s.users.list(&inactive, page(100, 0)).await.expect("list");
    assert_eq!(ids(&found.items), vec![c.id, e.id]);
    assert_eq!(found.total, 2);

    let active_instructors = UserFilter {
        role: Some(Role::Instructor),
        is_active: Some(true),
    };
    let found = s
        .users
        .list(&active_instructors, page(100, 0))
        .await
        .expect("list");
    assert_eq!(ids(&found.items), vec![b.id]);
    assert_eq!(found.total, 1);

    let inactive_admins = UserFilter {
        role: Some(Role::Admin),
        is_active: Some(false),
    };
    let found = s
        .users
        .list(&inactive_admins, page(100, 0))
        .await
        .expect("list");
    assert!(found.items.is_empty());
    assert_eq!(found.total, 0);
}

fn ids(users: &[ainative_domain::User]) -> Vec<Uuid> {
    users.iter().map(|u| u.id).collect()
}

/// `apply_patch` changes only the patched fields, sets `updated_at` to the audit time and
/// writes the audit row; without `revoke_sessions` the sessions stay.
pub async fn user_apply_patch_writes_audit_row(s: Stores) {
    let at = now();
    let new = new_user("patched", at);
    s.users.create(new.clone(), None).await.expect("create");
    let session = auth_session(new.id, at, 3600);
    s.sessions
        .start(session.clone(), refresh_token(at))
        .await
        .expect("start");

    let patch = UserPatch {
        roles: Some(RoleSet::new([Role::Student, Role::Instructor]).expect("roles")),
        tier: Some(Tier::Premium),
        is_active: Some(false),
    };
    let when = plus_secs(at, 30);
    let audit = audit_entry(new.id, when);
    let (user, revoked) = s
        .users
        .apply_patch(new.id, &patch, audit.clone(), false)
        .await
        .expect("apply_patch");
    assert!(revoked.is_empty());
    assert_eq!(Some(&user.roles), patch.roles.as_ref());
    assert_eq!(user.tier, Tier::Premium);
    assert!(!user.is_active);
    assert_eq!(user.updated_at, when);
    assert_eq!(user.created_at, at);
    assert_eq!(user.email, new.email);
    assert_eq!(user.password_hash, new.password_hash);
    assert_eq!(
        s.users.find_by_id(new.id).await.expect("find").as_ref(),
        Some(&user)
    );

    let rows = s.audit.list(Page::default()).await.expect("audit");
    assert_eq!(rows.total, 1);
    assert_eq!(rows.items[0].target_id, new.id);
    assert_eq!(rows.items[0].actor_id, audit.actor_id);
    assert_eq!(rows.items[0].details, audit.details);
    assert_eq!(rows.items[0].created_at, when);

    let stored = s.sessions.find(session.id).await.expect("find");
    assert_eq!(stored.map(|s| s.revoked_at), Some(None));

    // A partial patch leaves the other fields alone.
    let later = plus_secs(at, 60);
    let only_tier = UserPatch {
        tier: Some(Tier::Free),
        ..UserPatch::default()
    };
    let (user, _) = s
        .users
        .apply_patch(new.id, &only_tier, audit_entry(new.id, later), false)
        .await
        .expect("apply_patch");
    assert_eq!(user.tier, Tier::Free);
    assert_eq!(Some(&user.roles), patch.roles.as_ref());
    assert!(!user.is_active);
    assert_eq!(user.updated_at, later);
    assert_eq!(s.audit.list(Page::default()).await.map(|p| p.total), Ok(2));
}

/// `apply_patch` on an unknown user is `NotFound` and writes no audit row.
pub async fn user_apply_patch_not_found_writes_nothing(s: Stores) {
    let at = now();
    let id = Uuid::new_v4();
    let patch = UserPatch {
        tier: Some(Tier::Premium),
        ..UserPatch::default()
    };
    let result = s
        .users
        .apply_patch(id, &patch, audit_entry(id, at), true)
        .await;
    assert_eq!(result, Err(PortError::NotFound));
    let rows = s.audit.list(Page::default()).await.expect("audit");
    assert_eq!(rows.total, 0);
    assert!(rows.items.is_empty());
}

/// `apply_patch` with `revoke_sessions` revokes exactly the user's unrevoked sessions.
pub async fn user_apply_patch_revokes_sessions(s: Stores) {
    let at = now();
    let new = new_user("demoted", at);
    let other = new_user("untouched", at);
    s.users.create(new.clone(), None).await.expect("create");
    s.users.create(other.clone(), None).await.expect("create");
    let a = auth_session(new.id, at, 3600);
    let b = auth_session(new.id, at, 3600);
    let gone = auth_session(new.id, at, 3600);
    let others = auth_session(other.id, at, 3600);
    for session in [&a, &b, &gone, &others] {
        s.sessions
            .start(session.clone(), refresh_token(at))
            .await
            .expect("start");
    }
    let earlier = plus_secs(at, 1);
    assert_eq!(s.sessions.revoke(gone.id, earlier).await, Ok(true));

    let when = plus_secs(at, 10);
    let patch = UserPatch {
        roles: Some(RoleSet::student()),
        tier: None,
        is_active: Some(false),
    };
    let (user, revoked) = s
        .users
        .apply_patch(new.id, &patch, audit_entry(new.id, when), true)
        .await
        .expect("apply_patch");
    assert!(!user.is_active);
    assert_eq!(sorted(revoked), sorted(vec![a.id, b.id]));
    for id in [a.id, b.id] {
        let session = s.sessions.find(id).await.expect("find").expect("session");
        assert_eq!(session.revoked_at, Some(when));
    }
    let gone = s
        .sessions
        .find(gone.id)
        .await
        .expect("find")
        .expect("session");
    assert_eq!(gone.revoked_at, Some(earlier));
    let others = s
        .sessions
        .find(others.id)
        .await
        .expect("find")
        .expect("session");
    assert_eq!(others.revoked_at, None);
}
