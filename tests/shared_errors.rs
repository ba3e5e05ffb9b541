//! `GET /admin/errors` behind a load balancer: two server instances on one PostgreSQL
//! database, and an error raised on one of them is listed by both — including an error
//! raised while that instance could not reach the database (it is stored once it can).

use std::time::Duration;

use ainative_test_support::{
    host_port, json_of, via_port, wait_until, within, Backend, TcpProxy, TestApp, TestDatabase,
};
use serde_json::Value;

const ERRORS: &str = "/api/v1/admin/errors";
/// Reads the database on every call (the caller's own study sessions).
const DB_READ: &str = "/api/v1/sessions";

/// The entries of `/admin/errors` on `app`.
async fn listed_errors(app: &TestApp, admin: &str) -> Vec<Value> {
    let (res, _) = within(
        Duration::from_secs(5),
        "GET /admin/errors",
        app.get(ERRORS, Some(admin)),
    )
    .await;
    let (status, body) = json_of(res).await;
    if status != 200 {
        return Vec::new();
    }
    assert_eq!(
        body["data"]["total"].as_u64(),
        body["data"]["items"]
            .as_array()
            .map(|items| items.len() as u64),
        "{body}"
    );
    body["data"]["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The entry of request `request_id`, if `app` lists it.
async fn listed(app: &TestApp, admin: &str, request_id: &str) -> Option<Value> {
    listed_errors(app, admin)
        .await
        .into_iter()
        .find(|e| e["request_id"] == request_id)
}

/// A server reaching `db` through a proxy the test can cut.
async fn behind_proxy(db: &TestDatabase) -> (TestApp, TcpProxy) {
    let proxy = TcpProxy::start(&host_port(db.url())).await;
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &[
            ("DATABASE_URL", &via_port(db.url(), proxy.port())),
            ("DB_POOL_TIMEOUT_SECS", "1"),
            ("DB_POOL_SIZE", "3"),
        ],
    )
    .await;
    (app, proxy)
}

/// Cuts `app` off the database, has it answer a 503, and lets it reach the database
/// again; returns the request id of the 503. While cut off, `app` cannot store the error,
/// nor read the shared list.
async fn raise_503(app: &TestApp, proxy: &TcpProxy, token: &str, admin: &str) -> String {
    proxy.cut();
    let (res, _) = within(
        Duration::from_secs(5),
        "GET /sessions",
        app.get(DB_READ, Some(token)),
    )
    .await;
    let (status, body) = json_of(res).await;
    assert_eq!(status, 503, "{body}");
    let (res, _) = within(
        Duration::from_secs(5),
        "GET /admin/errors",
        app.get(ERRORS, Some(admin)),
    )
    .await;
    assert_eq!(
        res.status(),
        503,
        "the shared list cannot be read while cut off"
    );
    proxy.resume();
    body["error"]["request_id"]
        .as_str()
        .expect("request id")
        .to_owned()
}

/// Waits until `app` lists request `request_id`; returns the entry.
async fn eventually_listed(app: &TestApp, admin: &str, request_id: &str) -> Value {
    wait_until(Duration::from_secs(15), "the error listed", || async {
        listed(app, admin, request_id).await.is_some()
    })
    .await;
    listed(app, admin, request_id).await.expect("listed")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_on_one_instance_is_listed_by_every_instance() {
    let db = TestDatabase::create().await;
    let (a, proxy_a) = behind_proxy(&db).await;
    let (b, proxy_b) = behind_proxy(&db).await;
    let admin = b.admin("root").await["access_token"]
        .as_str()
        .expect("admin token")
        .to_owned();
    let student = a.token_of("ada").await;
    assert!(listed_errors(&a, &admin).await.is_empty());

    // A fails while cut off; once it reaches the database again its writer stores the
    // error, and B lists it as A does.
    let on_a_id = raise_503(&a, &proxy_a, &student, &admin).await;
    let seen_by_b = eventually_listed(&b, &admin, &on_a_id).await;
    assert_eq!(seen_by_b["status"], 503, "{seen_by_b}");
    assert_eq!(seen_by_b["method"], "GET", "{seen_by_b}");
    assert_eq!(seen_by_b["route"], DB_READ, "{seen_by_b}");
    assert!(
        seen_by_b["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{seen_by_b}"
    );
    assert_eq!(listed(&a, &admin, &on_a_id).await, Some(seen_by_b.clone()));

    // The other way round: B's error is listed by A, under B's instance name.
    let on_b_id = raise_503(&b, &proxy_b, &student, &admin).await;
    let seen_by_a = eventually_listed(&a, &admin, &on_b_id).await;
    assert_ne!(seen_by_a["instance"], seen_by_b["instance"]);
    // Newest first; the refused reads of the list were server errors too.
    let all = listed_errors(&b, &admin).await;
    let routes: Vec<&str> = all.iter().filter_map(|e| e["route"].as_str()).collect();
    assert_eq!(routes, [ERRORS, DB_READ, ERRORS, DB_READ], "{all:?}");
    assert_eq!(all[1]["request_id"], on_b_id.as_str());
    assert_eq!(all[3]["request_id"], on_a_id.as_str());
}
