//! End-to-end tests of the Redis backend (SPEC §5, §6, §7): several instances sharing one
//! PostgreSQL database and one Redis hold one global rate limit, one failed-login budget and
//! one LLM response cache, and health says Redis is in use.
//!
//! Needs Redis at `TEST_REDIS_URL` (default `redis://127.0.0.1:6379`) and PostgreSQL at
//! `TEST_DATABASE_URL`. Every test uses its own key prefix (`RedisPrefix`, whose keys go
//! with it), so tests never see each other's keys.

use ainative_test_support::RedisPrefix;
use ainative_test_support::{expect_error, json_of, Backend, TestApp, PASSWORD};
use reqwest::Method;
use serde_json::{json, Value};

const LOGIN: &str = "/api/v1/auth/login";

/// Two instances on one fresh PostgreSQL database and one Redis key space (`space`), with
/// `overrides` on both.
async fn two_instances(space: &RedisPrefix, overrides: &[(&str, &str)]) -> (TestApp, TestApp) {
    let mut env = vec![
        ("REDIS_URL", space.url()),
        ("REDIS_KEY_PREFIX", space.prefix()),
    ];
    env.extend_from_slice(overrides);
    let first = TestApp::spawn_with(Backend::Postgres, &env).await;
    let url = secrecy::ExposeSecret::expose_secret(&first.settings.database.url).to_owned();
    env.push(("DATABASE_URL", &url));
    let second = TestApp::spawn_with(Backend::Sqlite, &env).await;
    (first, second)
}

fn int_header(res: &reqwest::Response, name: &str) -> u64 {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{name} missing or not an integer: {:?}", res.headers()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_hold_one_global_anonymous_limit() {
    let space = RedisPrefix::new().await;
    let prefix = space.prefix();
    let (a, b) = two_instances(&space, &[("RATE_LIMIT_ANONYMOUS", "10")]).await;
    let mut remaining = Vec::new();
    let mut limited = 0;
    for i in 0..20 {
        let app = if i % 2 == 0 { &a } else { &b };
        let res = app.get("/openapi.json", None).await;
        match res.status().as_u16() {
            200 => remaining.push(int_header(&res, "x-ratelimit-remaining")),
            429 => {
                assert_eq!(int_header(&res, "x-ratelimit-limit"), 10);
                assert!((1..=60).contains(&int_header(&res, "retry-after")));
                expect_error(res, 429, "RATE_LIMITED").await;
                limited += 1;
            }
            other => panic!("request {i} on instance {}: {other}", i % 2),
        }
    }
    // One budget counted down by both instances: 9, 8, ..., 0, then only 429s.
    assert_eq!(remaining, (0..10).rev().collect::<Vec<u64>>());
    assert_eq!(limited, 10);
    // The counters live in Redis, under this deployment's prefix.
    let keys = space.keys().await;
    assert!(
        keys.iter()
            .any(|k| k.starts_with(&format!("{prefix}rl:")) && k.ends_with("ip:127.0.0.1")),
        "{keys:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_are_throttled_across_instances() {
    let space = RedisPrefix::new().await;
    let prefix = space.prefix();
    let (a, b) = two_instances(&space, &[("RATE_LIMIT_LOGIN", "3")]).await;
    a.register("thea").await;
    let wrong = json!({"username": "thea", "password": "Wrong-password-1"});
    for _ in 0..3 {
        expect_error(a.post(LOGIN, None, &wrong).await, 401, "UNAUTHORIZED").await;
    }
    // Instance B never saw a failure, yet the budget is spent: even the right password waits.
    let right = json!({"username": "thea", "password": PASSWORD});
    let res = b.post(LOGIN, None, &right).await;
    assert!((1..=900).contains(&int_header(&res, "retry-after")));
    expect_error(res, 429, "RATE_LIMITED").await;
    expect_error(a.post(LOGIN, None, &right).await, 429, "RATE_LIMITED").await;
    let keys = space.keys().await;
    assert!(
        keys.iter().any(|k| k.starts_with(&format!("{prefix}lt:"))),
        "{keys:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_redis_in_use() {
    let space = RedisPrefix::new().await;
    let app = TestApp::spawn_with(
        Backend::Postgres,
        &[
            ("REDIS_URL", space.url()),
            ("REDIS_KEY_PREFIX", space.prefix()),
        ],
    )
    .await;
    let res = app.get("/api/v1/health", None).await;
    let (status, body) = json_of(res).await;
    assert_eq!(status, 200, "{body}");
    let data = &body["data"];
    assert_eq!(data["status"], "healthy", "{body}");
    assert_eq!(data["components"]["redis"]["status"], "healthy", "{body}");
    assert!(
        data["components"]["redis"]["latency_ms"].is_number(),
        "{body}"
    );
    assert_eq!(data["components"]["cache"]["backend"], "redis", "{body}");
    assert_eq!(
        data["components"]["database"]["status"], "healthy",
        "{body}"
    );
    // Never a hostname, URL or port of a dependency.
    let text = body.to_string();
    for leak in ["redis://", "postgres://", "127.0.0.1", ":6379", ":5432"] {
        assert!(!text.contains(leak), "health leaks {leak}: {text}");
    }
}

async fn data(res: reqwest::Response, status: u16) -> Value {
    let (actual, body) = json_of(res).await;
    assert_eq!(actual.as_u16(), status, "{body}");
    body["data"].clone()
}

/// An instructor's access token (registered, promoted by `admin`, logged in again).
async fn instructor(app: &TestApp, admin: &str, username: &str) -> String {
    let user = app.register(username).await;
    let id = user["user"]["id"].as_str().expect("id");
    let res = app
        .call(
            Method::PATCH,
            &format!("/api/v1/admin/users/{id}"),
            Some(admin),
            Some(&json!({"roles": ["instructor"]})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let login = json!({"username": username, "password": PASSWORD});
    data(app.post(LOGIN, None, &login).await, 200).await["access_token"]
        .as_str()
        .expect("token")
        .to_owned()
}

/// A published activity owned by `owner`.
async fn activity(app: &TestApp, owner: &str) -> String {
    let body = json!({
        "title": "Loops in Python",
        "instructions": "Write a function that sums a list with a for loop.",
        "subject": "python",
        "difficulty": "beginner",
    });
    let created = data(
        app.post("/api/v1/activities", Some(owner), &body).await,
        201,
    )
    .await;
    let id = created["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/activities/{id}/publish");
    data(app.post(&path, Some(owner), &json!({})).await, 200).await;
    id
}

/// A new study session of `token` on `activity`.
async fn session(app: &TestApp, token: &str, activity: &str) -> String {
    let body = json!({"activity_id": activity});
    data(app.post("/api/v1/sessions", Some(token), &body).await, 201).await["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_share_the_llm_response_cache() {
    let space = RedisPrefix::new().await;
    let prefix = space.prefix();
    let (a, b) = two_instances(&space, &[]).await;
    let admin = a.admin("root").await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let owner = instructor(&a, &admin, "teacher").await;
    let activity = activity(&a, &owner).await;
    let alice = a.token_of("alice").await;
    let bob = b.token_of("bob").await;
    let on_a = session(&a, &alice, &activity).await;
    let on_b = session(&b, &bob, &activity).await;
    let ask = json!({"prompt": "What does the range function return?"});
    let first = data(
        a.post(
            &format!("/api/v1/sessions/{on_a}/interactions"),
            Some(&alice),
            &ask,
        )
        .await,
        201,
    )
    .await;
    let second = data(
        b.post(
            &format!("/api/v1/sessions/{on_b}/interactions"),
            Some(&bob),
            &ask,
        )
        .await,
        201,
    )
    .await;
    assert_eq!(first["interaction"]["cache_hit"], false, "{first}");
    assert_eq!(
        second["interaction"]["cache_hit"], true,
        "instance B answered from the cache instance A filled: {second}"
    );
    assert_eq!(
        first["interaction"]["response"],
        second["interaction"]["response"]
    );
    let keys = space.keys().await;
    assert!(
        keys.iter()
            .any(|k| k.starts_with(&format!("{prefix}cache:"))),
        "{keys:?}"
    );
}
