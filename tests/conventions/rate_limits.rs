//! Request limits (SPEC §5) over HTTP: anonymous per IP, users per tier, the limit headers,
//! `/auth/rate-limit`, exempt health endpoints and `X-Forwarded-For` trust.

use ainative_test_support::http::{assert_limit_headers, expect_limited, header, int_header};
use ainative_test_support::{json_of, TestApp};

use super::{sqlite_with, ME};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_requests_are_limited_per_ip_but_health_never_is() {
    let app = sqlite_with(&[("RATE_LIMIT_ANONYMOUS", "3")]).await;
    for remaining in [2, 1, 0] {
        let res = app.get("/openapi.json", None).await;
        assert_eq!(res.status(), 200);
        assert_limit_headers(res.headers(), 3, remaining);
    }
    expect_limited(app.get("/openapi.json", None).await, 3).await;
    // The limit is per client, not per route.
    expect_limited(app.get(ME, None).await, 3).await;
    for _ in 0..5 {
        for path in [
            "/api/v1/health",
            "/api/v1/health/live",
            "/api/v1/health/ready",
        ] {
            let res = app.get(path, None).await;
            assert_eq!(res.status(), 200, "{path} is never limited");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_limited_per_user_by_tier() {
    let app = sqlite_with(&[("RATE_LIMIT_FREE_TIER", "3")]).await;
    let alice = app.token_of("alice").await;
    let bob = app.token_of("bob").await;
    for remaining in [2, 1, 0] {
        let res = app.get(ME, Some(&alice)).await;
        assert_eq!(res.status(), 200);
        assert_limit_headers(res.headers(), 3, remaining);
    }
    expect_limited(app.get(ME, Some(&alice)).await, 3).await;
    // Bob, from the same address, has his own bucket; anonymous callers too.
    let res = app.get(ME, Some(&bob)).await;
    assert_eq!(res.status(), 200);
    assert_limit_headers(res.headers(), 3, 2);
    assert_eq!(app.get("/openapi.json", None).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_tier_zero_means_unlimited() {
    let app = sqlite_with(&[
        ("RATE_LIMIT_FREE_TIER", "2"),
        ("RATE_LIMIT_ADMIN_TIER", "0"),
    ])
    .await;
    let admin = app.admin("boss").await;
    let token = admin["access_token"].as_str().expect("token");
    for _ in 0..8 {
        let res = app.get(ME, Some(token)).await;
        assert_eq!(res.status(), 200);
    }
    let (status, body) = json_of(app.get("/api/v1/auth/rate-limit", Some(token)).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["tier"], "admin", "{body}");
    assert_eq!(body["data"]["limit"], 0, "{body}");
    assert_eq!(body["data"]["unlimited"], true, "{body}");
    // The free tier is still limited meanwhile.
    let student = app.token_of("pupil").await;
    for _ in 0..2 {
        assert_eq!(app.get(ME, Some(&student)).await.status(), 200);
    }
    expect_limited(app.get(ME, Some(&student)).await, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_endpoint_agrees_with_the_headers() {
    let app = sqlite_with(&[("RATE_LIMIT_FREE_TIER", "5")]).await;
    let token = app.token_of("counter").await;
    let res = app.get(ME, Some(&token)).await;
    assert_limit_headers(res.headers(), 5, 4);
    let res = app.get("/api/v1/auth/rate-limit", Some(&token)).await;
    let headers = res.headers().clone();
    let (status, body) = json_of(res).await;
    assert_eq!(status, 200, "{body}");
    let data = &body["data"];
    assert_eq!(data["tier"], "free", "{data}");
    assert_eq!(data["unlimited"], false, "{data}");
    assert_eq!(data["limit"], 5, "{data}");
    assert_eq!(
        data["remaining"].as_u64(),
        Some(int_header(&headers, "x-ratelimit-remaining")),
        "{data} vs {headers:?}"
    );
    assert_eq!(data["remaining"], 3, "{data}");
    let reset = data["reset_secs"].as_u64().expect("reset_secs");
    assert!(reset <= 60, "{data}");
    assert!(
        reset.abs_diff(int_header(&headers, "x-ratelimit-reset")) <= 1,
        "{data} vs {headers:?}"
    );
    assert_eq!(
        header(&headers, "cache-control").as_deref(),
        Some("no-store")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spoofed_forwarded_for_from_untrusted_peer_is_ignored() {
    let app = sqlite_with(&[("RATE_LIMIT_ANONYMOUS", "2")]).await;
    for i in 1..=2 {
        let xff = format!("198.51.100.{i}");
        let res = app
            .get_with("/openapi.json", None, &[("x-forwarded-for", &xff)])
            .await;
        assert_eq!(res.status(), 200);
    }
    let res = app
        .get_with(
            "/openapi.json",
            None,
            &[("x-forwarded-for", "198.51.100.3")],
        )
        .await;
    expect_limited(res, 2).await;
}

async fn forwarded_for(app: &TestApp, xff: &str) -> reqwest::Response {
    app.get_with("/openapi.json", None, &[("x-forwarded-for", xff)])
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trusted_proxy_forwarded_for_gives_separate_buckets() {
    let app = sqlite_with(&[
        ("RATE_LIMIT_ANONYMOUS", "2"),
        ("TRUSTED_PROXIES", "127.0.0.1/32"),
    ])
    .await;
    assert_eq!(forwarded_for(&app, "198.51.100.1").await.status(), 200);
    assert_eq!(forwarded_for(&app, "198.51.100.1").await.status(), 200);
    expect_limited(forwarded_for(&app, "198.51.100.1").await, 2).await;
    // Another client behind the proxy has its own bucket.
    let res = forwarded_for(&app, "198.51.100.2").await;
    assert_eq!(res.status(), 200);
    assert_limit_headers(res.headers(), 2, 1);
    // The rightmost untrusted hop counts: a client cannot pick its bucket by prepending.
    let res = app
        .get_with(
            "/openapi.json",
            None,
            &[("x-forwarded-for", "203.0.113.77, 198.51.100.1")],
        )
        .await;
    expect_limited(res, 2).await;
}
