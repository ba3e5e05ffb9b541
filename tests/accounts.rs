//! End-to-end tests of the mail flows (SPEC §10.1) on SQLite and PostgreSQL: the server
//! queues `mail.send` jobs, its workers send real SMTP to a sink on loopback, and the tests
//! follow the links in what it received.

use std::time::Duration;

use ainative_domain::Page;
use ainative_ports::{Clock, Job, JobFilter, JobState};
use ainative_server::database::Database;
use ainative_server::sweep::SweepTargets;
use ainative_server::workers::run_worker;
use ainative_test_support::fixtures::{data, login};
use ainative_test_support::{
    expect_error, free_port, json_of, wait_for, wait_until, Backend, ReceivedMail, SmtpSink,
    TestApp, PASSWORD,
};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

const MAIL_WAIT: Duration = Duration::from_secs(20);
const NEW_PASSWORD: &str = "Differential9Engine";

/// One test per backend for a case `fn(Backend)`.
macro_rules! on_both {
    ($($case:ident),+ $(,)?) => {
        $(
            mod $case {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$case(ainative_test_support::Backend::Sqlite).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$case(ainative_test_support::Backend::Postgres).await;
                }
            }
        )+
    };
}

async fn app_with_sink(backend: Backend, sink: &SmtpSink, extra: &[(&str, &str)]) -> TestApp {
    let url = sink.url();
    let mut overrides = vec![
        ("MAIL_TRANSPORT", "smtp"),
        ("SMTP_URL", url.as_str()),
        ("PUBLIC_BASE_URL", "https://tutor.example.com/"),
        ("PRODUCT_NAME", "Tutor Test"),
        // Quick retries and polls: mail goes through the job queue.
        ("JOB_POLL_MS", "100"),
        ("JOB_BACKOFF_BASE_SECS", "1"),
        ("JOB_BACKOFF_MAX_SECS", "2"),
    ];
    overrides.extend_from_slice(extra);
    TestApp::spawn_with(backend, &overrides).await
}

/// The first mail to `to` whose subject contains `subject`.
async fn mail_about(sink: &SmtpSink, to: &str, subject: &str) -> ReceivedMail {
    ainative_test_support::wait_for(
        MAIL_WAIT,
        &format!("a '{subject}' mail to {to}"),
        || async {
            sink.messages_to(to)
                .into_iter()
                .find(|m| m.decoded().contains(subject))
        },
    )
    .await
}

fn token_in(mail: &ReceivedMail, page: &str) -> String {
    let text = mail.decoded();
    assert!(
        text.contains(&format!("https://tutor.example.com/{page}?token=")),
        "{text}"
    );
    mail.query_param("token").expect("a token in the link")
}

async fn verify(app: &TestApp, token: &str) -> reqwest::Response {
    app.post(
        "/api/v1/auth/verify-email",
        None,
        &json!({ "token": token }),
    )
    .await
}

async fn reset(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    app.post(
        "/api/v1/auth/password-reset",
        None,
        &json!({ "token": token, "new_password": password }),
    )
    .await
}

async fn request_reset(app: &TestApp, email: &str) -> (u16, Value) {
    let res = app
        .post(
            "/api/v1/auth/password-reset/request",
            None,
            &json!({ "email": email }),
        )
        .await;
    let (status, body) = json_of(res).await;
    (status.as_u16(), body)
}

async fn registration_mails_a_link_that_verifies_once(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = app_with_sink(backend, &sink, &[]).await;
    let ada = app.register("ada").await;
    assert_eq!(ada["user"]["is_verified"], false);
    let access = ada["access_token"].as_str().unwrap().to_owned();

    let mail = mail_about(&sink, "ada@example.com", "Confirm your e-mail").await;
    assert!(mail
        .data
        .contains("Subject: Confirm your e-mail address for Tutor Test"));
    assert!(mail.data.contains("multipart/alternative"), "{}", mail.data);
    assert!(mail.data.contains("text/html"), "{}", mail.data);
    let token = token_in(&mail, "verify-email");
    assert!(token.len() >= 22, "at least 128 bits: {token}");

    let user = data(verify(&app, &token).await, 200).await;
    assert_eq!(user["is_verified"], true);
    assert_eq!(user["email"], "ada@example.com");
    let me = data(app.get("/api/v1/auth/me", Some(&access)).await, 200).await;
    assert_eq!(me["is_verified"], true);

    // Single use.
    expect_error(verify(&app, &token).await, 400, "INVALID_TOKEN").await;
    // Verified: asking again sends nothing.
    let res = app
        .post(
            "/api/v1/auth/verify-email/request",
            Some(&access),
            &json!({}),
        )
        .await;
    assert_eq!(data(res, 202).await["sent"], false);
}

async fn verification_can_be_requested_again_and_only_the_newest_link_works(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = app_with_sink(backend, &sink, &[]).await;
    let access = app.token_of("bea").await;
    let first = token_in(
        &sink.wait_for_nth("bea@example.com", 1, MAIL_WAIT).await,
        "verify-email",
    );
    let res = app
        .post(
            "/api/v1/auth/verify-email/request",
            Some(&access),
            &json!({}),
        )
        .await;
    assert_eq!(data(res, 202).await["sent"], true);
    let second = token_in(
        &sink.wait_for_nth("bea@example.com", 2, MAIL_WAIT).await,
        "verify-email",
    );
    assert_ne!(first, second);
    expect_error(verify(&app, &first).await, 400, "INVALID_TOKEN").await;
    data(verify(&app, &second).await, 200).await;
    // Anonymous callers cannot ask.
    let res = app
        .post("/api/v1/auth/verify-email/request", None, &json!({}))
        .await;
    expect_error(res, 401, "UNAUTHORIZED").await;
}

async fn a_reset_link_sets_the_password_and_ends_every_session(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = app_with_sink(backend, &sink, &[]).await;
    let old_access = app.token_of("cyd").await;
    let other_session = login(&app, "cyd").await;

    let (status, body) = request_reset(&app, "CYD@example.com").await;
    assert_eq!(status, 202, "{body}");
    let mail = mail_about(&sink, "cyd@example.com", "Reset your Tutor Test password").await;
    let token = token_in(&mail, "reset-password");

    // The password rules apply, and a refused password leaves the token usable.
    let res = reset(&app, &token, "Password1").await;
    let body = expect_error(res, 422, "VALIDATION_ERROR").await;
    assert_eq!(
        body["error"]["details"][0]["field"], "new_password",
        "{body}"
    );

    let pair = data(reset(&app, &token, NEW_PASSWORD).await, 200).await;
    assert_eq!(pair["token_type"], "bearer");
    let new_access = pair["access_token"].as_str().unwrap().to_owned();

    // Every earlier session ends; the new one works.
    for old in [&old_access, &other_session] {
        wait_until(Duration::from_secs(5), "old tokens are refused", || async {
            app.get("/api/v1/auth/me", Some(old)).await.status() == 401
        })
        .await;
    }
    let me = data(app.get("/api/v1/auth/me", Some(&new_access)).await, 200).await;
    assert_eq!(me["is_verified"], true, "a reset link proves the mailbox");
    let res = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "cyd", "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 401);
    let res = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "cyd", "password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 200);

    // Single use.
    expect_error(
        reset(&app, &token, "Another7Password").await,
        400,
        "INVALID_TOKEN",
    )
    .await;

    // Audited.
    let admin = app.admin("root").await;
    let admin_token = admin["access_token"].as_str().unwrap();
    let audit = data(app.get("/api/v1/admin/audit", Some(admin_token)).await, 200).await;
    let row = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["action"] == "password_reset")
        .cloned()
        .unwrap_or_else(|| panic!("a password_reset row: {audit}"));
    assert_eq!(row["target_id"], me["id"], "{row}");
}

async fn unknown_and_known_addresses_get_the_same_answer(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = app_with_sink(backend, &sink, &[]).await;
    app.register("dan").await;
    sink.wait_for_nth("dan@example.com", 1, MAIL_WAIT).await;
    let unknown = request_reset(&app, "nobody@example.com").await;
    let known = request_reset(&app, "dan@example.com").await;
    assert_eq!(unknown.0, 202);
    assert_eq!(unknown, known, "same status and body");
    mail_about(&sink, "dan@example.com", "Reset your").await;
    assert!(sink.messages_to("nobody@example.com").is_empty());
    // A malformed address is a field error, not an oracle.
    let (status, body) = request_reset(&app, "not-an-address").await;
    assert_eq!(status, 422, "{body}");
}

async fn bad_tokens_all_get_one_answer(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = app_with_sink(backend, &sink, &[]).await;
    let access = app.token_of("eve").await;
    let verify_token = token_in(
        &sink.wait_for_nth("eve@example.com", 1, MAIL_WAIT).await,
        "verify-email",
    );
    let unknown = "A".repeat(43);
    let mut messages = Vec::new();
    for token in [
        "",
        "short",
        "../../etc/passwd",
        unknown.as_str(),
        &"é".repeat(43),
    ] {
        let body = expect_error(verify(&app, token).await, 400, "INVALID_TOKEN").await;
        messages.push(body["error"]["message"].clone());
        let body = expect_error(reset(&app, token, NEW_PASSWORD).await, 400, "INVALID_TOKEN").await;
        messages.push(body["error"]["message"].clone());
    }
    // A verification token is no reset token (and stays usable for its own purpose).
    let body = expect_error(
        reset(&app, &verify_token, NEW_PASSWORD).await,
        400,
        "INVALID_TOKEN",
    )
    .await;
    messages.push(body["error"]["message"].clone());
    messages.dedup();
    assert_eq!(
        messages.len(),
        1,
        "one message for every reason: {messages:?}"
    );
    data(verify(&app, &verify_token).await, 200).await;

    // Malformed bodies.
    let res = app
        .client
        .post(app.url("/api/v1/auth/verify-email"))
        .header("content-type", "application/json")
        .body("{\"token\":")
        .send()
        .await
        .unwrap();
    expect_error(res, 400, "BAD_REQUEST").await;
    let res = app
        .post(
            "/api/v1/auth/password-reset",
            None,
            &json!({"token": 5, "new_password": "x"}),
        )
        .await;
    expect_error(res, 400, "BAD_REQUEST").await;
    let res = app
        .post("/api/v1/auth/password-reset", None, &json!({"token": "x"}))
        .await;
    expect_error(res, 422, "VALIDATION_ERROR").await;
    let res = app
        .post(
            "/api/v1/auth/verify-email",
            None,
            &json!({"token": "x", "is_verified": true}),
        )
        .await;
    expect_error(res, 422, "VALIDATION_ERROR").await;
    drop(access);
}

async fn a_password_change_kills_outstanding_links(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = app_with_sink(backend, &sink, &[]).await;
    let access = app.token_of("fay").await;
    let verify_token = token_in(
        &sink.wait_for_nth("fay@example.com", 1, MAIL_WAIT).await,
        "verify-email",
    );
    request_reset(&app, "fay@example.com").await;
    let reset_token = token_in(
        &mail_about(&sink, "fay@example.com", "Reset your").await,
        "reset-password",
    );
    let res = app
        .post(
            "/api/v1/auth/change-password",
            Some(&access),
            &json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 200);
    expect_error(
        reset(&app, &reset_token, "Another7Password").await,
        400,
        "INVALID_TOKEN",
    )
    .await;
    expect_error(verify(&app, &verify_token).await, 400, "INVALID_TOKEN").await;
}

async fn mail_survives_an_smtp_outage(backend: Backend) {
    // Nothing listens on the port yet: the server cannot deliver.
    let port = free_port();
    let url = format!("smtp://127.0.0.1:{port}");
    let app = TestApp::spawn_with(
        backend,
        &[
            ("MAIL_TRANSPORT", "smtp"),
            ("SMTP_URL", &url),
            ("JOB_POLL_MS", "100"),
            ("JOB_BACKOFF_BASE_SECS", "1"),
            ("JOB_BACKOFF_MAX_SECS", "2"),
        ],
    )
    .await;
    // The requests succeed regardless.
    app.register("gus").await;
    let (status, _) = request_reset(&app, "gus@example.com").await;
    assert_eq!(status, 202);
    // Both jobs fail at least once while nothing listens.
    let db = Database::connect(&app.settings.database, None)
        .await
        .expect("connect");
    wait_until(MAIL_WAIT, "both mail jobs failed once", || async {
        let jobs = mail_jobs(&db).await;
        jobs.len() == 2 && jobs.iter().all(|j| j.last_error.is_some())
    })
    .await;
    // The sink comes up; the retries deliver both mails.
    let sink = SmtpSink::start_on(port).await;
    let first = sink
        .wait_for_nth("gus@example.com", 1, Duration::from_secs(60))
        .await;
    let second = sink
        .wait_for_nth("gus@example.com", 2, Duration::from_secs(60))
        .await;
    let subjects = [first.decoded(), second.decoded()];
    assert!(subjects.iter().any(|m| m.contains("Confirm your e-mail")));
    assert!(subjects.iter().any(|m| m.contains("Reset your")));
    wait_until(MAIL_WAIT, "both mail jobs succeeded", || async {
        mail_jobs(&db)
            .await
            .iter()
            .all(|j| j.state == JobState::Succeeded && j.attempts >= 2)
    })
    .await;
    db.close().await;
}

/// The `mail.send` jobs in the server's database.
async fn mail_jobs(db: &Database) -> Vec<Job> {
    let filter = JobFilter {
        state: None,
        kind: Some("mail.send".into()),
    };
    db.jobs
        .list(filter, Page::default())
        .await
        .expect("list jobs")
        .items
}

async fn mail_jobs_hold_no_token_and_wait_for_a_worker(backend: Backend) {
    let sink = SmtpSink::start().await;
    // No workers in the server: its jobs wait in the database, as while every worker is down.
    let app = app_with_sink(backend, &sink, &[("WORKERS", "0")]).await;
    app.register("kim").await;
    assert_eq!(request_reset(&app, "kim@example.com").await.0, 202);
    assert_eq!(request_reset(&app, "nobody@example.com").await.0, 202);
    let db = Database::connect(&app.settings.database, None)
        .await
        .expect("connect");
    let queued = mail_jobs(&db).await;
    assert_eq!(
        queued.len(),
        3,
        "one job per request, known or not: {queued:?}"
    );
    for job in &queued {
        assert_eq!(job.state, JobState::Queued);
        let mut keys: Vec<&str> = job
            .payload
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        match job.payload["purpose"].as_str() {
            Some("verify_email") => assert_eq!(keys, ["purpose", "user_id"]),
            Some("reset_password") => assert_eq!(keys, ["email", "purpose"]),
            other => panic!("unexpected purpose {other:?}"),
        }
        assert!(
            !job.payload.to_string().contains("token"),
            "{}",
            job.payload
        );
    }
    assert!(sink.messages().is_empty());

    // A worker process starts on the same database: the queued mail goes out.
    let mut settings = app.settings.clone();
    settings.jobs.workers = 1;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(async move {
        run_worker(&settings, async {
            let _ = stopped.await;
        })
        .await
    });
    let verify_token = token_in(
        &mail_about(&sink, "kim@example.com", "Confirm your e-mail").await,
        "verify-email",
    );
    let reset_token = token_in(
        &mail_about(&sink, "kim@example.com", "Reset your").await,
        "reset-password",
    );
    wait_until(MAIL_WAIT, "every mail job succeeded", || async {
        mail_jobs(&db)
            .await
            .iter()
            .all(|j| j.state == JobState::Succeeded)
    })
    .await;
    // The links work, and the tokens they carry appear nowhere in the jobs table.
    for job in mail_jobs(&db).await {
        let row = serde_json::to_string(&job).expect("json");
        assert!(
            !row.contains(&verify_token) && !row.contains(&reset_token),
            "{row}"
        );
    }
    data(verify(&app, &verify_token).await, 200).await;
    data(reset(&app, &reset_token, NEW_PASSWORD).await, 200).await;
    assert!(sink.messages_to("nobody@example.com").is_empty());
    stop.send(()).expect("worker running");
    worker
        .await
        .expect("worker task")
        .expect("worker stops cleanly");
    db.close().await;
}

/// A clock stopped at one instant.
struct At(DateTime<Utc>);

impl Clock for At {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

async fn expired_account_tokens_are_swept(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = app_with_sink(backend, &sink, &[]).await;
    app.register("lea").await;
    mail_about(&sink, "lea@example.com", "Confirm your e-mail").await;
    request_reset(&app, "lea@example.com").await;
    mail_about(&sink, "lea@example.com", "Reset your").await;
    let db = Database::connect(&app.settings.database, None)
        .await
        .expect("connect");
    let sweep_at = |hours: i64| SweepTargets {
        oauth: db.oauth.clone(),
        account_tokens: db.account_tokens.clone(),
        clock: std::sync::Arc::new(At(Utc::now() + chrono::Duration::hours(hours))),
    };
    assert_eq!(sweep_at(0).sweep_once().await, 0, "nothing expired yet");
    // The reset link (60 min) has expired after 2 h; the verification link (24 h) has not.
    assert_eq!(sweep_at(2).sweep_once().await, 1);
    assert_eq!(sweep_at(2).sweep_once().await, 0);
    assert_eq!(sweep_at(25).sweep_once().await, 1);
    db.close().await;
}

async fn a_refused_mail_is_dead_at_once_and_listed(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = app_with_sink(backend, &sink, &[]).await;
    // The sink refuses this mailbox for good (550).
    app.register("bounce").await;
    let admin = app.admin("postmaster").await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let dead = wait_for(MAIL_WAIT, "the refused mail job listed as dead", || async {
        let (status, body) =
            json_of(app.get("/api/v1/admin/jobs?state=dead", Some(&admin)).await).await;
        assert_eq!(status, 200, "{body}");
        body["data"]["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|job| job["kind"] == "mail.send")
            .cloned()
    })
    .await;
    assert_eq!(dead["attempts"], 1, "a refusal is not retried: {dead}");
    let error = dead["last_error"].as_str().expect("an error");
    assert!(error.contains("550"), "{error}");
    // Other mail still flows.
    app.register("carl").await;
    sink.wait_for_nth("carl@example.com", 1, MAIL_WAIT).await;
}

async fn unverified_users_are_kept_from_tutoring_when_required(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = app_with_sink(backend, &sink, &[("REQUIRE_VERIFIED_EMAIL", "true")]).await;
    let access = app.token_of("hal").await;
    let res = app.get("/api/v1/sessions", Some(&access)).await;
    expect_error(res, 403, "EMAIL_NOT_VERIFIED").await;
    // Their own account stays reachable.
    assert_eq!(
        app.get("/api/v1/auth/me", Some(&access)).await.status(),
        200
    );
    let token = token_in(
        &sink.wait_for_nth("hal@example.com", 1, MAIL_WAIT).await,
        "verify-email",
    );
    data(verify(&app, &token).await, 200).await;
    let res = app.get("/api/v1/sessions", Some(&access)).await;
    assert_eq!(res.status(), 200);
}

async fn mail_requests_are_limited_per_address_and_per_ip(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = app_with_sink(
        backend,
        &sink,
        &[("RATE_LIMIT_MAIL", "2"), ("RATE_LIMIT_MAIL_IP", "3")],
    )
    .await;
    // Per address: registration's mail and one more, then 429 for the verification request.
    let access = app.token_of("ivy").await;
    sink.wait_for_nth("ivy@example.com", 1, MAIL_WAIT).await;
    let empty = json!({});
    let ask = || app.post("/api/v1/auth/verify-email/request", Some(&access), &empty);
    assert_eq!(ask().await.status(), 202);
    let res = ask().await;
    assert!(res.headers().contains_key("retry-after"));
    expect_error(res, 429, "RATE_LIMITED").await;
    // Per IP: three reset requests, then 429 (which says nothing about any account).
    for n in 0..3 {
        assert_eq!(
            request_reset(&app, &format!("x{n}@example.com")).await.0,
            202
        );
    }
    let (status, body) = request_reset(&app, "x9@example.com").await;
    assert_eq!(status, 429, "{body}");
}

on_both!(
    registration_mails_a_link_that_verifies_once,
    verification_can_be_requested_again_and_only_the_newest_link_works,
    a_reset_link_sets_the_password_and_ends_every_session,
    unknown_and_known_addresses_get_the_same_answer,
    bad_tokens_all_get_one_answer,
    a_password_change_kills_outstanding_links,
    mail_survives_an_smtp_outage,
    unverified_users_are_kept_from_tutoring_when_required,
    mail_requests_are_limited_per_address_and_per_ip,
    mail_jobs_hold_no_token_and_wait_for_a_worker,
    a_refused_mail_is_dead_at_once_and_listed,
    expired_account_tokens_are_swept,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_transport_is_the_default_and_never_fails_a_request() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    assert_eq!(app.settings.mail.transport, "log");
    app.register("jon").await;
    let (status, _) = request_reset(&app, "jon@example.com").await;
    assert_eq!(status, 202);
}
