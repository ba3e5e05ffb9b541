//! Unit tests of the identity use cases against mockall mocks of the ports.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ainative_domain::{Email, PasswordPolicy, Role, RoleSet, Tier, User, Username};
use ainative_ports::{
    AuthSession, MockAuthSessionRepository, MockClock, MockLoginThrottle, MockRevocationList,
    MockUserRepository, PortError, RotateOutcome, ThrottleDecision,
};
use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use secrecy::SecretString;
use uuid::Uuid;

use super::*;
use crate::{AuthConfig, JwtSettings};

/// A cheap, transparent hasher that counts dummy verifications.
#[derive(Default)]
struct PlainHasher {
    dummy_calls: AtomicUsize,
}

#[async_trait]
impl PasswordHasher for PlainHasher {
    async fn hash(&self, password: &str) -> Result<String, AuthError> {
        Ok(format!("plain:{password}"))
    }
    async fn verify(&self, password: &str, hash: &str) -> Result<bool, AuthError> {
        Ok(hash == format!("plain:{password}"))
    }
    async fn verify_dummy(&self, _password: &str) -> Result<(), AuthError> {
        self.dummy_calls.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

struct Mocks {
    users: MockUserRepository,
    sessions: MockAuthSessionRepository,
    revocations: MockRevocationList,
    throttle: MockLoginThrottle,
    hasher: Arc<PlainHasher>,
    now: DateTime<Utc>,
    grace: Duration,
}

/// A fixed instant near the real time: jsonwebtoken checks `exp` against the system clock.
fn now() -> DateTime<Utc> {
    static NOW: std::sync::OnceLock<DateTime<Utc>> = std::sync::OnceLock::new();
    *NOW.get_or_init(|| Utc.timestamp_opt(Utc::now().timestamp(), 0).unwrap())
}

impl Mocks {
    fn new() -> Self {
        Self {
            users: MockUserRepository::new(),
            sessions: MockAuthSessionRepository::new(),
            revocations: MockRevocationList::new(),
            throttle: MockLoginThrottle::new(),
            hasher: Arc::new(PlainHasher::default()),
            now: now(),
            grace: Duration::ZERO,
        }
    }

    fn service(self) -> (AuthService, Arc<PlainHasher>) {
        let mut clock = MockClock::new();
        let at = self.now;
        clock.expect_now().returning(move || at);
        let hasher = self.hasher.clone();
        let deps = AuthDeps {
            users: Arc::new(self.users),
            sessions: Arc::new(self.sessions),
            revocations: Arc::new(self.revocations),
            throttle: Arc::new(self.throttle),
            hasher: self.hasher,
            clock: Arc::new(clock),
            user_cache: crate::UserCache::default(),
        };
        (AuthService::new(deps, config(self.grace)), hasher)
    }
}

fn config(grace: Duration) -> AuthConfig {
    AuthConfig {
        jwt: JwtSettings {
            secret: SecretString::from("test-secret-test-secret-test-secret".to_owned()),
            signing_key: None,
            previous_keys: Vec::new(),
            issuer: "ainative".into(),
            audience: "ainative-api".into(),
            access_ttl: Duration::from_secs(1800),
            refresh_ttl: Duration::from_secs(7 * 86400),
        },
        password_policy: PasswordPolicy::new(8),
        refresh_reuse_grace: grace,
        login_attempts_limit: 10,
    }
}

fn user(active: bool) -> User {
    User {
        id: Uuid::new_v4(),
        email: Email::parse("ada@example.com").unwrap(),
        username: Username::parse("ada").unwrap(),
        full_name: "Ada".into(),
        student_id: None,
        roles: RoleSet::student(),
        tier: Tier::Free,
        is_active: active,
        is_verified: false,
        password_hash: "plain:Correct7Horse".into(),
        last_login: None,
        login_count: 0,
        created_at: now(),
        updated_at: now(),
    }
}

fn input(password: &str) -> RegisterInput {
    RegisterInput {
        email: "Ada@Example.com".into(),
        username: "ada".into(),
        password: password.into(),
        full_name: "Ada Lovelace".into(),
        student_id: None,
    }
}

fn stored(new: &NewUser) -> User {
    User {
        id: new.id,
        email: new.email.clone(),
        username: new.username.clone(),
        full_name: new.full_name.clone(),
        student_id: new.student_id.clone(),
        roles: new.roles.clone(),
        tier: new.tier,
        is_active: new.is_active,
        is_verified: new.is_verified,
        password_hash: new.password_hash.clone(),
        last_login: None,
        login_count: 0,
        created_at: new.created_at,
        updated_at: new.created_at,
    }
}

#[tokio::test]
async fn register_reports_every_bad_field_and_writes_nothing() {
    let mocks = Mocks::new(); // no expectations: any port call panics
    let (svc, _) = mocks.service();
    let err = svc
        .register(RegisterInput {
            email: "nope".into(),
            username: "a b".into(),
            password: "short".into(),
            full_name: "".into(),
            student_id: Some("bad id!".into()),
        })
        .await
        .unwrap_err();
    let AuthError::Validation(errors) = err else {
        panic!("expected validation")
    };
    let fields: Vec<_> = errors.0.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        ["email", "username", "full_name", "student_id", "password"]
    );
}

#[tokio::test]
async fn register_rejects_common_password() {
    let (svc, _) = Mocks::new().service();
    let err = svc.register(input("Password1")).await.unwrap_err();
    assert!(
        matches!(err, AuthError::Validation(e) if e.0[0].field == "password" && e.0[0].message.contains("common"))
    );
}

#[tokio::test]
async fn register_creates_student_and_session() {
    let mut m = Mocks::new();
    m.users
        .expect_create()
        .withf(|u, audit| {
            u.email.as_str() == "ada@example.com"
                && u.roles == RoleSet::student()
                && u.password_hash == "plain:Correct7Horse"
                && audit.is_none()
        })
        .times(1)
        .returning(|u, _| Ok(stored(&u)));
    m.sessions.expect_start().times(1).returning(|_, _| Ok(()));
    let (svc, _) = m.service();
    let out = svc.register(input("Correct7Horse")).await.unwrap();
    let principal = {
        let claims = svc
            .codec()
            .decode(&out.tokens.access_token, TokenKind::Access)
            .unwrap();
        assert_eq!(claims.sub, out.user.id);
        assert_eq!(claims.roles, vec![Role::Student]);
        claims
    };
    assert_eq!(out.tokens.token_type, "bearer");
    assert_eq!(out.tokens.expires_in, 1800);
    let refresh = svc
        .codec()
        .decode(&out.tokens.refresh_token, TokenKind::Refresh)
        .unwrap();
    assert_eq!(refresh.sid, principal.sid);
}

#[tokio::test]
async fn register_conflict_is_reported_with_field() {
    let mut m = Mocks::new();
    m.users
        .expect_create()
        .returning(|_, _| Err(PortError::Conflict(ainative_ports::Conflict::Email)));
    let (svc, _) = m.service();
    assert!(matches!(
        svc.register(input("Correct7Horse")).await,
        Err(AuthError::Conflict(ainative_ports::Conflict::Email))
    ));
}

fn allow_attempts(m: &mut Mocks) {
    m.throttle
        .expect_attempt()
        .returning(|_, _, _| Ok(ThrottleDecision::Allowed));
}

#[tokio::test]
async fn login_unknown_account_spends_a_dummy_verification() {
    let mut m = Mocks::new();
    allow_attempts(&mut m);
    m.users.expect_find_by_login().returning(|_| Ok(None));
    let (svc, hasher) = m.service();
    let err = svc.login("ghost", "Correct7Horse", None).await.unwrap_err();
    assert!(matches!(err, AuthError::InvalidCredentials));
    assert_eq!(hasher.dummy_calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_login_holding_nul_names_no_account_and_reaches_no_store() {
    let mut m = Mocks::new();
    allow_attempts(&mut m);
    m.users.expect_find_by_login().never();
    let (svc, hasher) = m.service();
    let err = svc
        .login("ada@example.com\0", "Correct7Horse", None)
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::InvalidCredentials));
    assert_eq!(hasher.dummy_calls.load(Ordering::SeqCst), 1, "same timing");
}

#[tokio::test]
async fn an_account_without_a_password_logs_in_like_an_unknown_one() {
    let mut m = Mocks::new();
    allow_attempts(&mut m);
    m.users.expect_find_by_login().returning(|_| {
        Ok(Some(User {
            password_hash: User::NO_PASSWORD.into(),
            ..user(true)
        }))
    });
    let (svc, hasher) = m.service();
    for password in ["Correct7Horse", "!"] {
        let err = svc.login("ada", password, None).await.unwrap_err();
        assert!(matches!(err, AuthError::InvalidCredentials), "{err:?}");
    }
    assert_eq!(hasher.dummy_calls.load(Ordering::SeqCst), 2, "same effort");
}

#[tokio::test]
async fn login_wrong_password_is_the_same_error() {
    let mut m = Mocks::new();
    allow_attempts(&mut m);
    m.users
        .expect_find_by_login()
        .returning(|_| Ok(Some(user(true))));
    let (svc, _) = m.service();
    assert!(matches!(
        svc.login("ada", "Wrong7Horse", None).await,
        Err(AuthError::InvalidCredentials)
    ));
}

#[tokio::test]
async fn login_over_72_bytes_is_refused_before_hashing() {
    let mut m = Mocks::new();
    allow_attempts(&mut m);
    m.users
        .expect_find_by_login()
        .returning(|_| Ok(Some(user(true))));
    let (svc, _) = m.service();
    let long = "A1a".repeat(30);
    assert!(matches!(
        svc.login("ada", &long, None).await,
        Err(AuthError::InvalidCredentials)
    ));
}

#[tokio::test]
async fn login_throttled_does_not_check_the_password() {
    let mut m = Mocks::new();
    let u = user(true);
    let account = format!("login:account:{}", u.id);
    m.users
        .expect_find_by_login()
        .returning(move |_| Ok(Some(u.clone())));
    m.throttle
        .expect_check()
        .withf(|keys, limit, _| keys == ["login:ip:10.0.0.1".to_owned()] && *limit == 10)
        .returning(|_, _, _| Ok(ThrottleDecision::Allowed));
    m.throttle
        .expect_attempt()
        .withf(move |keys, limit, _| keys == [account.clone()] && *limit == 10)
        .returning(|_, _, _| {
            Ok(ThrottleDecision::Throttled {
                retry_after_secs: 42,
            })
        });
    let (svc, _) = m.service();
    let err = svc
        .login("ADA", "Correct7Horse", Some("10.0.0.1".parse().unwrap()))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        AuthError::Throttled {
            retry_after_secs: 42
        }
    ));
}

#[tokio::test]
async fn login_inactive_account_is_forbidden() {
    let mut m = Mocks::new();
    allow_attempts(&mut m);
    m.users
        .expect_find_by_login()
        .returning(|_| Ok(Some(user(false))));
    let (svc, _) = m.service();
    assert!(matches!(
        svc.login("ada", "Correct7Horse", None).await,
        Err(AuthError::AccountInactive)
    ));
}

#[tokio::test]
async fn login_success_resets_account_and_releases_ip() {
    let mut m = Mocks::new();
    allow_attempts(&mut m);
    let u = user(true);
    let id = u.id;
    m.users
        .expect_find_by_login()
        .returning(move |_| Ok(Some(u.clone())));
    let account = format!("login:account:{id}");
    m.throttle
        .expect_reset()
        .withf(move |k| *k == account)
        .times(1)
        .returning(|_| Ok(()));
    m.throttle
        .expect_check()
        .withf(|keys, _, _| keys == ["login:ip:::1".to_owned()])
        .times(1)
        .returning(|_, _, _| Ok(ThrottleDecision::Allowed));
    // The in-flight slot is given back; nothing is counted on the IP's failure key.
    m.throttle
        .expect_release()
        .withf(|k| k == "login:ip-in-flight:::1")
        .times(1)
        .returning(|_| Ok(()));
    m.users
        .expect_record_login()
        .withf(move |uid, _| *uid == id)
        .times(1)
        .returning(|_, _| Ok(()));
    m.sessions
        .expect_start()
        .withf(move |s, _| s.user_id == id)
        .times(1)
        .returning(|_, _| Ok(()));
    let (svc, _) = m.service();
    let out = svc
        .login(" ada ", "Correct7Horse", Some("::1".parse().unwrap()))
        .await
        .unwrap();
    assert_eq!(out.user.login_count, 1);
    assert_eq!(out.user.last_login, Some(now()));
}

#[tokio::test]
async fn a_failed_login_counts_on_the_ip_only_once_known() {
    let mut m = Mocks::new();
    let u = user(true);
    let account = format!("login:account:{}", u.id);
    m.users
        .expect_find_by_login()
        .returning(move |_| Ok(Some(u.clone())));
    m.throttle
        .expect_check()
        .times(1)
        .returning(|_, _, _| Ok(ThrottleDecision::Allowed));
    let counted: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let sink = Arc::clone(&counted);
    m.throttle
        .expect_attempt()
        .returning(move |keys, limit, _| {
            sink.lock()
                .unwrap()
                .push(format!("{}/{limit}", keys.join(",")));
            Ok(ThrottleDecision::Allowed)
        });
    m.throttle
        .expect_release()
        .withf(|k| k == "login:ip-in-flight:10.0.0.9")
        .times(1)
        .returning(|_| Ok(()));
    let (svc, _) = m.service();
    let err = svc
        .login("ada", "Wrong7Horse", Some("10.0.0.9".parse().unwrap()))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::InvalidCredentials));
    assert_eq!(
        *counted.lock().unwrap(),
        [
            format!("{account}/10"),
            "login:ip-in-flight:10.0.0.9/64".to_owned(),
            "login:ip:10.0.0.9/10".to_owned(),
        ]
    );
}

#[tokio::test]
async fn a_throttled_ip_refuses_before_counting_anything() {
    let mut m = Mocks::new();
    m.users
        .expect_find_by_login()
        .returning(|_| Ok(Some(user(true))));
    m.throttle.expect_check().returning(|_, _, _| {
        Ok(ThrottleDecision::Throttled {
            retry_after_secs: 7,
        })
    });
    m.throttle.expect_attempt().never();
    let (svc, hasher) = m.service();
    let err = svc
        .login("ada", "Correct7Horse", Some("10.0.0.9".parse().unwrap()))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        AuthError::Throttled {
            retry_after_secs: 7
        }
    ));
    assert_eq!(hasher.dummy_calls.load(Ordering::SeqCst), 0);
}

fn session_for(u: &User) -> AuthSession {
    AuthSession {
        id: Uuid::new_v4(),
        user_id: u.id,
        created_at: now(),
        expires_at: now() + chrono::Duration::days(7),
        revoked_at: None,
    }
}

fn refresh_token_for(svc: &AuthService, u: &User, s: &AuthSession) -> String {
    let claims = svc.codec().claims(
        TokenKind::Refresh,
        u.id,
        u.roles.as_slice(),
        u.tier,
        s.id,
        now(),
        s.expires_at,
    );
    svc.codec().encode(&claims).unwrap()
}

#[tokio::test]
async fn refresh_rotates_within_the_family_and_keeps_its_end() {
    let mut m = Mocks::new();
    let u = user(true);
    let s = session_for(&u);
    let (uc, sc) = (u.clone(), s.clone());
    m.users
        .expect_find_by_id()
        .returning(move |_| Ok(Some(uc.clone())));
    m.sessions
        .expect_rotate()
        .times(1)
        .returning(move |_, _, _, _| Ok(RotateOutcome::Rotated(sc.clone())));
    let (svc, _) = m.service();
    let token = refresh_token_for(&svc, &u, &s);
    let pair = svc.refresh(&token).await.unwrap();
    let next = svc
        .codec()
        .decode(&pair.refresh_token, TokenKind::Refresh)
        .unwrap();
    assert_eq!(next.sid, s.id);
    assert_eq!(
        next.exp,
        s.expires_at.timestamp(),
        "rotation must not extend the family"
    );
    assert_ne!(pair.refresh_token, token);
}

#[tokio::test]
async fn refresh_replay_revokes_the_family() {
    let mut m = Mocks::new();
    let u = user(true);
    let s = session_for(&u);
    let (uc, sc, sid) = (u.clone(), s.clone(), s.id);
    m.users
        .expect_find_by_id()
        .returning(move |_| Ok(Some(uc.clone())));
    m.sessions.expect_rotate().returning(move |_, _, _, _| {
        Ok(RotateOutcome::Reused {
            session: sc.clone(),
            retired_at: now(),
        })
    });
    m.sessions
        .expect_revoke()
        .withf(move |id, _| *id == sid)
        .times(1)
        .returning(|_, _| Ok(true));
    m.revocations
        .expect_revoke_session()
        .withf(move |id, _| *id == sid)
        .times(1)
        .returning(|_, _| Ok(()));
    let (svc, _) = m.service();
    let token = refresh_token_for(&svc, &u, &s);
    assert!(matches!(
        svc.refresh(&token).await,
        Err(AuthError::InvalidToken(TokenRejection::Replayed))
    ));
}

#[tokio::test]
async fn refresh_replay_within_grace_gets_an_access_token_only() {
    let mut m = Mocks::new();
    m.grace = Duration::from_secs(10);
    let u = user(true);
    let s = session_for(&u);
    let (uc, sc) = (u.clone(), s.clone());
    m.users
        .expect_find_by_id()
        .returning(move |_| Ok(Some(uc.clone())));
    m.sessions.expect_rotate().returning(move |_, _, _, _| {
        Ok(RotateOutcome::Reused {
            session: sc.clone(),
            retired_at: now() - chrono::Duration::seconds(3),
        })
    });
    let (svc, _) = m.service();
    let token = refresh_token_for(&svc, &u, &s);
    let pair = svc.refresh(&token).await.unwrap();
    assert_eq!(pair.refresh_token, token);
    svc.codec()
        .decode(&pair.access_token, TokenKind::Access)
        .unwrap();
}

#[tokio::test]
async fn refresh_rejects_access_tokens_and_inactive_users() {
    let mut m = Mocks::new();
    let u = user(false);
    let s = session_for(&u);
    let uc = u.clone();
    m.users
        .expect_find_by_id()
        .returning(move |_| Ok(Some(uc.clone())));
    let (svc, _) = m.service();
    let access = svc
        .codec()
        .encode(&svc.codec().claims(
            TokenKind::Access,
            u.id,
            &[],
            u.tier,
            s.id,
            now(),
            s.expires_at,
        ))
        .unwrap();
    assert!(matches!(
        svc.refresh(&access).await,
        Err(AuthError::InvalidToken(TokenRejection::WrongType))
    ));
    let token = refresh_token_for(&svc, &u, &s);
    assert!(matches!(
        svc.refresh(&token).await,
        Err(AuthError::InvalidToken(TokenRejection::UserGone))
    ));
}

#[tokio::test]
async fn authenticate_consults_the_revocation_list() {
    let mut m = Mocks::new();
    let u = user(true);
    let s = session_for(&u);
    let revoked = s.id;
    m.revocations
        .expect_is_session_revoked()
        .returning(move |sid| Ok(sid == revoked));
    let (svc, _) = m.service();
    let make = |sid| {
        let exp = Utc::now() + chrono::Duration::minutes(5);
        svc.codec()
            .encode(&svc.codec().claims(
                TokenKind::Access,
                u.id,
                u.roles.as_slice(),
                u.tier,
                sid,
                Utc::now(),
                exp,
            ))
            .unwrap()
    };
    assert!(matches!(
        svc.authenticate(&make(s.id), "req-1", None).await,
        Err(AuthError::InvalidToken(TokenRejection::Revoked))
    ));
    let sid = Uuid::new_v4();
    let trace = ainative_domain::TraceParent::parse(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    );
    let ctx = svc
        .authenticate(&make(sid), "req-7", trace.clone())
        .await
        .unwrap();
    assert_eq!(ctx.user_id, u.id);
    assert!(ctx.has_role(Role::Student));
    assert_eq!(ctx.session_id(), sid);
    assert_eq!(ctx.request_id, "req-7");
    assert_eq!(ctx.trace, trace);
    assert_eq!(
        ctx.scopes,
        ainative_domain::Scopes::for_roles(&ainative_domain::RoleSet::student()),
        "a token holds every scope its roles allow"
    );
}

#[tokio::test]
async fn authenticate_fails_closed_when_revocations_are_unavailable() {
    let mut m = Mocks::new();
    m.revocations
        .expect_is_session_revoked()
        .returning(|_| Err(PortError::Unavailable("down".into())));
    let (svc, _) = m.service();
    let u = user(true);
    let exp = Utc::now() + chrono::Duration::minutes(5);
    let token = svc
        .codec()
        .encode(&svc.codec().claims(
            TokenKind::Access,
            u.id,
            &[Role::Student],
            u.tier,
            Uuid::new_v4(),
            Utc::now(),
            exp,
        ))
        .unwrap();
    assert!(matches!(
        svc.authenticate(&token, "req-1", None).await,
        Err(AuthError::Unavailable(_))
    ));
}

fn principal_of(u: &User) -> ainative_domain::RequestContext {
    ainative_domain::RequestContext::for_access_token(
        u.id,
        u.roles.clone(),
        u.tier,
        Uuid::new_v4(),
        Uuid::new_v4(),
        "req-1",
        None,
    )
}

#[tokio::test]
async fn change_password_revokes_old_sessions_and_starts_a_new_one() {
    let mut m = Mocks::new();
    allow_attempts(&mut m);
    let u = user(true);
    let uc = u.clone();
    let old_sessions = vec![Uuid::new_v4(), Uuid::new_v4()];
    let expected = old_sessions.clone();
    m.users
        .expect_find_by_id()
        .returning(move |_| Ok(Some(uc.clone())));
    m.throttle.expect_reset().returning(|_| Ok(()));
    m.users
        .expect_change_password()
        .withf(|_, hash, _| hash == "plain:Better8Stallion")
        .times(1)
        .returning(move |_, _, _| Ok(old_sessions.clone()));
    m.revocations
        .expect_revoke_session()
        .withf(move |sid, _| expected.contains(sid))
        .times(2)
        .returning(|_, _| Ok(()));
    m.sessions.expect_start().times(1).returning(|_, _| Ok(()));
    let (svc, _) = m.service();
    svc.change_password(&principal_of(&u), "Correct7Horse", "Better8Stallion")
        .await
        .unwrap();
}

#[tokio::test]
async fn change_password_wrong_current_or_weak_new_is_422() {
    let mut m = Mocks::new();
    allow_attempts(&mut m);
    let u = user(true);
    let uc = u.clone();
    m.users
        .expect_find_by_id()
        .returning(move |_| Ok(Some(uc.clone())));
    m.throttle.expect_reset().returning(|_| Ok(()));
    let (svc, _) = m.service();
    let p = principal_of(&u);
    let err = svc
        .change_password(&p, "Wrong7Horse", "Better8Stallion")
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::Validation(e) if e.0[0].field == "current_password"));
    let err = svc
        .change_password(&p, "Correct7Horse", "Password1")
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::Validation(e) if e.0[0].field == "new_password"));
    let err = svc
        .change_password(&p, "Correct7Horse", "Correct7Horse")
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::Validation(e) if e.0[0].field == "new_password"));
}

#[tokio::test]
async fn logout_revokes_durably_then_in_the_fast_list() {
    let mut m = Mocks::new();
    let u = user(true);
    let p = principal_of(&u);
    let sid = p.session_id();
    let mut seq = mockall::Sequence::new();
    m.sessions
        .expect_revoke()
        .withf(move |id, _| *id == sid)
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _| Ok(true));
    m.revocations
        .expect_revoke_session()
        .withf(move |id, _| *id == sid)
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _| Ok(()));
    let (svc, _) = m.service();
    svc.logout(&p).await.unwrap();
}
