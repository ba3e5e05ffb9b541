//! Unit tests of the social-login use cases against mockall mocks of the ports.

use std::sync::Arc;

use ainative_domain::{Email, PasswordPolicy, RoleSet, Tier, Username};
use ainative_ports::{
    AuthorizationStart, MockAuthSessionRepository, MockClock, MockIdentityProvider,
    MockLoginThrottle, MockOAuthStore, MockRevocationList, MockUserRepository,
};
use async_trait::async_trait;
use chrono::TimeZone;
use secrecy::SecretString;

use super::*;
use crate::{AuthConfig, AuthDeps, AuthError, JwtSettings, PasswordHasher};

struct NoHasher;

#[async_trait]
impl PasswordHasher for NoHasher {
    async fn hash(&self, _: &str) -> Result<String, AuthError> {
        unreachable!("social login never hashes")
    }
    async fn verify(&self, _: &str, _: &str) -> Result<bool, AuthError> {
        unreachable!("social login never verifies a password")
    }
    async fn verify_dummy(&self, _: &str) -> Result<(), AuthError> {
        Ok(())
    }
}

fn now() -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000, 0).unwrap()
}

fn clock() -> Arc<MockClock> {
    let mut clock = MockClock::new();
    clock.expect_now().returning(now);
    Arc::new(clock)
}

/// An identity service that must not be reached by the cases here.
fn auth() -> Arc<AuthService> {
    let deps = AuthDeps {
        users: Arc::new(MockUserRepository::new()),
        sessions: Arc::new(MockAuthSessionRepository::new()),
        revocations: Arc::new(MockRevocationList::new()),
        throttle: Arc::new(MockLoginThrottle::new()),
        hasher: Arc::new(NoHasher),
        clock: clock(),
        user_cache: crate::UserCache::default(),
    };
    let config = AuthConfig {
        jwt: JwtSettings {
            secret: SecretString::from("test-secret-test-secret-test-secret".to_owned()),
            signing_key: None,
            previous_keys: Vec::new(),
            issuer: "ainative".into(),
            audience: "ainative-api".into(),
            access_ttl: Duration::from_secs(1800),
            refresh_ttl: Duration::from_secs(86400),
        },
        password_policy: PasswordPolicy::new(8),
        refresh_reuse_grace: Duration::ZERO,
        login_attempts_limit: 10,
    };
    Arc::new(AuthService::new(deps, config))
}

const BACK: &str = "https://app.example/done";

fn service(
    provider: MockIdentityProvider,
    store: MockOAuthStore,
    users: MockUserRepository,
) -> OAuthService {
    let mut providers: BTreeMap<String, Arc<dyn IdentityProvider>> = BTreeMap::new();
    providers.insert("acme".into(), Arc::new(provider));
    OAuthService::new(
        providers,
        Arc::new(store),
        Arc::new(users),
        auth(),
        clock(),
        OAuthConfig {
            redirect_allowlist: vec![BACK.into()],
            public_base_url: "https://api.example/".into(),
            flow_ttl: Duration::from_secs(600),
            login_code_ttl: Duration::from_secs(60),
        },
    )
}

fn flow(provider: &str, cookie: &str) -> OAuthFlow {
    OAuthFlow {
        state_hash: sha256_hex("the-state"),
        provider: provider.into(),
        pkce_verifier: "verifier".into(),
        nonce: Some("nonce".into()),
        redirect_uri: BACK.into(),
        browser_hash: sha256_hex(cookie),
        link_user_id: None,
        created_at: now(),
        expires_at: now() + chrono::Duration::seconds(600),
    }
}

fn input(cookie: &str) -> CallbackInput {
    CallbackInput {
        code: Some("the-code".into()),
        state: Some("the-state".into()),
        error: None,
        browser_binding: Some(cookie.into()),
    }
}

fn identity(email: &str) -> ProviderIdentity {
    ProviderIdentity {
        subject: "sub-1".into(),
        email: Some(email.into()),
        email_verified: true,
        name: Some("Ada".into()),
        preferred_username: Some("ada".into()),
    }
}

fn stored_user(id: Uuid, email: &str) -> User {
    User {
        id,
        email: Email::parse(email).unwrap(),
        username: Username::parse("ada").unwrap(),
        full_name: "Ada".into(),
        student_id: None,
        roles: RoleSet::student(),
        tier: Tier::Free,
        is_active: true,
        is_verified: true,
        password_hash: User::NO_PASSWORD.into(),
        last_login: None,
        login_count: 0,
        created_at: now(),
        updated_at: now(),
    }
}

#[tokio::test]
async fn start_stores_hashes_and_the_callback_url_from_configuration() {
    let mut provider = MockIdentityProvider::new();
    provider
        .expect_start()
        .withf(|callback| callback == "https://api.example/api/v1/auth/oauth/acme/callback")
        .returning(|_| {
            Ok(AuthorizationStart {
                url: "https://idp/authorize?x".into(),
                state: "s".into(),
                pkce_verifier: "v".into(),
                nonce: Some("n".into()),
            })
        });
    let mut store = MockOAuthStore::new();
    store
        .expect_save_flow()
        .withf(|f| {
            f.state_hash == sha256_hex("s")
                && f.pkce_verifier == "v"
                && f.nonce.as_deref() == Some("n")
                && f.expires_at == now() + chrono::Duration::seconds(600)
                && f.link_user_id.is_none()
        })
        .returning(|_| Ok(()));
    let svc = service(provider, store, MockUserRepository::new());
    let started = svc.start("acme", BACK, None).await.unwrap();
    assert_eq!(started.authorization_url, "https://idp/authorize?x");
    assert_eq!(started.browser_binding.len(), 64);
    assert_eq!(started.expires_in, 600);
}

#[tokio::test]
async fn start_refuses_unknown_providers_and_redirects_before_any_call() {
    let svc = service(
        MockIdentityProvider::new(),
        MockOAuthStore::new(),
        MockUserRepository::new(),
    );
    assert!(matches!(
        svc.start("other", BACK, None).await,
        Err(OAuthError::UnknownProvider)
    ));
    for redirect in ["https://app.example/done/", "https://evil.example/done", ""] {
        assert!(matches!(
            svc.start("acme", redirect, None).await,
            Err(OAuthError::RedirectNotAllowed)
        ));
    }
}

#[tokio::test]
async fn a_callback_is_refused_before_the_provider_unless_state_cookie_and_provider_match() {
    for (stored, cookie, error) in [
        (None, "c", None),
        (Some(flow("acme", "c")), "other-cookie", None),
        (Some(flow("github", "c")), "c", None),
        (Some(flow("acme", "c")), "c", Some("access_denied")),
    ] {
        let mut store = MockOAuthStore::new();
        store
            .expect_take_flow()
            .times(1)
            .returning(move |_, _| Ok(stored.clone()));
        // No expectation on the provider: reaching it would panic.
        let svc = service(
            MockIdentityProvider::new(),
            store,
            MockUserRepository::new(),
        );
        let mut call = input(cookie);
        call.error = error.map(Into::into);
        let err = svc.callback("acme", call).await.unwrap_err();
        match error {
            Some(_) => assert!(matches!(err, OAuthError::Denied(_)), "{err:?}"),
            None => assert!(matches!(err, OAuthError::InvalidState), "{err:?}"),
        }
    }
}

#[tokio::test]
async fn an_address_of_a_local_account_is_not_linked() {
    let mut store = MockOAuthStore::new();
    store
        .expect_take_flow()
        .returning(|_, _| Ok(Some(flow("acme", "c"))));
    store.expect_find_account().returning(|_, _| Ok(None));
    store.expect_create_user_with_account().never();
    store.expect_link_account().never();
    let mut provider = MockIdentityProvider::new();
    provider
        .expect_identify()
        .returning(|_, _, _, _| Ok(identity("ada@example.com")));
    let mut users = MockUserRepository::new();
    users
        .expect_find_by_login()
        .withf(|login| login == "ada@example.com")
        .returning(|_| Ok(Some(stored_user(Uuid::new_v4(), "ada@example.com"))));
    let svc = service(provider, store, users);
    let err = svc.callback("acme", input("c")).await.unwrap_err();
    assert!(matches!(err, OAuthError::AccountExists), "{err:?}");
}

#[tokio::test]
async fn a_new_identity_creates_a_student_without_password_retrying_a_taken_username() {
    let mut store = MockOAuthStore::new();
    store
        .expect_take_flow()
        .returning(|_, _| Ok(Some(flow("acme", "c"))));
    store.expect_find_account().returning(|_, _| Ok(None));
    let mut attempts = 0;
    store
        .expect_create_user_with_account()
        .times(2)
        .returning(move |user, account, audit| {
            attempts += 1;
            if attempts == 1 {
                assert_eq!(user.username.as_str(), "ada");
                return Err(PortError::Conflict(Conflict::Username));
            }
            assert!(user.username.as_str().starts_with("ada-"));
            assert_eq!(user.password_hash, User::NO_PASSWORD);
            assert_eq!(user.roles, RoleSet::student());
            assert!(user.is_verified);
            assert_eq!(account.user_id, user.id);
            assert_eq!(account.provider_user_id, "sub-1");
            assert_eq!(audit.action, AuditAction::OAuthSignUp);
            Ok(stored_user(user.id, "ada@example.com"))
        });
    store
        .expect_save_login_code()
        .withf(|c| c.expires_at == now() + chrono::Duration::seconds(60) && c.code_hash.len() == 64)
        .returning(|_| Ok(()));
    let mut provider = MockIdentityProvider::new();
    provider
        .expect_identify()
        .withf(|code, verifier, nonce, _| {
            code == "the-code" && verifier == "verifier" && nonce.as_deref() == Some("nonce")
        })
        .returning(|_, _, _, _| Ok(identity("ada@example.com")));
    let mut users = MockUserRepository::new();
    users.expect_find_by_login().returning(|_| Ok(None));
    let svc = service(provider, store, users);
    let target = svc.callback("acme", input("c")).await.unwrap();
    let code = target.strip_prefix(&format!("{BACK}?code=")).unwrap();
    assert_eq!(code.len(), 64);
}

#[tokio::test]
async fn unlinking_the_last_way_to_sign_in_is_refused() {
    let mut store = MockOAuthStore::new();
    store
        .expect_unlink_account()
        .returning(|_, _, _| Ok(UnlinkOutcome::LastSignInMethod));
    let svc = service(
        MockIdentityProvider::new(),
        store,
        MockUserRepository::new(),
    );
    let ctx = RequestContext::for_access_token(
        Uuid::new_v4(),
        RoleSet::student(),
        Tier::Free,
        Uuid::new_v4(),
        Uuid::new_v4(),
        "req",
        None,
    );
    assert!(matches!(
        svc.unlink(&ctx, Uuid::new_v4()).await,
        Err(OAuthError::LastSignInMethod)
    ));
}

#[test]
fn parameters_are_added_before_the_fragment() {
    assert_eq!(with_param("https://a/x", "code", "1"), "https://a/x?code=1");
    assert_eq!(
        with_param("https://a/x?y=2", "code", "1"),
        "https://a/x?y=2&code=1"
    );
    assert_eq!(
        with_param("https://a/x#f", "code", "1"),
        "https://a/x?code=1#f"
    );
}
