//! End-to-end tests of social login (SPEC §10.2) on SQLite and PostgreSQL: the full
//! authorization-code + PKCE round trip over real HTTP against a fake OIDC / GitHub
//! provider on loopback, and the attacks on it.

use ainative_test_support::oauth::{FakeProvider, FakeUser, IdTokenFault};
use ainative_test_support::{expect_error, json_of, Backend, TestApp, PASSWORD};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

/// The application URL the flows return to (the only allowed one).
const APP_RETURN: &str = "https://app.example/auth/done";
/// `PUBLIC_BASE_URL` of the test servers: the callback URLs the provider redirects to.
const PUBLIC_BASE: &str = "https://api.example";
const COOKIE: &str = "__Host-ainative-oauth";

/// A server with the fake enabled as the OIDC provider `acme` and as GitHub.
async fn spawn(backend: Backend, idp: &FakeProvider) -> TestApp {
    let mut env = idp.oidc_env("ACME");
    env.extend(idp.github_env());
    env.push(("OAUTH_REDIRECT_ALLOWLIST".into(), APP_RETURN.into()));
    env.push(("PUBLIC_BASE_URL".into(), PUBLIC_BASE.into()));
    let overrides: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    TestApp::spawn_with(backend, &overrides).await
}

/// One test per backend; each case gets a fresh fake and server.
macro_rules! both {
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

fn location(res: &Response) -> String {
    res.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("a Location header")
        .to_owned()
}

fn param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// A browser's view of a started flow: the provider URL and the binding cookie.
struct Started {
    provider_url: String,
    cookie: String,
}

fn cookie_of(res: &Response) -> String {
    let set = res
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("a Set-Cookie header")
        .to_owned();
    for attribute in ["Path=/", "Secure", "HttpOnly", "SameSite=Lax"] {
        assert!(set.contains(attribute), "{set}");
    }
    assert!(!set.contains("Domain"), "{set}");
    let value = set
        .strip_prefix(&format!("{COOKIE}="))
        .and_then(|rest| rest.split(';').next())
        .expect("the flow cookie");
    value.to_owned()
}

async fn start(app: &TestApp, provider: &str) -> Started {
    let query = serde_urlencoded::to_string([("redirect_uri", APP_RETURN)]).unwrap();
    let res = app
        .get(
            &format!("/api/v1/auth/oauth/{provider}/authorize?{query}"),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(res.headers().get("cache-control").unwrap(), "no-store");
    Started {
        provider_url: location(&res),
        cookie: cookie_of(&res),
    }
}

/// The browser at the provider: follows its redirect back, returning the callback's path.
async fn at_provider(app: &TestApp, provider_url: &str) -> String {
    let res = app.client.get(provider_url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FOUND, "{provider_url}");
    let back = location(&res);
    back.strip_prefix(PUBLIC_BASE)
        .unwrap_or_else(|| panic!("the callback is built from PUBLIC_BASE_URL: {back}"))
        .to_owned()
}

async fn callback(app: &TestApp, path: &str, cookie: Option<&str>) -> Response {
    let mut req = app.client.get(app.url(path));
    if let Some(cookie) = cookie {
        req = req.header("cookie", format!("other=1; {COOKIE}={cookie}"));
    }
    req.send().await.unwrap()
}

/// The whole browser round trip; returns the callback's answer.
async fn round_trip(app: &TestApp, provider: &str) -> Response {
    let started = start(app, provider).await;
    let path = at_provider(app, &started.provider_url).await;
    callback(app, &path, Some(&started.cookie)).await
}

/// A successful sign-in: the one-time code exchanged for tokens; returns the exchange data.
async fn sign_in(app: &TestApp, provider: &str) -> Value {
    let res = round_trip(app, provider).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let target = location(&res);
    assert!(
        target.starts_with(&format!("{APP_RETURN}?code=")),
        "{target}"
    );
    let code = param(&target, "code").unwrap();
    let res = app
        .post("/api/v1/auth/oauth/exchange", None, &json!({"code": code}))
        .await;
    let (status, body) = json_of(res).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].clone()
}

/// Users in the database (through the admin API; the admin counts as one).
async fn user_count(app: &TestApp) -> u64 {
    let admin = app.admin("root").await;
    let token = admin["access_token"].as_str().unwrap();
    let (status, body) = json_of(app.get("/api/v1/admin/users", Some(token)).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]["total"].as_u64().unwrap()
}

async fn oidc_round_trip_signs_up_then_in(backend: Backend) {
    let idp = FakeProvider::start().await;
    let app = spawn(backend, &idp).await;
    let started = start(&app, "acme").await;
    let url = &started.provider_url;
    assert!(
        url.starts_with(&format!("{}/authorize?", idp.uri())),
        "{url}"
    );
    assert_eq!(param(url, "code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(param(url, "response_type").as_deref(), Some("code"));
    assert!(param(url, "state").unwrap().len() >= 43, "256-bit state");
    assert!(param(url, "nonce").unwrap().len() >= 43, "256-bit nonce");
    assert_eq!(
        param(url, "redirect_uri").as_deref(),
        Some("https://api.example/api/v1/auth/oauth/acme/callback")
    );

    let data = sign_in(&app, "acme").await;
    assert_eq!(data["token_type"], "bearer");
    let user = &data["user"];
    assert_eq!(user["email"], "person@example.org");
    assert_eq!(user["roles"], json!(["student"]));
    assert_eq!(user["is_verified"], true);
    assert_eq!(user["full_name"], "Test Person");
    let token = data["access_token"].as_str().unwrap();
    let (status, me) = json_of(app.get("/api/v1/auth/me", Some(token)).await).await;
    assert_eq!(status, 200);
    assert_eq!(me["data"]["id"], user["id"]);

    // The same identity signs in to the same user.
    let again = sign_in(&app, "acme").await;
    assert_eq!(again["user"]["id"], user["id"]);
    let (status, links) = json_of(app.get("/api/v1/auth/oauth/accounts", Some(token)).await).await;
    assert_eq!(status, 200);
    let links = links["data"].as_array().unwrap().clone();
    assert_eq!(links.len(), 1, "{links:?}");
    assert_eq!(links[0]["provider"], "acme");
    assert_eq!(links[0]["email"], "person@example.org");
    // An OAuth-only account has no password: a password login is the ordinary 401.
    for password in [PASSWORD, "!"] {
        let res = app
            .post(
                "/api/v1/auth/login",
                None,
                &json!({"email": "person@example.org", "password": password}),
            )
            .await;
        expect_error(res, 401, "UNAUTHORIZED").await;
    }
}

async fn login_codes_are_single_use(backend: Backend) {
    let idp = FakeProvider::start().await;
    let app = spawn(backend, &idp).await;
    let res = round_trip(&app, "acme").await;
    assert_eq!(res.status(), StatusCode::FOUND);
    // The flow cookie is cleared once used.
    let cleared = res.headers().get("set-cookie").unwrap().to_str().unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let code = param(&location(&res), "code").unwrap();
    let exchange = |code: String| {
        let app = &app;
        async move {
            app.post("/api/v1/auth/oauth/exchange", None, &json!({"code": code}))
                .await
        }
    };
    assert_eq!(exchange(code.clone()).await.status(), StatusCode::OK);
    expect_error(exchange(code).await, 400, "BAD_REQUEST").await;
    expect_error(exchange("0".repeat(64)).await, 400, "BAD_REQUEST").await;
    expect_error(
        app.post(
            "/api/v1/auth/oauth/exchange",
            None,
            &json!({"code": "x", "user_id": "y"}),
        )
        .await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
}

async fn github_round_trip_uses_the_primary_verified_address(backend: Backend) {
    let idp = FakeProvider::start().await;
    idp.set_user(FakeUser {
        login: "octocat".into(),
        ..FakeUser::new("583231", "octo@example.org")
    });
    let app = spawn(backend, &idp).await;
    let started = start(&app, "github").await;
    assert!(started
        .provider_url
        .starts_with(&format!("{}/login/oauth/authorize?", idp.uri())));
    assert!(param(&started.provider_url, "nonce").is_none());
    assert!(param(&started.provider_url, "code_challenge").is_some());
    let data = sign_in(&app, "github").await;
    assert_eq!(data["user"]["email"], "octo@example.org");
    assert_eq!(data["user"]["username"], "octocat");
    assert_eq!(data["user"]["is_verified"], true);
}

async fn unverified_provider_address_makes_an_unverified_user(backend: Backend) {
    let idp = FakeProvider::start().await;
    idp.set_user(FakeUser {
        email_verified: false,
        ..FakeUser::new("77", "maybe@example.org")
    });
    let app = spawn(backend, &idp).await;
    let data = sign_in(&app, "acme").await;
    assert_eq!(data["user"]["email"], "maybe@example.org");
    assert_eq!(data["user"]["is_verified"], false);
    // The same through GitHub's e-mail API.
    idp.set_user(FakeUser {
        email_verified: false,
        ..FakeUser::new("78", "maybe2@example.org")
    });
    let data = sign_in(&app, "github").await;
    assert_eq!(data["user"]["is_verified"], false);
}

async fn denied_consent_creates_nothing(backend: Backend) {
    let idp = FakeProvider::start().await;
    idp.deny_consent(true);
    let app = spawn(backend, &idp).await;
    let started = start(&app, "acme").await;
    let path = at_provider(&app, &started.provider_url).await;
    assert!(path.contains("error=access_denied"), "{path}");
    let body = expect_error(
        callback(&app, &path, Some(&started.cookie)).await,
        400,
        "BAD_REQUEST",
    )
    .await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("access_denied"),
        "{body}"
    );
    assert_eq!(idp.token_calls(), 0);
    assert_eq!(user_count(&app).await, 1, "only the admin");
}

async fn state_is_checked_bound_and_single_use(backend: Backend) {
    let idp = FakeProvider::start().await;
    let app = spawn(backend, &idp).await;

    // A forged state.
    let started = start(&app, "acme").await;
    let path = at_provider(&app, &started.provider_url).await;
    let state = param(&path, "state").unwrap();
    let forged = path.replace(&state, &"A".repeat(state.len()));
    expect_error(
        callback(&app, &forged, Some(&started.cookie)).await,
        400,
        "BAD_REQUEST",
    )
    .await;

    // The right state from a browser without the flow's cookie (login CSRF): refused, and
    // the flow is spent.
    expect_error(callback(&app, &path, None).await, 400, "BAD_REQUEST").await;
    expect_error(
        callback(&app, &path, Some(&started.cookie)).await,
        400,
        "BAD_REQUEST",
    )
    .await;

    // Another browser's cookie.
    let mine = start(&app, "acme").await;
    let theirs = start(&app, "acme").await;
    let path = at_provider(&app, &mine.provider_url).await;
    expect_error(
        callback(&app, &path, Some(&theirs.cookie)).await,
        400,
        "BAD_REQUEST",
    )
    .await;

    // Mix-up: a flow started for acme delivered to the GitHub callback.
    let started = start(&app, "acme").await;
    let path = at_provider(&app, &started.provider_url).await;
    let elsewhere = path.replace("/oauth/acme/", "/oauth/github/");
    expect_error(
        callback(&app, &elsewhere, Some(&started.cookie)).await,
        400,
        "BAD_REQUEST",
    )
    .await;

    // A successful callback replayed: the state is gone.
    let started = start(&app, "acme").await;
    let path = at_provider(&app, &started.provider_url).await;
    assert_eq!(
        callback(&app, &path, Some(&started.cookie)).await.status(),
        StatusCode::FOUND
    );
    expect_error(
        callback(&app, &path, Some(&started.cookie)).await,
        400,
        "BAD_REQUEST",
    )
    .await;

    // A used code replayed under a fresh state: the provider refuses it.
    let code = param(&path, "code").unwrap();
    let fresh = start(&app, "acme").await;
    let fresh_path = at_provider(&app, &fresh.provider_url).await;
    let fresh_code = param(&fresh_path, "code").unwrap();
    let replayed = fresh_path.replace(&fresh_code, &code);
    expect_error(
        callback(&app, &replayed, Some(&fresh.cookie)).await,
        400,
        "BAD_REQUEST",
    )
    .await;
    assert_eq!(
        user_count(&app).await,
        2,
        "the admin and the one signed-in user"
    );
}

async fn bad_id_tokens_are_refused_and_create_nothing(backend: Backend) {
    let idp = FakeProvider::start().await;
    let app = spawn(backend, &idp).await;
    for fault in [
        IdTokenFault::WrongNonce,
        IdTokenFault::Expired,
        IdTokenFault::WrongAudience,
        IdTokenFault::WrongIssuer,
        IdTokenFault::MisSigned,
    ] {
        idp.set_fault(fault);
        let res = round_trip(&app, "acme").await;
        let headers = res.headers().clone();
        let body = expect_error(res, 401, "UNAUTHORIZED").await;
        assert!(headers.get("location").is_none(), "{fault:?}: {body}");
    }
    assert_eq!(user_count(&app).await, 1, "only the admin");
    idp.set_fault(IdTokenFault::None);
    sign_in(&app, "acme").await;
}

async fn an_existing_address_is_not_linked_silently(backend: Backend) {
    let idp = FakeProvider::start().await;
    let app = spawn(backend, &idp).await;
    let ada = app.register("ada").await;
    let ada_token = ada["access_token"].as_str().unwrap();
    idp.set_user(FakeUser::new("4242", "ADA@example.com"));
    let body = expect_error(round_trip(&app, "acme").await, 409, "ACCOUNT_EXISTS").await;
    assert!(
        body["error"]["message"].as_str().unwrap().contains("link"),
        "{body}"
    );
    let (_, links) = json_of(
        app.get("/api/v1/auth/oauth/accounts", Some(ada_token))
            .await,
    )
    .await;
    assert_eq!(links["data"], json!([]));

    // Ada links it from her session; then it signs her in.
    let res = app
        .post(
            "/api/v1/auth/oauth/acme/link",
            Some(ada_token),
            &json!({"redirect_uri": APP_RETURN}),
        )
        .await;
    let cookie = cookie_of(&res);
    let (status, started) = json_of(res).await;
    assert_eq!(status, 200, "{started}");
    let url = started["data"]["authorization_url"].as_str().unwrap();
    let path = at_provider(&app, url).await;
    let res = callback(&app, &path, Some(&cookie)).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(location(&res), format!("{APP_RETURN}?linked=acme"));
    let data = sign_in(&app, "acme").await;
    assert_eq!(data["user"]["id"], ada["user"]["id"]);

    // Another user cannot link the same identity.
    let bob = app.token_of("bob").await;
    let res = app
        .post(
            "/api/v1/auth/oauth/acme/link",
            Some(&bob),
            &json!({"redirect_uri": APP_RETURN}),
        )
        .await;
    let cookie = cookie_of(&res);
    let (_, started) = json_of(res).await;
    let path = at_provider(&app, started["data"]["authorization_url"].as_str().unwrap()).await;
    expect_error(callback(&app, &path, Some(&cookie)).await, 409, "CONFLICT").await;

    // Ada has a password: unlinking is allowed, and audited with the link.
    let (_, links) = json_of(
        app.get("/api/v1/auth/oauth/accounts", Some(ada_token))
            .await,
    )
    .await;
    let id = links["data"][0]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/auth/oauth/accounts/{id}");
    expect_error(
        app.call(Method::DELETE, &path, Some(&bob), None).await,
        404,
        "NOT_FOUND",
    )
    .await;
    let res = app.call(Method::DELETE, &path, Some(ada_token), None).await;
    assert_eq!(res.status(), StatusCode::OK);
    expect_error(
        app.call(Method::DELETE, &path, Some(ada_token), None).await,
        404,
        "NOT_FOUND",
    )
    .await;
    let admin = app.admin("root").await;
    let (_, audit) = json_of(
        app.get("/api/v1/admin/audit", admin["access_token"].as_str())
            .await,
    )
    .await;
    let actions: Vec<&str> = audit["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"oauth_linked"), "{actions:?}");
    assert!(actions.contains(&"oauth_unlinked"), "{actions:?}");
}

async fn the_last_way_to_sign_in_cannot_be_unlinked(backend: Backend) {
    let idp = FakeProvider::start().await;
    idp.set_user(FakeUser::new("900", "solo@example.org"));
    let app = spawn(backend, &idp).await;
    let data = sign_in(&app, "acme").await;
    let token = data["access_token"].as_str().unwrap().to_owned();
    let (_, links) = json_of(app.get("/api/v1/auth/oauth/accounts", Some(&token)).await).await;
    let acme = links["data"][0]["id"].as_str().unwrap().to_owned();
    let acme_path = format!("/api/v1/auth/oauth/accounts/{acme}");
    expect_error(
        app.call(Method::DELETE, &acme_path, Some(&token), None)
            .await,
        409,
        "CONFLICT",
    )
    .await;

    // With GitHub linked too, one of them can go, not both.
    idp.set_user(FakeUser::new("901", "solo-gh@example.org"));
    let res = app
        .post(
            "/api/v1/auth/oauth/github/link",
            Some(&token),
            &json!({"redirect_uri": APP_RETURN}),
        )
        .await;
    let cookie = cookie_of(&res);
    let (_, started) = json_of(res).await;
    let path = at_provider(&app, started["data"]["authorization_url"].as_str().unwrap()).await;
    assert_eq!(
        callback(&app, &path, Some(&cookie)).await.status(),
        StatusCode::FOUND
    );
    let (_, links) = json_of(app.get("/api/v1/auth/oauth/accounts", Some(&token)).await).await;
    let links = links["data"].as_array().unwrap().clone();
    assert_eq!(links.len(), 2);
    let github = links.iter().find(|l| l["provider"] == "github").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .call(Method::DELETE, &acme_path, Some(&token), None)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let github_path = format!("/api/v1/auth/oauth/accounts/{github}");
    expect_error(
        app.call(Method::DELETE, &github_path, Some(&token), None)
            .await,
        409,
        "CONFLICT",
    )
    .await;
}

async fn sign_in_steps_are_limited_per_ip(backend: Backend) {
    let idp = FakeProvider::start().await;
    let mut env = idp.oidc_env("ACME");
    env.push(("OAUTH_REDIRECT_ALLOWLIST".into(), APP_RETURN.into()));
    env.push(("RATE_LIMIT_OAUTH".into(), "3".into()));
    let overrides: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let app = TestApp::spawn_with(backend, &overrides).await;
    // Authorize, callback and exchange share one budget per client IP.
    start(&app, "acme").await;
    let res = callback(
        &app,
        "/api/v1/auth/oauth/acme/callback?code=x&state=y",
        None,
    )
    .await;
    assert_ne!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let body = json!({"code": "x"});
    let exchange = || app.post("/api/v1/auth/oauth/exchange", None, &body);
    assert_ne!(exchange().await.status(), StatusCode::TOO_MANY_REQUESTS);
    let res = exchange().await;
    let retry_after: u64 = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After header");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    expect_error(res, 429, "RATE_LIMITED").await;
    // The other endpoints keep the general limit.
    let res = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "nobody", "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

async fn unknown_providers_and_bad_redirects_are_refused(backend: Backend) {
    let idp = FakeProvider::start().await;
    let app = spawn(backend, &idp).await;
    let ok = serde_urlencoded::to_string([("redirect_uri", APP_RETURN)]).unwrap();
    for provider in ["nope", "google"] {
        expect_error(
            app.get(
                &format!("/api/v1/auth/oauth/{provider}/authorize?{ok}"),
                None,
            )
            .await,
            404,
            "NOT_FOUND",
        )
        .await;
        expect_error(
            app.get(
                &format!("/api/v1/auth/oauth/{provider}/callback?code=x&state=y"),
                None,
            )
            .await,
            404,
            "NOT_FOUND",
        )
        .await;
    }
    for redirect in [
        "https://evil.example/auth/done",
        "https://app.example/auth/done/",
        "https://app.example/auth/done?x=1",
    ] {
        let query = serde_urlencoded::to_string([("redirect_uri", redirect)]).unwrap();
        expect_error(
            app.get(&format!("/api/v1/auth/oauth/acme/authorize?{query}"), None)
                .await,
            400,
            "BAD_REQUEST",
        )
        .await;
    }
    expect_error(
        app.get("/api/v1/auth/oauth/acme/callback?code=x", None)
            .await,
        400,
        "BAD_REQUEST",
    )
    .await;
    expect_error(
        app.get("/api/v1/auth/oauth/accounts", None).await,
        401,
        "UNAUTHORIZED",
    )
    .await;
    expect_error(
        app.post(
            "/api/v1/auth/oauth/acme/link",
            None,
            &json!({"redirect_uri": APP_RETURN}),
        )
        .await,
        401,
        "UNAUTHORIZED",
    )
    .await;
    expect_error(
        app.post("/api/v1/auth/oauth/exchange", None, &json!({}))
            .await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    assert_eq!(idp.token_calls(), 0);
}

both!(
    oidc_round_trip_signs_up_then_in,
    login_codes_are_single_use,
    github_round_trip_uses_the_primary_verified_address,
    unverified_provider_address_makes_an_unverified_user,
    denied_consent_creates_nothing,
    state_is_checked_bound_and_single_use,
    bad_id_tokens_are_refused_and_create_nothing,
    an_existing_address_is_not_linked_silently,
    the_last_way_to_sign_in_cannot_be_unlinked,
    unknown_providers_and_bad_redirects_are_refused,
    sign_in_steps_are_limited_per_ip,
);
