//! Two `ainative serve` processes behind nginx (SPEC §10.6), with the configuration shipped in
//! `deploy/nginx/ainative.conf.template`, on one PostgreSQL database and one Redis: rate
//! limits and login throttling are global, a logout on one instance is refused by the other
//! within a second, identical concurrent turns on both make one provider call, and a
//! streamed turn passes the proxy unbuffered.
//!
//! Needs `nginx` on PATH (`.ci/run` installs it); without it these tests are reported as
//! ignored (see build.rs), never as passed.

#![cfg_attr(not(has_nginx), allow(dead_code, unused_imports))]

mod deployment;

use std::sync::atomic::Ordering;
use std::time::Duration;

use ainative_test_support::fake::as_overrides;
use ainative_test_support::wait_until;
use deployment::{Deployment, FakeLlmProvider};
use futures::StreamExt;
use serde_json::{json, Value};

#[cfg_attr(not(has_nginx), ignore = "nginx is not installed")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_and_login_throttling_are_global_behind_nginx() {
    let deployment =
        Deployment::start(&[("RATE_LIMIT_ANONYMOUS", "20"), ("RATE_LIMIT_LOGIN", "3")]).await;
    let proxy = deployment.proxy();

    let mut statuses = Vec::new();
    for _ in 0..50 {
        statuses.push(proxy.get("/api/v1/auth/me", None).await.0);
    }
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(
        limited, 30,
        "20 of 50 anonymous requests pass over both instances together: {statuses:?}"
    );
    assert!(
        deployment.both_answered().await,
        "nginx used both instances"
    );

    // Login throttling, from another client address (X-Forwarded-For through a trusted hop).
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let (status, _) = proxy
            .post_from(
                "203.0.113.7",
                "/api/v1/auth/login",
                None,
                &json!({"username": "lena", "password": "Wrong-password-1"}),
            )
            .await;
        statuses.push(status);
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429, 429], "{statuses:?}");
}

#[cfg_attr(not(has_nginx), ignore = "nginx is not installed")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_on_one_instance_is_refused_by_the_other_within_a_second() {
    let deployment = Deployment::start(&[]).await;
    let (a, b) = (deployment.instance(0), deployment.instance(1));
    let token = a.register("lena").await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert_eq!(b.get("/api/v1/auth/me", Some(&token)).await.0, 200);

    let (status, body) = a
        .post("/api/v1/auth/logout", Some(&token), &json!({}))
        .await;
    assert!(status == 200 || status == 204, "{status} {body}");
    wait_until(Duration::from_secs(1), "B refuses the token", || async {
        b.get("/api/v1/auth/me", Some(&token)).await.0 == 401
    })
    .await;
    assert_eq!(
        deployment
            .proxy()
            .get("/api/v1/auth/me", Some(&token))
            .await
            .0,
        401
    );
}

#[cfg_attr(not(has_nginx), ignore = "nginx is not installed")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_turns_on_both_instances_make_one_provider_call() {
    let provider = FakeLlmProvider::start(Duration::from_millis(500)).await;
    let deployment = Deployment::start(&as_overrides(&provider.env())).await;
    let (a, b) = (deployment.instance(0), deployment.instance(1));
    let activity = deployment.published_activity().await;

    let mut students = Vec::new();
    for i in 0..8 {
        let via = if i % 2 == 0 { a } else { b };
        let token = via.token_of(&format!("learner{i}")).await;
        let session = via.start(&token, &activity).await;
        students.push((via, token, session));
    }
    let turns = students.iter().map(|(via, token, session)| async move {
        via.post(
            &format!("/api/v1/sessions/{session}/interactions"),
            Some(token),
            &json!({"prompt": "What is a for loop?"}),
        )
        .await
    });
    let answers = futures::future::join_all(turns).await;
    let mut leaders = 0;
    for (status, body) in &answers {
        assert_eq!(*status, 201, "{body}");
        let interaction = &body["data"]["interaction"];
        assert_eq!(interaction["response"], "One shared answer", "{body}");
        if interaction["cache_hit"] == false {
            leaders += 1;
        } else {
            assert_eq!(
                interaction["tokens_in"], 0,
                "a follower carries no usage: {body}"
            );
        }
    }
    assert_eq!(leaders, 1, "{answers:?}");
    assert_eq!(
        provider.completions.load(Ordering::SeqCst),
        1,
        "one provider call for eight identical turns on two instances"
    );
}

#[cfg_attr(not(has_nginx), ignore = "nginx is not installed")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_turn_passes_nginx_unbuffered() {
    let provider = FakeLlmProvider::start(Duration::ZERO).await;
    let deployment = Deployment::start(&as_overrides(&provider.env())).await;
    let proxy = deployment.proxy();
    let activity = deployment.published_activity().await;
    let token = deployment.instance(0).token_of("lena").await;
    let session = deployment.instance(0).start(&token, &activity).await;

    let res = proxy
        .http
        .post(proxy.url(&format!("/api/v1/sessions/{session}/interactions/stream")))
        .bearer_auth(&token)
        .json(&json!({"prompt": "Explain loops"}))
        .send()
        .await
        .expect("stream opens");
    assert_eq!(res.status(), 200);
    let mut body = res.bytes_stream();
    let mut received = String::new();
    // The provider holds its last words until the first delta has reached the client: a
    // buffering proxy would deliver nothing before the end and the wait would fail.
    let first = tokio::time::timeout(Duration::from_secs(10), async {
        while !received.contains("event: delta") {
            match body.next().await {
                Some(Ok(chunk)) => received.push_str(&String::from_utf8_lossy(&chunk)),
                _ => break,
            }
        }
    })
    .await;
    assert!(
        first.is_ok() && received.contains("event: delta"),
        "no delta came through nginx while the provider held the rest: {received:?}"
    );
    assert!(!received.contains("event: done"), "{received}");
    provider.finish_streams();
    while let Some(chunk) = body.next().await {
        received.push_str(&String::from_utf8_lossy(&chunk.expect("chunk")));
    }
    assert!(received.contains("event: done"), "{received}");
    let done: Value = received
        .split("event: done\ndata: ")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .and_then(|line| serde_json::from_str(line).ok())
        .expect("done payload");
    assert_eq!(
        done["interaction"]["response"], "Hello from the stream",
        "{done}"
    );
}
