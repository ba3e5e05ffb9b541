//! Fault injection end to end (SPEC §9): Redis killed, frozen or absent, PostgreSQL cut off,
//! under load, against the real server over HTTP.
//!
//! - Redis faults use a private `redis-server` child process per test (killed, frozen with
//!   SIGSTOP, restarted on the same port), so no other test is disturbed.
//! - PostgreSQL faults put a test-owned TCP proxy between the server and a fresh database;
//!   cutting the proxy closes every live connection and refuses new ones, as a stopped
//!   server would, and resuming lets the same server in again.
//!
//! Every wait is bounded: a request that does not complete in time fails the test as a hang.
//! No phase lasts a fixed time: each ends once the load shows what the phase is about (the
//! load under way, requests served or refused during the outage, served again after it).

use std::time::{Duration, Instant};

use ainative_test_support::{
    expect_error, free_port, host_port, json_of, redis_command, register_body, via_port,
    wait_until, within, Backend, Load, RedisServer, Shot, Tally, TcpProxy, TestApp, TestDatabase,
    PASSWORD,
};
use reqwest::Response;
use serde_json::{json, Value};

const ME: &str = "/api/v1/auth/me";
const LOGIN: &str = "/api/v1/auth/login";
const REGISTER: &str = "/api/v1/auth/register";
const HEALTH: &str = "/api/v1/health";
const LIVE: &str = "/api/v1/health/live";
const READY: &str = "/api/v1/health/ready";
/// An anonymous, rate-limited route that needs neither the database nor a token.
const ANONYMOUS: &str = "/openapi.json";
/// An authenticated route that reads the database on every call (the caller's own study
/// sessions; `/me` may be answered from a user cache).
const DB_READ: &str = "/api/v1/sessions";

/// The anonymous limit of the Redis fault tests: low enough for the load to reach it.
const ANON_LIMIT: u64 = 100;
/// The client address of the anonymous load (the server trusts `X-Forwarded-For` from
/// 127.0.0.1), so that the load's spent budget does not hide the test's own requests.
const LOAD_IP: &str = "203.0.113.7";

// ---------------------------------------------------------------------------------------
// Helpers.
// ---------------------------------------------------------------------------------------

/// The `data` of `/api/v1/health` (any status), with the status code.
async fn health(app: &TestApp) -> (u16, Value) {
    let (res, _) = within(Duration::from_secs(3), "GET /health", app.get(HEALTH, None)).await;
    let (status, body) = json_of(res).await;
    (status.as_u16(), body["data"].clone())
}

/// True when `/health` answers 200 with the given overall and Redis status and cache backend.
async fn health_is(app: &TestApp, overall: &str, redis: &str, cache: &str) -> bool {
    let (status, data) = health(app).await;
    status == 200
        && data["status"] == overall
        && data["components"]["redis"]["status"] == redis
        && data["components"]["cache"]["backend"] == cache
}

/// Asserts a 503 SERVICE_UNAVAILABLE error envelope with an integer `Retry-After`.
async fn expect_unavailable(res: Response) {
    let retry_after = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let status = res.status();
    let body = expect_error(res, 503, "SERVICE_UNAVAILABLE").await;
    assert!(
        retry_after.is_some_and(|s| s >= 1),
        "503 without an integer Retry-After ({status}): {body}"
    );
}

/// Number of keys in the Redis at `addr`.
async fn dbsize(addr: &str) -> i64 {
    match redis_command(addr, &["DBSIZE"]).await {
        Ok(reply) => reply.int(),
        Err(_) => 0,
    }
}

fn access_token(data: &Value) -> String {
    data["access_token"].as_str().expect("token").to_owned()
}

/// Waits until `phase` of `load` has seen `count` answers with `status`.
async fn until_answered(load: &Load, phase: usize, status: u16, count: u64) {
    let what = format!(
        "{count} answers {status} in phase {}",
        ainative_test_support::PHASES[phase]
    );
    load.until(Duration::from_secs(15), &what, |t| {
        t.of(phase, status) >= count
    })
    .await;
}

/// Asserts that the load saw no 5xx and no failed or timed-out request.
fn assert_no_server_errors(tally: &Tally) {
    assert_eq!(
        tally.bad(),
        0,
        "5xx or failed requests: {:?}\n{:#?}",
        tally.counts,
        tally.failures
    );
}

/// Load on `app`: `users` tokens on `GET /me` and as many anonymous tasks on [`ANONYMOUS`].
fn mixed_load(app: &TestApp, users: &[String], timeout: Duration) -> Load {
    let mut shots = Vec::new();
    for token in users {
        shots.push(Shot {
            path: ME.to_owned(),
            token: Some(token.clone()),
            forwarded_for: None,
        });
        shots.push(Shot {
            path: ANONYMOUS.to_owned(),
            token: None,
            forwarded_for: Some(LOAD_IP.to_owned()),
        });
    }
    Load::start(&app.base, shots, timeout)
}

/// A server using the private Redis `redis`, on a fresh PostgreSQL database.
async fn app_on_redis(redis_url: &str) -> TestApp {
    TestApp::spawn_with(
        Backend::Postgres,
        &[
            ("REDIS_URL", redis_url),
            ("REDIS_KEY_PREFIX", "ainative-e2e:faults:"),
            ("RATE_LIMIT_ANONYMOUS", &ANON_LIMIT.to_string()),
            ("TRUSTED_PROXIES", "127.0.0.1/32"),
        ],
    )
    .await
}

/// Asserts that the anonymous limit is counted in Redis: after emptying it, exactly
/// [`ANON_LIMIT`] anonymous requests from [`LOAD_IP`] pass. (While degraded, the in-process
/// count, which the load already filled, would refuse them.)
async fn assert_limited_by_redis(app: &TestApp, redis_addr: &str) {
    let flushed = redis_command(redis_addr, &["FLUSHDB"])
        .await
        .expect("FLUSHDB");
    assert_eq!(flushed, ainative_test_support::Reply::Status("OK".into()));
    let (mut allowed, mut limited) = (0, 0);
    for _ in 0..ANON_LIMIT + 5 {
        let res = app
            .get_with(ANONYMOUS, None, &[("x-forwarded-for", LOAD_IP)])
            .await;
        match res.status().as_u16() {
            200 => allowed += 1,
            429 => limited += 1,
            other => panic!("anonymous request answered {other}"),
        }
    }
    assert_eq!((allowed, limited), (ANON_LIMIT, 5));
}

// ---------------------------------------------------------------------------------------
// Redis.
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_under_load_degrades_without_errors_and_recovers() {
    let mut redis = RedisServer::start().await;
    let app = app_on_redis(&redis.url()).await;
    let mut users = Vec::new();
    for i in 0..4 {
        users.push(app.token_of(&format!("load{i}")).await);
    }
    let leaver = access_token(&app.register("leaver").await);
    assert!(health_is(&app, "healthy", "healthy", "redis").await);

    let load = mixed_load(&app, &users, Duration::from_secs(5));
    until_answered(&load, 0, 200, 20).await;

    load.enter(1);
    redis.kill();
    wait_until(
        Duration::from_secs(1),
        "health reports degraded (200) while Redis is down",
        || health_is(&app, "degraded", "degraded", "memory"),
    )
    .await;
    // A revocation made while Redis is down holds at once on this instance.
    let (res, _) = within(
        Duration::from_secs(3),
        "logout",
        app.post("/api/v1/auth/logout", Some(&leaver), &json!({})),
    )
    .await;
    assert_eq!(res.status(), 200);
    expect_error(app.get(ME, Some(&leaver)).await, 401, "UNAUTHORIZED").await;
    // Served, and limited in process, while Redis is down.
    until_answered(&load, 1, 200, 20).await;
    until_answered(&load, 1, 429, 1).await;

    load.enter(2);
    redis.restart().await;
    // Back to Redis by itself (the background probe, not a health check): the limiter's and
    // the revocation sync's keys reappear in the empty, restarted Redis.
    let addr = redis.addr();
    let back = wait_until(Duration::from_secs(5), "Redis in use again", || {
        let addr = addr.clone();
        async move { dbsize(&addr).await > 0 }
    })
    .await;
    wait_until(
        Duration::from_secs(5).saturating_sub(back),
        "health healthy again within 5 s of Redis' return",
        || health_is(&app, "healthy", "healthy", "redis"),
    )
    .await;
    until_answered(&load, 2, 200, 10).await;
    let tally = load.finish().await;
    eprintln!(
        "load: {:?}, slowest {:?}; Redis in use {back:?} after its return",
        tally.counts, tally.slowest
    );

    assert_no_server_errors(&tally);
    for phase in 0..3 {
        assert!(
            tally.of(phase, 200) > 0,
            "no success in phase {phase}: {tally:?}"
        );
    }
    assert!(
        tally.of(1, 429) > 0,
        "limits still hold (per instance) while Redis is down: {tally:?}"
    );
    // The revocation outlives the outage, and the limiter counts in Redis again.
    expect_error(app.get(ME, Some(&leaver)).await, 401, "UNAUTHORIZED").await;
    assert_limited_by_redis(&app, &redis.addr()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frozen_redis_costs_one_timeout_not_errors() {
    let redis = RedisServer::start().await;
    let app = app_on_redis(&redis.url()).await;
    let mut users = Vec::new();
    for i in 0..4 {
        users.push(app.token_of(&format!("load{i}")).await);
    }
    let load = mixed_load(&app, &users, Duration::from_secs(5));
    until_answered(&load, 0, 200, 10).await;

    // SIGSTOP: connections are accepted by the kernel, but nothing ever answers.
    load.enter(1);
    redis.freeze();
    wait_until(
        Duration::from_secs(2),
        "health reports degraded while Redis does not answer",
        || health_is(&app, "degraded", "degraded", "memory"),
    )
    .await;
    until_answered(&load, 1, 200, 20).await;

    load.enter(2);
    redis.thaw();
    wait_until(
        Duration::from_secs(5),
        "health healthy again within 5 s of Redis answering",
        || health_is(&app, "healthy", "healthy", "redis"),
    )
    .await;
    until_answered(&load, 2, 200, 10).await;
    let tally = load.finish().await;
    eprintln!("load: {:?}, slowest {:?}", tally.counts, tally.slowest);

    assert_no_server_errors(&tally);
    assert!(
        tally.of(1, 200) > 0,
        "served while Redis was frozen: {tally:?}"
    );
    // REDIS_TIMEOUT_MS (250 ms) bounds what a silent Redis costs a request.
    assert!(
        tally.slowest < Duration::from_secs(2),
        "a request took {:?}",
        tally.slowest
    );
    assert_limited_by_redis(&app, &redis.addr()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_absent_at_start_is_used_once_it_arrives() {
    let port = free_port();
    let url = format!("redis://127.0.0.1:{port}");
    // Nothing listens there: the server starts anyway, degraded.
    let app = app_on_redis(&url).await;
    assert!(health_is(&app, "degraded", "degraded", "memory").await);
    let token = app.token_of("early").await;
    assert_eq!(app.get(ME, Some(&token)).await.status(), 200);
    assert_eq!(app.get(ANONYMOUS, None).await.status(), 200);

    let redis = RedisServer::start_on(port).await;
    let addr = redis.addr();
    // No request needed: the background probe finds it.
    wait_until(
        Duration::from_secs(5),
        "Redis in use once it arrives",
        || {
            let addr = addr.clone();
            let app = &app;
            async move {
                let _ = app.get(ANONYMOUS, None).await;
                dbsize(&addr).await > 0
            }
        },
    )
    .await;
    assert!(health_is(&app, "healthy", "healthy", "redis").await);
    assert_eq!(app.get(ME, Some(&token)).await.status(), 200);
}

// ---------------------------------------------------------------------------------------
// PostgreSQL.
// ---------------------------------------------------------------------------------------

/// `DB_POOL_TIMEOUT_SECS` of the PostgreSQL fault tests.
const POOL_TIMEOUT: Duration = Duration::from_secs(2);

/// A fresh database, a proxy in front of it and a server reaching it through the proxy.
/// Fields drop in order: server, proxy, database.
struct CutOff {
    app: TestApp,
    proxy: TcpProxy,
    _db: TestDatabase,
}

async fn behind_proxy() -> CutOff {
    let db = TestDatabase::create().await;
    let proxy = TcpProxy::start(&host_port(db.url())).await;
    let url = via_port(db.url(), proxy.port());
    let timeout = POOL_TIMEOUT.as_secs().to_string();
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &[
            ("DATABASE_URL", &url),
            ("DB_POOL_TIMEOUT_SECS", &timeout),
            ("DB_POOL_SIZE", "3"),
        ],
    )
    .await;
    CutOff {
        app,
        proxy,
        _db: db,
    }
}

async fn wait_ready(app: &TestApp, limit: Duration) {
    wait_until(limit, "readiness 200", || async {
        let (res, _) = within(Duration::from_secs(3), "GET /ready", app.get(READY, None)).await;
        res.status() == 200
    })
    .await;
}

async fn login(app: &TestApp, username: &str) -> Response {
    app.post(
        LOGIN,
        None,
        &json!({"username": username, "password": PASSWORD}),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_lost_answers_503_fast_and_recovers_without_restart() {
    let CutOff { app, proxy, _db } = behind_proxy().await;
    let token = access_token(&app.register("ada").await);
    assert_eq!(app.get(READY, None).await.status(), 200);

    proxy.cut();
    let cut = Instant::now();
    let (res, _) = within(Duration::from_secs(5), "readiness", app.get(READY, None)).await;
    expect_unavailable(res).await;
    assert!(
        cut.elapsed() <= Duration::from_secs(2),
        "readiness answered 503 only after {:?}",
        cut.elapsed()
    );
    let (res, took) = within(Duration::from_secs(1), "liveness", app.get(LIVE, None)).await;
    assert_eq!(res.status(), 200, "liveness took {took:?}");

    // Several DB-backed requests at once: each gets its 503 within the pool timeout + 1 s.
    let bound = POOL_TIMEOUT + Duration::from_secs(1);
    let calls = (0..6).map(|i| {
        let app = &app;
        let token = token.clone();
        async move {
            let (res, took) = if i % 2 == 0 {
                within(
                    bound,
                    "GET /sessions while cut off",
                    app.get(DB_READ, Some(&token)),
                )
                .await
            } else {
                within(bound, "login while cut off", login(app, "ada")).await
            };
            expect_unavailable(res).await;
            took
        }
    });
    let took = futures::future::join_all(calls).await;
    assert!(took.iter().all(|t| *t <= bound), "{took:?}");

    let (status, data) = health(&app).await;
    assert_eq!(status, 503, "{data}");
    assert_eq!(data["status"], "unhealthy");
    assert_eq!(data["components"]["database"]["status"], "unhealthy");
    let (res, _) = within(Duration::from_secs(1), "liveness", app.get(LIVE, None)).await;
    assert_eq!(res.status(), 200);

    proxy.resume();
    wait_ready(&app, Duration::from_secs(5)).await;
    // Same process, same pool: what was committed before the cut is all there.
    assert_eq!(app.get(DB_READ, Some(&token)).await.status(), 200);
    let (status, body) = json_of(login(&app, "ada").await).await;
    assert_eq!(status, 200, "{body}");
    let (status, data) = health(&app).await;
    assert_eq!((status, data["status"].as_str()), (200, Some("healthy")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_lost_under_load_gives_503_never_500_or_a_hang() {
    let CutOff { app, proxy, _db } = behind_proxy().await;
    let mut shots = Vec::new();
    for i in 0..4 {
        shots.push(Shot {
            path: DB_READ.to_owned(),
            token: Some(app.token_of(&format!("busy{i}")).await),
            forwarded_for: None,
        });
    }
    for _ in 0..2 {
        shots.push(Shot {
            path: LIVE.to_owned(),
            token: None,
            forwarded_for: None,
        });
    }
    // A request may wait for the pool (2 s) and then some: 4 s means it hung.
    let load = Load::start(&app.base, shots, POOL_TIMEOUT + Duration::from_secs(2));
    until_answered(&load, 0, 200, 10).await;
    load.enter(1);
    proxy.cut();
    // Database reads refused (one per reading task) while liveness goes on.
    until_answered(&load, 1, 503, 4).await;
    until_answered(&load, 1, 200, 1).await;
    load.enter(2);
    proxy.resume();
    wait_ready(&app, Duration::from_secs(5)).await;
    until_answered(&load, 2, 200, 10).await;
    let tally = load.finish().await;
    eprintln!("load: {:?}, slowest {:?}", tally.counts, tally.slowest);

    let unexpected: Vec<_> = tally
        .counts
        .iter()
        .flat_map(|c| c.keys())
        .filter(|k| *k != "200" && *k != "503")
        .collect();
    assert!(
        unexpected.is_empty(),
        "only 200 and 503 expected: {:?}\n{:#?}",
        tally.counts,
        tally.failures
    );
    // Requests in flight at the cut are counted in the phase they were sent in: any request
    // that overlapped the cut (sent before or during it) must have been answered 503.
    assert!(tally.of(0, 503) + tally.of(1, 503) > 0, "{tally:?}");
    assert!(tally.of(1, 200) > 0, "liveness served: {tally:?}");
    assert!(tally.of(2, 200) > 0, "{tally:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_refused_while_cut_off_leaves_nothing_half_written() {
    let CutOff { app, proxy, _db } = behind_proxy().await;
    app.register("before").await;

    proxy.cut();
    let body = register_body("grace");
    let (res, took) = within(
        POOL_TIMEOUT + Duration::from_secs(2),
        "registration while cut off",
        app.post(REGISTER, None, &body),
    )
    .await;
    expect_unavailable(res).await;
    assert!(took <= POOL_TIMEOUT + Duration::from_secs(1), "{took:?}");

    proxy.resume();
    wait_ready(&app, Duration::from_secs(5)).await;
    // Nothing of the refused registration was kept: the same one now succeeds (no 409).
    let (status, created) = json_of(app.post(REGISTER, None, &body).await).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(login(&app, "grace").await.status(), 200);
    assert_eq!(login(&app, "before").await.status(), 200);
}

/// A database that stops answering without closing its connections (hung server, network
/// partition, paused VM). Readiness notices within 2 s, and requests that need a new
/// connection get 503 after the pool timeout; but a query already sent waits for as long as
/// the database stays silent (here, the whole freeze; in production until TCP gives up),
/// holding its pool connection: nothing bounds a query's execution.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unresponsive_postgres_gives_503_within_the_pool_timeout_never_a_hang() {
    let CutOff { app, proxy, _db } = behind_proxy().await;
    let mut shots = Vec::new();
    for i in 0..4 {
        shots.push(Shot {
            path: DB_READ.to_owned(),
            token: Some(app.token_of(&format!("busy{i}")).await),
            forwarded_for: None,
        });
    }
    // Generous, so that the slowest request is measured rather than cut short.
    let load = Load::start(&app.base, shots, Duration::from_secs(15));
    until_answered(&load, 0, 200, 10).await;
    load.enter(1);
    // The server's connections stay open but nothing answers, queries in flight included.
    proxy.freeze();
    let frozen = Instant::now();
    let (res, _) = within(Duration::from_secs(3), "readiness", app.get(READY, None)).await;
    expect_unavailable(res).await;
    assert!(
        frozen.elapsed() <= Duration::from_secs(2),
        "{:?}",
        frozen.elapsed()
    );
    // Silent long enough for each of the 4 tasks to meet it twice on average (a 503 each
    // time, every ~2 s): a request that hung instead would outlast the bound asserted below,
    // and if they all hung this wait itself would fail.
    until_answered(&load, 1, 503, 8).await;
    load.enter(2);
    proxy.thaw();
    wait_ready(&app, Duration::from_secs(5)).await;
    until_answered(&load, 2, 200, 4).await;
    let tally = load.finish().await;
    eprintln!("load: {:?}, slowest {:?}", tally.counts, tally.slowest);

    let unexpected: Vec<_> = tally
        .counts
        .iter()
        .flat_map(|c| c.keys())
        .filter(|k| *k != "200" && *k != "503")
        .collect();
    assert!(
        unexpected.is_empty(),
        "{:?}\n{:#?}",
        tally.counts,
        tally.failures
    );
    assert!(
        tally.slowest <= POOL_TIMEOUT + Duration::from_secs(1),
        "a request waited {:?} for an unresponsive database (bound: DB_POOL_TIMEOUT_SECS + 1 s)",
        tally.slowest
    );
}
