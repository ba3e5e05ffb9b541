//! Unit tests of the `mail.send` handler against mockall mocks of the ports.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ainative_domain::{Email, RoleSet, Tier, User, Username};
use ainative_ports::{
    Cause, MailError, MockAccountTokenRepository, MockClock, MockMailer, MockUserRepository,
    OutgoingMail, TokenPurpose,
};
use chrono::{TimeZone, Utc};
use uuid::Uuid;

use super::*;

fn user(verified: bool) -> User {
    let at = Utc.timestamp_opt(1_800_000_000, 0).unwrap();
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
        created_at: at,
        updated_at: at,
    }
}

#[derive(Default)]
struct Mocks {
    users: MockUserRepository,
    tokens: MockAccountTokenRepository,
    mailer: MockMailer,
}

impl Mocks {
    fn handler(self) -> AccountMailer {
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .returning(|| Utc.timestamp_opt(1_800_000_000, 0).unwrap());
        AccountMailer::new(
            AccountMailerDeps {
                users: Arc::new(self.users),
                tokens: Arc::new(self.tokens),
                mailer: Arc::new(self.mailer),
                clock: Arc::new(clock),
            },
            AccountConfig {
                product_name: "ainative".into(),
                public_base_url: "https://app.example.com".into(),
                reset_ttl: Duration::from_secs(3600),
                verification_ttl: Duration::from_secs(86_400),
                mail_per_address: 5,
                mail_per_ip: 20,
                require_verified_email: false,
            },
        )
    }
}

/// The token in a mail's link.
fn token_in(mail: &OutgoingMail) -> String {
    let start = mail.text.find("token=").expect("a link") + "token=".len();
    mail.text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

#[test]
fn job_payloads_carry_no_secret() {
    let id = Uuid::new_v4();
    let at = Utc::now();
    let job = MailJob::VerifyEmail { user_id: id }.to_job(at);
    assert_eq!(job.kind, MAIL_JOB_KIND);
    assert_eq!(job.max_attempts, MAIL_MAX_ATTEMPTS);
    assert_eq!(
        job.payload,
        serde_json::json!({"purpose": "verify_email", "user_id": id})
    );
    let reset = MailJob::ResetPassword {
        email: "ada@example.com".into(),
    };
    let payload = reset.to_job(at).payload;
    assert_eq!(serde_json::from_value::<MailJob>(payload).unwrap(), reset);
    // Unknown fields (say a token smuggled in by an old producer) are refused.
    assert!(serde_json::from_value::<MailJob>(
        serde_json::json!({"purpose": "verify_email", "user_id": id, "token": "x"})
    )
    .is_err());
}

#[tokio::test]
async fn a_verification_job_issues_a_hashed_token_and_sends_its_link() {
    let ada = user(false);
    let id = ada.id;
    let mut mocks = Mocks::default();
    mocks
        .users
        .expect_find_by_id()
        .withf(move |u| *u == id)
        .return_once(move |_| Ok(Some(ada)));
    let stored: Arc<Mutex<Option<String>>> = Arc::default();
    let keep = stored.clone();
    mocks.tokens.expect_issue().times(1).returning(move |t| {
        assert_eq!(t.purpose, TokenPurpose::VerifyEmail);
        assert_eq!(t.expires_at - t.created_at, chrono::Duration::hours(24));
        *keep.lock().unwrap() = Some(t.token_hash);
        Ok(())
    });
    let sent: Arc<Mutex<Vec<OutgoingMail>>> = Arc::default();
    let outbox = sent.clone();
    mocks.mailer.expect_send().times(1).returning(move |m| {
        outbox.lock().unwrap().push(m.clone());
        Ok(())
    });
    let handler = mocks.handler();
    let delivery = handler
        .run_payload(serde_json::json!({"purpose": "verify_email", "user_id": id}))
        .await
        .unwrap();
    assert_eq!(delivery, Delivery::Sent);
    let mail = sent.lock().unwrap()[0].clone();
    assert_eq!(mail.to, "ada@example.com");
    assert!(mail
        .text
        .contains("https://app.example.com/verify-email?token="));
    // Only the hash of the link's token was stored.
    let token = token_in(&mail);
    let hash = crate::account_token::hash(&token);
    assert_eq!(stored.lock().unwrap().as_deref(), Some(hash.as_str()));
}

#[tokio::test]
async fn nothing_is_sent_for_unknown_inactive_or_verified_accounts() {
    let mut mocks = Mocks::default();
    mocks.users.expect_find_by_login().return_once(|_| Ok(None));
    // No token or mailer expectation: issuing or sending would panic.
    let handler = mocks.handler();
    let job = MailJob::ResetPassword {
        email: "nobody@example.com".into(),
    };
    assert_eq!(handler.run(job).await.unwrap(), Delivery::Skipped);

    let verified = user(true);
    let mut mocks = Mocks::default();
    let id = verified.id;
    mocks
        .users
        .expect_find_by_id()
        .return_once(move |_| Ok(Some(verified)));
    let job = MailJob::VerifyEmail { user_id: id };
    assert_eq!(mocks.handler().run(job).await.unwrap(), Delivery::Skipped);

    // A username that happens to look like the address asked for is not the address.
    let mut other = user(false);
    other.email = Email::parse("someone@example.com").unwrap();
    let mut mocks = Mocks::default();
    mocks
        .users
        .expect_find_by_login()
        .return_once(move |_| Ok(Some(other)));
    let job = MailJob::ResetPassword {
        email: "ada@example.com".into(),
    };
    assert_eq!(mocks.handler().run(job).await.unwrap(), Delivery::Skipped);
}

#[tokio::test]
async fn a_refusal_is_permanent_and_an_outage_is_retried() {
    for (error, permanent) in [
        (MailError::Rejected(Cause::new("550 no such user")), true),
        (
            MailError::Unavailable(Cause::new("connection refused")),
            false,
        ),
    ] {
        let ada = user(false);
        let mut mocks = Mocks::default();
        mocks
            .users
            .expect_find_by_login()
            .return_once(move |_| Ok(Some(ada)));
        mocks.tokens.expect_issue().returning(|_| Ok(()));
        mocks.mailer.expect_send().return_once(move |_| Err(error));
        let job = MailJob::ResetPassword {
            email: "ada@example.com".into(),
        };
        let err = mocks.handler().run(job).await.unwrap_err();
        assert_eq!(err.is_permanent(), permanent, "{err:?}");
    }
    let err = Mocks::default()
        .handler()
        .run_payload(serde_json::json!({"purpose": "send_everything"}))
        .await
        .unwrap_err();
    assert!(err.is_permanent());
}

#[tokio::test]
async fn a_user_deleted_before_the_token_gets_nothing_and_no_retry() {
    let ada = user(false);
    let id = ada.id;
    let mut mocks = Mocks::default();
    mocks
        .users
        .expect_find_by_id()
        .return_once(move |_| Ok(Some(ada)));
    mocks
        .tokens
        .expect_issue()
        .return_once(|_| Err(ainative_ports::PortError::NotFound));
    // No mailer expectation: sending would panic.
    let job = MailJob::VerifyEmail { user_id: id };
    assert_eq!(mocks.handler().run(job).await.unwrap(), Delivery::Skipped);
}
