//! End-to-end tests of `/api/v1/auth` on SQLite and PostgreSQL, including the attacks a
//! careful reviewer would try.

use std::time::Duration;

use ainative_test_support::{
    expect_error, json_of, on_both_backends, register_body, wait_until, Backend, TestApp, PASSWORD,
};
use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};

const ME: &str = "/api/v1/auth/me";

async fn registers_and_reads_me(app: TestApp) {
    let data = app.register("ada").await;
    assert_eq!(data["token_type"], "bearer");
    assert_eq!(data["expires_in"], 1800);
    assert_eq!(data["user"]["email"], "ada@example.com");
    assert_eq!(data["user"]["roles"], json!(["student"]));
    assert_eq!(data["user"]["tier"], "free");
    assert!(data["user"].get("password_hash").is_none());
    let token = data["access_token"].as_str().unwrap();
    let res = app.get(ME, Some(token)).await;
    assert_eq!(res.headers().get("cache-control").unwrap(), "no-store");
    let (status, body) = json_of(res).await;
    assert_eq!(status, 200);
    assert_eq!(body["success"], true);
    assert_eq!(body["message"], Value::Null);
    assert_eq!(body["data"]["username"], "ada");
}

async fn duplicates_conflict_and_write_nothing(app: TestApp) {
    app.register("bob").await;
    let mut same_email = register_body("bobby");
    same_email["email"] = json!("BOB@example.com");
    let body = expect_error(
        app.post("/api/v1/auth/register", None, &same_email).await,
        409,
        "CONFLICT",
    )
    .await;
    assert!(body["error"]["message"].as_str().unwrap().contains("email"));
    let mut same_username = register_body("BOB");
    same_username["email"] = json!("other@example.com");
    expect_error(
        app.post("/api/v1/auth/register", None, &same_username)
            .await,
        409,
        "CONFLICT",
    )
    .await;
    // The rejected registrations left nothing behind: their e-mail is still free.
    app.post("/api/v1/auth/register", None, &register_body("other"))
        .await;
    let login = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"email": "other@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(login.status(), 200);
}

async fn password_rules_are_enforced(app: TestApp) {
    for (password, hint) in [
        ("Sh0rt", "at least 8"),
        ("Password1", "common"),
        ("alllowercase1", "upper-case"),
        (&*format!("A1{}", "é".repeat(36)), "72 bytes"),
        ("Carol_123", "username"),
    ] {
        let mut body = register_body("carol_123");
        body["password"] = json!(password);
        let err = expect_error(
            app.post("/api/v1/auth/register", None, &body).await,
            422,
            "VALIDATION_ERROR",
        )
        .await;
        let detail = &err["error"]["details"][0];
        assert_eq!(detail["field"], "password", "{err}");
        assert!(
            detail["message"].as_str().unwrap().contains(hint),
            "{password}: {err}"
        );
    }
}

async fn login_by_email_or_username_with_uniform_failures(app: TestApp) {
    app.register("dora").await;
    for body in [
        json!({"email": "DORA@example.com", "password": PASSWORD}),
        json!({"username": "Dora", "password": PASSWORD}),
    ] {
        let (status, data) = json_of(app.post("/api/v1/auth/login", None, &body).await).await;
        assert_eq!(status, 200, "{data}");
        assert!(data["data"]["user"]["login_count"].as_i64().unwrap() >= 1);
        assert!(data["data"]["access_token"].is_string());
    }
    let wrong = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "dora", "password": "Wrong7Password"}),
        )
        .await;
    assert_eq!(wrong.headers().get("www-authenticate").unwrap(), "Bearer");
    let wrong = expect_error(wrong, 401, "UNAUTHORIZED").await;
    let unknown = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "nobody", "password": "Wrong7Password"}),
        )
        .await;
    let unknown = expect_error(unknown, 401, "UNAUTHORIZED").await;
    assert_eq!(wrong["error"]["message"], unknown["error"]["message"]);
    let both = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "dora", "email": "dora@example.com", "password": PASSWORD}),
        )
        .await;
    expect_error(both, 422, "VALIDATION_ERROR").await;
}

async fn token_endpoint_speaks_rfc_6749(app: TestApp) {
    app.register("erin").await;
    let form = |grant: &str, password: &str| {
        app.client
            .post(app.url("/api/v1/auth/token"))
            .form(&[
                ("grant_type", grant),
                ("username", "erin@example.com"),
                ("password", password),
            ])
            .send()
    };
    let ok = form("password", PASSWORD).await.unwrap();
    assert_eq!(ok.headers().get("cache-control").unwrap(), "no-store");
    let (status, body) = json_of(ok).await;
    assert_eq!(status, 200);
    assert_eq!(body["token_type"], "bearer");
    assert!(
        body.get("success").is_none(),
        "RFC 6749 responses are not enveloped"
    );
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(app.get(ME, Some(token)).await.status(), 200);
    let (status, body) = json_of(form("password", "Wrong7Password").await.unwrap()).await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, body) = json_of(form("client_credentials", PASSWORD).await.unwrap()).await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let json_body = app
        .post(
            "/api/v1/auth/token",
            None,
            &json!({"grant_type": "password"}),
        )
        .await;
    assert_eq!(json_body.status(), 415);
}

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.post(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": token}),
    )
    .await
}

async fn refresh_rotates_and_replay_revokes_the_family(app: TestApp) {
    let first = app.register("fay").await;
    let old_refresh = first["refresh_token"].as_str().unwrap().to_owned();
    let (status, rotated) = json_of(refresh(&app, &old_refresh).await).await;
    assert_eq!(status, 200, "{rotated}");
    let new_access = rotated["data"]["access_token"].as_str().unwrap().to_owned();
    let new_refresh = rotated["data"]["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(new_refresh, old_refresh);
    assert_eq!(app.get(ME, Some(&new_access)).await.status(), 200);
    // Replaying the retired token is theft: 401 and the whole family dies.
    expect_error(refresh(&app, &old_refresh).await, 401, "UNAUTHORIZED").await;
    expect_error(refresh(&app, &new_refresh).await, 401, "UNAUTHORIZED").await;
    expect_error(app.get(ME, Some(&new_access)).await, 401, "UNAUTHORIZED").await;
    // A new login is a new, healthy session.
    let login = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "fay", "password": PASSWORD}),
        )
        .await;
    assert_eq!(login.status(), 200);
}

async fn parallel_refreshes_yield_at_most_one_success(app: TestApp) {
    let data = app.register("gus").await;
    let token = data["refresh_token"].as_str().unwrap().to_owned();
    let calls = (0..10).map(|_| refresh(&app, &token));
    let statuses: Vec<StatusCode> = futures::future::join_all(calls)
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    let successes = statuses.iter().filter(|s| s.is_success()).count();
    assert!(successes <= 1, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| s.is_success() || *s == 401),
        "{statuses:?}"
    );
}

async fn logout_ends_only_this_session(app: TestApp) {
    let first = app.register("hal").await;
    let login = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "hal", "password": PASSWORD}),
        )
        .await;
    let (_, second) = json_of(login).await;
    let (a1, r1) = (
        first["access_token"].as_str().unwrap(),
        first["refresh_token"].as_str().unwrap(),
    );
    let a2 = second["data"]["access_token"].as_str().unwrap();
    let (status, body) = json_of(app.post("/api/v1/auth/logout", Some(a1), &json!({})).await).await;
    assert_eq!(status, 200, "{body}");
    expect_error(app.get(ME, Some(a1)).await, 401, "UNAUTHORIZED").await;
    expect_error(refresh(&app, r1).await, 401, "UNAUTHORIZED").await;
    assert_eq!(
        app.get(ME, Some(a2)).await.status(),
        200,
        "other sessions stay"
    );
    expect_error(
        app.post("/api/v1/auth/logout", None, &json!({})).await,
        401,
        "UNAUTHORIZED",
    )
    .await;
}

async fn change_password_ends_every_earlier_session(app: TestApp) {
    let first = app.register("ivy").await;
    let a1 = first["access_token"].as_str().unwrap().to_owned();
    let r1 = first["refresh_token"].as_str().unwrap().to_owned();
    let (_, second) = json_of(
        app.post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "ivy", "password": PASSWORD}),
        )
        .await,
    )
    .await;
    let a2 = second["data"]["access_token"].as_str().unwrap().to_owned();
    let wrong = json!({"current_password": "Wrong7Password", "new_password": "Different8Engine"});
    let err = expect_error(
        app.post("/api/v1/auth/change-password", Some(&a1), &wrong)
            .await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    assert_eq!(err["error"]["details"][0]["field"], "current_password");
    let weak = json!({"current_password": PASSWORD, "new_password": "Password1"});
    expect_error(
        app.post("/api/v1/auth/change-password", Some(&a1), &weak)
            .await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    let good = json!({"current_password": PASSWORD, "new_password": "Different8Engine"});
    let (status, pair) = json_of(
        app.post("/api/v1/auth/change-password", Some(&a1), &good)
            .await,
    )
    .await;
    assert_eq!(status, 200, "{pair}");
    for token in [&a1, &a2] {
        expect_error(app.get(ME, Some(token)).await, 401, "UNAUTHORIZED").await;
    }
    expect_error(refresh(&app, &r1).await, 401, "UNAUTHORIZED").await;
    assert_eq!(
        app.get(ME, Some(pair["data"]["access_token"].as_str().unwrap()))
            .await
            .status(),
        200
    );
    let old = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "ivy", "password": PASSWORD}),
        )
        .await;
    assert_eq!(old.status(), 401);
    let new = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "ivy", "password": "Different8Engine"}),
        )
        .await;
    assert_eq!(new.status(), 200);
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn sign(claims: &Value, secret: &str) -> String {
    sign_with(jsonwebtoken::Algorithm::HS256, claims, secret)
}

fn sign_with(alg: jsonwebtoken::Algorithm, claims: &Value, secret: &str) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()).unwrap();
    jsonwebtoken::encode(&jsonwebtoken::Header::new(alg), claims, &key).unwrap()
}

async fn forged_and_misused_tokens_are_rejected(app: TestApp) {
    let data = app.register("jay").await;
    let access = data["access_token"].as_str().unwrap();
    let refresh_token = data["refresh_token"].as_str().unwrap();
    let parts: Vec<&str> = access.split('.').collect();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1])
            .unwrap(),
    )
    .unwrap();
    let secret = "e2e-secret-e2e-secret-e2e-secret-0123";
    let now = chrono::Utc::now().timestamp();
    let mut expired = claims.clone();
    expired["iat"] = json!(now - 7200);
    expired["exp"] = json!(now - 3600);
    let mut wrong_iss = claims.clone();
    wrong_iss["iss"] = json!("someone-else");
    let mut wrong_aud = claims.clone();
    wrong_aud["aud"] = json!("other-api");
    let mut escalated = claims.clone();
    escalated["roles"] = json!(["admin"]);
    // RFC 7519 §4.1.5: not valid before `nbf`; issued tokens carry `nbf` = `iat`.
    assert_eq!(claims["nbf"], claims["iat"], "{claims}");
    let mut not_yet_valid = claims.clone();
    not_yet_valid["nbf"] = json!(now + 3600);
    // CVE-2026-25537: a registered claim of the wrong JSON type is not "absent".
    let mut exp_as_string = claims.clone();
    exp_as_string["exp"] = json!("9999999999");
    let mut nbf_as_string = claims.clone();
    nbf_as_string["nbf"] = json!("0");
    let alg_none = format!("{}.{}.", b64(br#"{"alg":"none","typ":"JWT"}"#), parts[1]);
    let cases = [
        ("garbage", "not-a-jwt".to_owned()),
        ("alg none", alg_none),
        (
            "forged secret",
            sign(&escalated, "attacker-secret-attacker-secret-0"),
        ),
        (
            "tampered payload",
            format!(
                "{}.{}.{}",
                parts[0],
                b64(escalated.to_string().as_bytes()),
                parts[2]
            ),
        ),
        ("expired", sign(&expired, secret)),
        ("wrong issuer", sign(&wrong_iss, secret)),
        ("wrong audience", sign(&wrong_aud, secret)),
        ("refresh as access", refresh_token.to_owned()),
        ("nbf in the future", sign(&not_yet_valid, secret)),
        ("exp of the wrong type", sign(&exp_as_string, secret)),
        ("nbf of the wrong type", sign(&nbf_as_string, secret)),
        (
            "another algorithm, right secret",
            sign_with(jsonwebtoken::Algorithm::HS512, &claims, secret),
        ),
    ];
    for (name, token) in &cases {
        let res = app.get(ME, Some(token)).await;
        assert_eq!(
            res.headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap()),
            Some("Bearer"),
            "{name}"
        );
        expect_error(res, 401, "UNAUTHORIZED").await;
    }
    // An access token is not a refresh token.
    expect_error(refresh(&app, access).await, 401, "UNAUTHORIZED").await;
    // Not a bearer scheme.
    let basic = app
        .client
        .get(app.url(ME))
        .header("authorization", format!("Basic {access}"))
        .send()
        .await
        .unwrap();
    expect_error(basic, 401, "UNAUTHORIZED").await;
    expect_error(app.get(ME, None).await, 401, "UNAUTHORIZED").await;
    assert_eq!(
        app.get(ME, Some(access)).await.status(),
        200,
        "the genuine token still works"
    );
    // A token issued before `nbf` existed stays valid until it expires.
    let mut legacy = claims.clone();
    legacy.as_object_mut().unwrap().remove("nbf");
    assert_eq!(
        app.get(ME, Some(&sign(&legacy, secret))).await.status(),
        200,
        "a token without nbf is accepted"
    );
}

async fn failed_logins_are_throttled_atomically(app: TestApp) {
    app.register("kim").await;
    let app = &app;
    let attempt = |password: &'static str| async move {
        app.post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "kim", "password": password}),
        )
        .await
    };
    let statuses: Vec<u16> = futures::future::join_all((0..12).map(|_| attempt("Wrong7Password")))
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        7,
        "{statuses:?}"
    );
    // Even the right password is refused while throttled.
    let res = attempt(PASSWORD).await;
    let retry: u64 = res
        .headers()
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    expect_error(res, 429, "RATE_LIMITED").await;
}

async fn inactive_refresh_grace_returns_an_access_token(app: TestApp) {
    let data = app.register("lea").await;
    let token = data["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(refresh(&app, &token).await.status(), 200);
    let (status, body) = json_of(refresh(&app, &token).await).await;
    assert_eq!(
        status, 200,
        "within the grace window a replay gets an access token: {body}"
    );
    assert_eq!(body["data"]["refresh_token"], json!(token));
    assert_eq!(
        app.get(ME, Some(body["data"]["access_token"].as_str().unwrap()))
            .await
            .status(),
        200
    );
}

on_both_backends!(
    registers_and_reads_me,
    duplicates_conflict_and_write_nothing,
    password_rules_are_enforced,
    login_by_email_or_username_with_uniform_failures,
    token_endpoint_speaks_rfc_6749,
    refresh_rotates_and_replay_revokes_the_family,
    parallel_refreshes_yield_at_most_one_success,
    logout_ends_only_this_session,
    change_password_ends_every_earlier_session,
    forged_and_misused_tokens_are_rejected,
);

/// More than `RATE_LIMIT_LOGIN` simultaneous correct logins from one IP all pass; failures
/// from that IP still throttle it, whatever the accounts, even for a right password.
async fn correct_logins_from_one_ip_pass_and_its_failures_still_count(app: TestApp) {
    let names: Vec<String> = (0..12).map(|i| format!("pupil{i}")).collect();
    for name in &names {
        app.register(name).await;
    }
    let app = &app;
    let login = |username: String, password: &'static str| async move {
        app.post(
            "/api/v1/auth/login",
            None,
            &json!({"username": username, "password": password}),
        )
        .await
    };
    let statuses: Vec<u16> =
        futures::future::join_all(names.iter().map(|n| login(n.clone(), PASSWORD)))
            .await
            .iter()
            .map(|r| r.status().as_u16())
            .collect();
    assert_eq!(statuses, vec![200; 12]);
    // Three failures on three other accounts use up the IP's budget of 3.
    for ghost in ["ghost1", "ghost2", "ghost3"] {
        assert_eq!(login(ghost.into(), "Wrong7Password").await.status(), 401);
    }
    expect_error(login(names[0].clone(), PASSWORD).await, 429, "RATE_LIMITED").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ip_throttling_counts_failures_on_sqlite() {
    correct_logins_from_one_ip_pass_and_its_failures_still_count(
        TestApp::spawn_with(Backend::Sqlite, &[("RATE_LIMIT_LOGIN", "3")]).await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ip_throttling_counts_failures_on_postgres() {
    correct_logins_from_one_ip_pass_and_its_failures_still_count(
        TestApp::spawn_with(Backend::Postgres, &[("RATE_LIMIT_LOGIN", "3")]).await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_on_sqlite() {
    failed_logins_are_throttled_atomically(
        TestApp::spawn_with(Backend::Sqlite, &[("RATE_LIMIT_LOGIN", "5")]).await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_on_postgres() {
    failed_logins_are_throttled_atomically(
        TestApp::spawn_with(Backend::Postgres, &[("RATE_LIMIT_LOGIN", "5")]).await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_reuse_grace_window() {
    inactive_refresh_grace_returns_an_access_token(
        TestApp::spawn_with(Backend::Postgres, &[("REFRESH_REUSE_GRACE_SECS", "30")]).await,
    )
    .await;
}

/// Two instances on one database: a logout on one is enforced by the other within a second,
/// and by an instance started afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_reaches_every_instance_and_survives_restarts() {
    let first = TestApp::spawn(Backend::Postgres).await;
    let url = first.settings.database.url.clone();
    let url = secrecy::ExposeSecret::expose_secret(&url).to_owned();
    let second = TestApp::spawn_with(Backend::Sqlite, &[("DATABASE_URL", &url)]).await;
    let data = first.register("max").await;
    let token = data["access_token"].as_str().unwrap();
    assert_eq!(second.get(ME, Some(token)).await.status(), 200);
    assert_eq!(
        first
            .post("/api/v1/auth/logout", Some(token), &json!({}))
            .await
            .status(),
        200
    );
    wait_until(
        Duration::from_secs(1),
        "the other instance enforces the revocation (SPEC: within 1 s)",
        || async { second.get(ME, Some(token)).await.status() == 401 },
    )
    .await;
    let third = TestApp::spawn_with(Backend::Sqlite, &[("DATABASE_URL", &url)]).await;
    expect_error(third.get(ME, Some(token)).await, 401, "UNAUTHORIZED").await;
}
