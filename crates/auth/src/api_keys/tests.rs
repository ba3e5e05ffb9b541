//! Unit tests of the API key use cases, with mocked ports.

use std::sync::Arc;

use ainative_domain::{AccessDenied, Email, Role, RoleSet, Tier, User, Username};
use ainative_ports::{MockApiKeyRepository, MockClock, MockRevocationList, MockUserRepository};
use chrono::Utc;

use super::*;

fn owner(roles: RoleSet, active: bool) -> User {
    User {
        id: Uuid::new_v4(),
        email: Email::parse("kay@example.com").unwrap(),
        username: Username::parse("kay").unwrap(),
        full_name: "Kay".into(),
        student_id: None,
        roles,
        tier: Tier::Premium,
        is_active: active,
        is_verified: true,
        password_hash: "x".into(),
        last_login: None,
        login_count: 0,
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

fn record(user: &User, scopes: &[Scope]) -> ApiKey {
    ApiKey {
        id: Uuid::new_v4(),
        user_id: user.id,
        name: "ci".into(),
        prefix: "ain_abcdefgh".into(),
        scopes: scopes.iter().copied().collect(),
        created_at: Utc::now(),
        expires_at: None,
        last_used_at: None,
        revoked_at: None,
    }
}

struct Mocks {
    keys: MockApiKeyRepository,
    users: MockUserRepository,
    revocations: MockRevocationList,
}

impl Mocks {
    fn new() -> Self {
        Self {
            keys: MockApiKeyRepository::new(),
            users: MockUserRepository::new(),
            revocations: MockRevocationList::new(),
        }
    }

    fn service(self) -> ApiKeyService {
        let mut clock = MockClock::new();
        clock.expect_now().returning(Utc::now);
        ApiKeyService::new(
            ApiKeyDeps {
                keys: Arc::new(self.keys),
                users: Arc::new(self.users),
                user_cache: UserCache::default(),
                revocations: Arc::new(self.revocations),
                clock: Arc::new(clock),
            },
            Pepper::new(&SecretString::from("pepper".to_owned())),
            ApiKeyLimits::default(),
        )
    }
}

fn key_text() -> SecretString {
    token::generate().unwrap()
}

/// A key, its owner, and mocks that find them (each once: later requests use the caches).
fn found(user: User, key: ApiKey, revoked: bool) -> (Mocks, std::sync::mpsc::Receiver<Uuid>) {
    let mut m = Mocks::new();
    let stored = key.clone();
    m.keys
        .expect_find_by_hash()
        .times(1)
        .returning(move |_| Ok(Some(stored.clone())));
    m.users
        .expect_find_by_id()
        .times(0..=1)
        .returning(move |_| Ok(Some(user.clone())));
    m.revocations
        .expect_is_session_revoked()
        .returning(move |_| Ok(revoked));
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    m.keys.expect_touch().returning(move |id, _| {
        let _ = tx.lock().unwrap().send(id);
        Ok(())
    });
    (m, rx)
}

// Multi-threaded: the background write runs while the test blocks on its channel.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_acts_with_its_scopes_within_the_owners_roles() {
    let user = owner(RoleSet::student(), true);
    // Stored with more than a student may do: the owner was demoted since.
    let key = record(
        &user,
        &[Scope::SessionsRead, Scope::ActivitiesWrite, Scope::Admin],
    );
    let (m, touched) = found(user.clone(), key.clone(), false);
    let service = m.service();
    let text = key_text();
    for _ in 0..3 {
        let ctx = service
            .authenticate(text.expose_secret(), "req", None)
            .await
            .expect("accepted");
        assert_eq!(ctx.user_id, user.id);
        assert_eq!(ctx.tier, Tier::Premium, "limited like its owner");
        assert_eq!(ctx.scopes, [Scope::SessionsRead].into_iter().collect());
        assert!(ctx.is_api_key());
        assert_eq!(ctx.session_id(), key.id);
        assert!(matches!(
            ctx.require_identity_management(),
            Err(AccessDenied::Rule(_))
        ));
    }
    // One use recorded for three requests within the minute.
    assert_eq!(
        touched.recv_timeout(Duration::from_secs(10)).unwrap(),
        key.id
    );
    assert!(touched.try_recv().is_err());
}

#[tokio::test]
async fn revoked_expired_and_orphaned_keys_are_refused() {
    let text = key_text();
    let user = owner(RoleSet::student(), true);
    let key = record(&user, &[Scope::SessionsRead]);
    let (m, _) = found(user.clone(), key.clone(), true);
    let err = m
        .service()
        .authenticate(text.expose_secret(), "r", None)
        .await;
    assert!(
        matches!(err, Err(AuthError::InvalidToken(TokenRejection::Revoked))),
        "{err:?}"
    );

    let mut expired = key.clone();
    expired.expires_at = Some(Utc::now() - chrono::Duration::seconds(1));
    let (m, _) = found(user.clone(), expired, false);
    let err = m
        .service()
        .authenticate(text.expose_secret(), "r", None)
        .await;
    assert!(
        matches!(err, Err(AuthError::InvalidToken(TokenRejection::Expired))),
        "{err:?}"
    );

    let inactive = owner(RoleSet::student(), false);
    let (m, _) = found(
        inactive.clone(),
        record(&inactive, &[Scope::SessionsRead]),
        false,
    );
    let err = m
        .service()
        .authenticate(text.expose_secret(), "r", None)
        .await;
    assert!(
        matches!(err, Err(AuthError::InvalidToken(TokenRejection::UserGone))),
        "{err:?}"
    );
}

#[tokio::test]
async fn malformed_keys_cost_no_lookup_and_unknown_ones_one() {
    // No expectations: any port call would panic.
    let service = Mocks::new().service();
    for bad in [
        "ain_short",
        "ain_0123456789abcdefghijklmnopqrstuv000000",
        "not-a-key",
    ] {
        let err = service.authenticate(bad, "r", None).await;
        assert!(
            matches!(err, Err(AuthError::InvalidToken(TokenRejection::Malformed))),
            "{bad}"
        );
    }
    let mut m = Mocks::new();
    m.keys
        .expect_find_by_hash()
        .times(1)
        .returning(|_| Ok(None));
    let service = m.service();
    let text = key_text();
    for _ in 0..2 {
        let err = service.authenticate(text.expose_secret(), "r", None).await;
        assert!(matches!(
            err,
            Err(AuthError::InvalidToken(TokenRejection::Malformed))
        ));
    }
}

fn session_of(user: &User) -> RequestContext {
    RequestContext::for_access_token(
        user.id,
        user.roles.clone(),
        user.tier,
        Uuid::new_v4(),
        Uuid::new_v4(),
        "req",
        None,
    )
}

fn input(scopes: &[&str]) -> NewKeyInput {
    NewKeyInput {
        name: "  deploy bot ".into(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        expires_in_days: Some(30),
    }
}

#[tokio::test]
async fn keys_are_made_within_the_callers_rights_and_stored_hashed() {
    let user = owner(RoleSet::student(), true);
    let ctx = session_of(&user);
    let mut m = Mocks::new();
    m.keys.expect_list().returning(|_, _| Ok(Vec::new()));
    let stored = Arc::new(std::sync::Mutex::new(None));
    let seen = stored.clone();
    m.keys.expect_create().times(1).returning(move |new| {
        *seen.lock().unwrap() = Some(new.clone());
        Ok(new.key)
    });
    let service = m.service();
    for (scopes, field) in [
        (&["activities:write"][..], "scopes"),
        (&["sessions:delete"][..], "scopes"),
        (&[][..], "scopes"),
    ] {
        let err = service.create(&ctx, input(scopes)).await.unwrap_err();
        assert!(
            matches!(&err, AuthError::Validation(e) if e.0[0].field == field),
            "{scopes:?}: {err:?}"
        );
    }
    let created = service
        .create(&ctx, input(&["sessions:read", "sessions:write"]))
        .await
        .unwrap();
    let text = created.token.expose_secret();
    assert!(token::well_formed(text));
    assert_eq!(created.key.name, "deploy bot");
    assert_eq!(created.key.prefix, &text[..12]);
    let new = stored.lock().unwrap().clone().unwrap();
    assert_eq!(new.secret_hash.len(), 64);
    assert!(!new.secret_hash.contains(&text[4..20]));
    assert!(
        !format!("{new:?}").contains(text),
        "the record never holds the key"
    );
    assert_eq!(new.session_expires_at, created.key.expires_at.unwrap());
}

#[tokio::test]
async fn a_key_cannot_manage_keys_unless_admin_scope_and_admin_role() {
    let student = owner(RoleSet::student(), true);
    let by_key = RequestContext::for_api_key(
        student.id,
        student.roles.clone(),
        student.tier,
        Uuid::new_v4(),
        Scopes::all(),
        "r",
        None,
    );
    let service = Mocks::new().service();
    assert!(matches!(
        service.create(&by_key, input(&["sessions:read"])).await,
        Err(AuthError::Forbidden(_))
    ));
    assert!(matches!(
        service.list(&by_key).await,
        Err(AuthError::Forbidden(_))
    ));
    assert!(matches!(
        service.delete(&by_key, Uuid::new_v4()).await,
        Err(AuthError::Forbidden(_))
    ));
    let admin = owner(RoleSet::new([Role::Admin]).unwrap(), true);
    let admin_key = RequestContext::for_api_key(
        admin.id,
        admin.roles.clone(),
        admin.tier,
        Uuid::new_v4(),
        [Scope::Admin].into_iter().collect(),
        "r",
        None,
    );
    assert!(admin_key.require_identity_management().is_ok());
    let admin_key_without_scope = RequestContext::for_api_key(
        admin.id,
        admin.roles,
        admin.tier,
        Uuid::new_v4(),
        [Scope::SessionsRead].into_iter().collect(),
        "r",
        None,
    );
    assert!(admin_key_without_scope
        .require_identity_management()
        .is_err());
    assert!(admin_key_without_scope.require_admin().is_err());
}

#[tokio::test]
async fn deleting_revokes_at_once_and_hides_other_users_keys() {
    let user = owner(RoleSet::student(), true);
    let other = owner(RoleSet::student(), true);
    let mine = record(&user, &[Scope::SessionsRead]);
    let theirs = record(&other, &[Scope::SessionsRead]);
    let mut m = Mocks::new();
    let (a, b) = (mine.clone(), theirs.clone());
    m.keys
        .expect_find()
        .returning(move |id| Ok([a.clone(), b.clone()].into_iter().find(|k| k.id == id)));
    let mine_id = mine.id;
    m.keys
        .expect_revoke()
        .withf(move |id, _, audit| *id == mine_id && audit.is_none())
        .times(1)
        .returning(|_, _, _| Ok(true));
    m.revocations
        .expect_revoke_session()
        .withf(move |id, _| *id == mine_id)
        .times(1)
        .returning(|_, _| Ok(()));
    let service = m.service();
    let ctx = session_of(&user);
    assert!(matches!(
        service.delete(&ctx, theirs.id).await,
        Err(AuthError::NotFound(_))
    ));
    service.delete(&ctx, mine.id).await.unwrap();
}

#[tokio::test]
async fn admin_revocation_is_audited() {
    let user = owner(RoleSet::student(), true);
    let key = record(&user, &[Scope::SessionsRead]);
    let admin = owner(RoleSet::new([Role::Admin]).unwrap(), true);
    let mut m = Mocks::new();
    let stored = key.clone();
    m.keys
        .expect_find()
        .returning(move |_| Ok(Some(stored.clone())));
    let (key_id, admin_id) = (key.id, admin.id);
    m.keys
        .expect_revoke()
        .withf(move |id, _, audit| {
            *id == key_id
                && audit.as_ref().is_some_and(|a| {
                    a.actor_id == Some(admin_id) && a.action == AuditAction::ApiKeyRevoked
                })
        })
        .times(1)
        .returning(|_, _, _| Ok(true));
    m.revocations
        .expect_revoke_session()
        .returning(|_, _| Ok(()));
    let service = m.service();
    assert!(matches!(
        service.admin_revoke(&session_of(&user), key.id).await,
        Err(AuthError::Forbidden(_))
    ));
    service
        .admin_revoke(&session_of(&admin), key.id)
        .await
        .unwrap();
}
