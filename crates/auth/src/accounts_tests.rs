//! Unit tests of the account flows against mockall mocks of the ports.

use std::sync::Arc;
use std::time::Duration;

use ainative_domain::{Email, PasswordPolicy, RoleSet, Tier, User, Username};
use ainative_ports::{
    AccountToken, Enqueued, MockAccountTokenRepository, MockAuthSessionRepository, MockClock,
    MockJobQueue, MockLoginThrottle, MockRateLimiter, MockRevocationList, MockUserRepository,
    PortError, RateDecision, TokenPurpose,
};
use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use secrecy::SecretString;
use uuid::Uuid;

use super::*;
use crate::account_token::{generate, password_fingerprint};
use crate::{AuthConfig, AuthDeps, JwtSettings, PasswordHasher};

struct PlainHasher;

#[async_trait]
impl PasswordHasher for PlainHasher {
    async fn hash(&self, password: &str) -> Result<String, AuthError> {
        Ok(format!("plain:{password}"))
    }
    async fn verify(&self, password: &str, hash: &str) -> Result<bool, AuthError> {
        Ok(hash == format!("plain:{password}"))
    }
    async fn verify_dummy(&self, _password: &str) -> Result<(), AuthError> {
        Ok(())
    }
}

fn now() -> DateTime<Utc> {
    Utc.timestamp_opt(Utc::now().timestamp(), 0).unwrap()
}

fn user(verified: bool) -> User {
    User {
        id: Uuid::new_v4(),
        email: Email::parse("ada@example.com").unwrap(),
        username: Username::parse("ada").unwrap(),
        full_name: "Ada".into(),
        student_id: None,
        roles: RoleSet::student(),
        tier: Tier::Free,
        is_active: true,
        is_verified: verified,
        password_hash: "plain:Correct7Horse".into(),
        last_login: None,
        login_count: 0,
        created_at: now(),
        updated_at: now(),
    }
}

#[derive(Default)]
struct Mocks {
    users: MockUserRepository,
    sessions: MockAuthSessionRepository,
    revocations: MockRevocationList,
    tokens: MockAccountTokenRepository,
    jobs: MockJobQueue,
    limiter: MockRateLimiter,
    require_verified: bool,
}

impl Mocks {
    fn service(self) -> Arc<AccountService> {
        let mut clock = MockClock::new();
        let at = now();
        clock.expect_now().returning(move || at);
        let deps = AuthDeps {
            users: Arc::new(self.users),
            sessions: Arc::new(self.sessions),
            revocations: Arc::new(self.revocations),
            throttle: Arc::new(MockLoginThrottle::new()),
            hasher: Arc::new(PlainHasher),
            clock: Arc::new(clock),
            user_cache: crate::UserCache::default(),
        };
        let auth = Arc::new(AuthService::new(
            deps,
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
                refresh_reuse_grace: Duration::ZERO,
                login_attempts_limit: 10,
            },
        ));
        Arc::new(AccountService::new(
            auth,
            AccountDeps {
                tokens: Arc::new(self.tokens),
                jobs: Arc::new(self.jobs),
                limiter: Arc::new(self.limiter),
            },
            AccountConfig {
                product_name: "ainative".into(),
                public_base_url: "http://localhost:8000".into(),
                reset_ttl: Duration::from_secs(3600),
                verification_ttl: Duration::from_secs(86_400),
                mail_per_address: 5,
                mail_per_ip: 20,
                require_verified_email: self.require_verified,
            },
        ))
    }
}

fn stored_token(user: &User, purpose: TokenPurpose, fingerprint: String) -> AccountToken {
    AccountToken {
        id: Uuid::new_v4(),
        user_id: user.id,
        purpose,
        password_fingerprint: fingerprint,
        sent_to: user.email.as_str().to_owned(),
        expires_at: now() + chrono::Duration::minutes(60),
    }
}

#[tokio::test]
async fn malformed_tokens_never_reach_the_store() {
    // No expectations: any call to a port would panic.
    let service = Mocks::default().service();
    for bad in ["", "short", &"A".repeat(44), &"*".repeat(43)] {
        assert!(matches!(
            service.verify_email(bad).await,
            Err(AuthError::InvalidAccountToken)
        ));
        assert!(matches!(
            service.reset_password(bad, "N3w-Passphrase").await,
            Err(AuthError::InvalidAccountToken)
        ));
    }
}

#[tokio::test]
async fn a_reset_consumes_the_token_revokes_sessions_and_starts_a_new_one() {
    let ada = user(false);
    let token = generate();
    let mut mocks = Mocks::default();
    let found = stored_token(
        &ada,
        TokenPurpose::ResetPassword,
        password_fingerprint(&ada.password_hash),
    );
    let token_id = found.id;
    let hash = token.hash.clone();
    mocks
        .tokens
        .expect_find_valid()
        .withf(move |purpose, h, _| *purpose == TokenPurpose::ResetPassword && h == hash)
        .return_once(move |_, _, _| Ok(Some(found)));
    let stored = ada.clone();
    mocks
        .users
        .expect_find_by_id()
        .return_once(move |_| Ok(Some(stored)));
    let old_session = Uuid::new_v4();
    mocks
        .tokens
        .expect_redeem_reset()
        .withf(move |id, _, hash, audit| {
            *id == token_id
                && hash == "plain:N3w-Passphrase"
                && audit.action == ainative_domain::AuditAction::PasswordReset
        })
        .return_once(move |_, _, _, _| Ok(vec![old_session]));
    mocks
        .revocations
        .expect_revoke_session()
        .withf(move |id, _| *id == old_session)
        .times(1)
        .returning(|_, _| Ok(()));
    mocks
        .sessions
        .expect_start()
        .times(1)
        .returning(|_, _| Ok(()));
    let pair = mocks
        .service()
        .reset_password(&token.value, "N3w-Passphrase")
        .await
        .unwrap();
    assert_eq!(pair.token_type, "bearer");
}

#[tokio::test]
async fn a_token_issued_under_another_password_is_dead() {
    let ada = user(false);
    let token = generate();
    let mut mocks = Mocks::default();
    let found = stored_token(
        &ada,
        TokenPurpose::ResetPassword,
        password_fingerprint("plain:Old1Password"),
    );
    mocks
        .tokens
        .expect_find_valid()
        .return_once(move |_, _, _| Ok(Some(found)));
    mocks
        .users
        .expect_find_by_id()
        .return_once(move |_| Ok(Some(ada)));
    // No redeem expectation: consuming it would panic.
    assert!(matches!(
        mocks
            .service()
            .reset_password(&token.value, "N3w-Passphrase")
            .await,
        Err(AuthError::InvalidAccountToken)
    ));
}

#[tokio::test]
async fn a_token_consumed_concurrently_is_invalid() {
    let ada = user(false);
    let token = generate();
    let mut mocks = Mocks::default();
    let found = stored_token(
        &ada,
        TokenPurpose::VerifyEmail,
        password_fingerprint(&ada.password_hash),
    );
    mocks
        .tokens
        .expect_find_valid()
        .return_once(move |_, _, _| Ok(Some(found)));
    mocks
        .users
        .expect_find_by_id()
        .return_once(move |_| Ok(Some(ada)));
    mocks
        .tokens
        .expect_redeem_verification()
        .return_once(|_, _, _| Err(PortError::NotFound));
    assert!(matches!(
        mocks.service().verify_email(&token.value).await,
        Err(AuthError::InvalidAccountToken)
    ));
}

#[tokio::test]
async fn weak_new_passwords_are_refused_before_hashing_or_consuming() {
    let ada = user(true);
    let token = generate();
    let mut mocks = Mocks::default();
    let found = stored_token(
        &ada,
        TokenPurpose::ResetPassword,
        password_fingerprint(&ada.password_hash),
    );
    mocks
        .tokens
        .expect_find_valid()
        .return_once(move |_, _, _| Ok(Some(found)));
    mocks
        .users
        .expect_find_by_id()
        .return_once(move |_| Ok(Some(ada)));
    let err = mocks
        .service()
        .reset_password(&token.value, "Password1")
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::Validation(_)), "{err:?}");
}

#[tokio::test]
async fn the_ip_budget_refuses_reset_requests_with_429() {
    let mut mocks = Mocks::default();
    mocks.limiter.expect_check().returning(|_, limit, _| {
        Ok(RateDecision {
            allowed: false,
            limit,
            remaining: 0,
            reset_secs: 1200,
        })
    });
    let err = mocks
        .service()
        .request_password_reset("ada@example.com", Some([10, 0, 0, 1].into()))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        AuthError::MailThrottled {
            retry_after_secs: 1200
        }
    ));
}

#[tokio::test]
async fn a_malformed_address_is_a_validation_error() {
    let err = Mocks::default()
        .service()
        .request_password_reset("not-an-address", None)
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::Validation(_)));
}

#[tokio::test]
async fn verification_is_required_only_when_configured() {
    let ctx = |id| {
        ainative_domain::RequestContext::for_access_token(
            id,
            RoleSet::student(),
            Tier::Free,
            Uuid::new_v4(),
            Uuid::new_v4(),
            "req",
            None,
        )
    };
    let ada = user(false);
    let id = ada.id;
    assert!(Mocks::default()
        .service()
        .ensure_verified(&ctx(id))
        .await
        .is_ok());
    let mut mocks = Mocks {
        require_verified: true,
        ..Mocks::default()
    };
    mocks
        .users
        .expect_find_by_id()
        .return_once(move |_| Ok(Some(ada)));
    assert!(matches!(
        mocks.service().ensure_verified(&ctx(id)).await,
        Err(AuthError::EmailNotVerified)
    ));
}

fn allow_all(limiter: &mut MockRateLimiter) {
    limiter.expect_check().returning(|_, limit, _| {
        Ok(RateDecision {
            allowed: true,
            limit,
            remaining: limit,
            reset_secs: 3600,
        })
    });
}

/// The payloads of the jobs a service queued.
fn record_jobs(jobs: &mut MockJobQueue) -> Arc<std::sync::Mutex<Vec<ainative_ports::NewJob>>> {
    let seen: Arc<std::sync::Mutex<Vec<ainative_ports::NewJob>>> = Arc::default();
    let store = seen.clone();
    jobs.expect_enqueue().returning(move |job| {
        let id = job.id;
        store.lock().unwrap().push(job);
        Ok(Enqueued { id, created: true })
    });
    seen
}

#[tokio::test]
async fn a_reset_request_queues_the_same_tokenless_job_for_any_address() {
    // No user look-up on the request path: the users mock has no expectation.
    let mut mocks = Mocks::default();
    allow_all(&mut mocks.limiter);
    let jobs = record_jobs(&mut mocks.jobs);
    let service = mocks.service();
    for address in ["Ada@Example.com", "nobody@example.com"] {
        service
            .request_password_reset(address, Some([10, 0, 0, 1].into()))
            .await
            .unwrap();
    }
    let jobs = jobs.lock().unwrap();
    assert_eq!(jobs.len(), 2);
    for job in jobs.iter() {
        assert_eq!(job.kind, "mail.send");
        assert_eq!(job.max_attempts, crate::MAIL_MAX_ATTEMPTS);
    }
    assert_eq!(
        jobs[0].payload,
        serde_json::json!({"purpose": "reset_password", "email": "ada@example.com"})
    );
    assert_eq!(
        jobs[1].payload,
        serde_json::json!({"purpose": "reset_password", "email": "nobody@example.com"})
    );
}

#[tokio::test]
async fn registration_queues_a_verification_job_and_survives_a_queue_failure() {
    let ada = user(false);
    let mut mocks = Mocks::default();
    allow_all(&mut mocks.limiter);
    let jobs = record_jobs(&mut mocks.jobs);
    mocks.service().welcome(&ada).await;
    assert_eq!(
        jobs.lock().unwrap()[0].payload,
        serde_json::json!({"purpose": "verify_email", "user_id": ada.id})
    );

    let mut mocks = Mocks::default();
    allow_all(&mut mocks.limiter);
    mocks
        .jobs
        .expect_enqueue()
        .times(1)
        .returning(|_| Err(PortError::Unavailable(ainative_ports::Cause::new("down"))));
    // Logged, not raised: the registration stands.
    mocks.service().welcome(&ada).await;
}

#[tokio::test]
async fn an_address_over_its_budget_queues_nothing_and_answers_the_same() {
    let mut mocks = Mocks::default();
    mocks.limiter.expect_check().returning(|key, limit, _| {
        Ok(RateDecision {
            allowed: key.starts_with("mail:ip:"),
            limit,
            remaining: 0,
            reset_secs: 600,
        })
    });
    // No enqueue expectation: queueing would panic.
    mocks
        .service()
        .request_password_reset("ada@example.com", Some([10, 0, 0, 1].into()))
        .await
        .unwrap();
}
