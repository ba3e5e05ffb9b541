//! Routing of turns to the activity owner's credential.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ainative_test_support::fixtures::{data, published_activity, start, turn};
use ainative_test_support::{expect_error, Backend, TestApp};
use reqwest::Method;
use serde_json::json;

use super::{captured_logs, cast, endpoint, register, spawn};

/// The `Authorization` header of every request `server` received.
async fn calls(server: &wiremock::MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| {
            r.headers
                .get("authorization")
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

async fn metrics(app: &TestApp) -> String {
    let url = format!("http://127.0.0.1:{}/metrics", app.metrics_port);
    app.client
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Alice's activity reaches Alice's endpoint with Alice's key, Bob's reaches Bob's; their
/// answers never mix (own cache namespaces), usage is counted, and the metrics say `own`.
async fn each_activity_reaches_its_owners_endpoint(backend: Backend) {
    let app = spawn(backend).await;
    let c = cast(&app).await;
    let key_a = "sk-alice-0123456789-AAAA";
    let key_b = "sk-bob-0123456789-BBBB";
    let fake_a = endpoint(key_a, "answer from A").await;
    let fake_b = endpoint(key_b, "answer from B").await;
    let cred_a = register(&app, &c.alice, &fake_a, key_a).await;
    let cred_b = register(&app, &c.bob, &fake_b, key_b).await;
    assert_eq!(cred_a["key_hint"], "sk-…AAAA");
    assert!(!cred_a.to_string().contains(key_a), "{cred_a}");
    let act_a =
        published_activity(&app, &c.alice, json!({"llm_credential_id": cred_a["id"]})).await;
    let act_b = published_activity(&app, &c.bob, json!({"llm_credential_id": cred_b["id"]})).await;
    let session_a = start(&app, &c.student, &act_a).await;
    let session_b = start(&app, &c.student, &act_b).await;
    // The same prompt on both: a shared cache would answer B with A's answer.
    let prompt = json!({"prompt": "What is a loop in Python?"});
    for _ in 0..2 {
        let a = data(
            turn(&app, &c.student, &session_a, prompt.clone()).await,
            201,
        )
        .await;
        assert_eq!(a["interaction"]["response"], "answer from A", "{a}");
        assert_eq!(a["interaction"]["provider"], "openai");
        let b = data(
            turn(&app, &c.student, &session_b, prompt.clone()).await,
            201,
        )
        .await;
        assert_eq!(b["interaction"]["response"], "answer from B", "{b}");
    }
    // The second identical turn of each session has its own history, so both reach the
    // endpoint; every call carries the owner's key.
    let seen_a = calls(&fake_a).await;
    let seen_b = calls(&fake_b).await;
    assert_eq!(seen_a, vec![format!("Bearer {key_a}"); seen_a.len()]);
    assert_eq!(seen_b, vec![format!("Bearer {key_b}"); seen_b.len()]);
    assert!(!seen_a.is_empty() && !seen_b.is_empty());

    let mine = data(
        app.get(
            &format!(
                "/api/v1/me/llm-credentials/{}",
                cred_a["id"].as_str().unwrap()
            ),
            Some(&c.alice),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(mine["total_requests"], 2);
    assert!(mine["last_used_at"].is_string());
    let text = metrics(&app).await;
    let own = format!(
        r#"llm_requests_total{{credential="own",model="own",outcome="success",provider="openai"}} {}"#,
        seen_a.len() + seen_b.len()
    );
    assert!(text.lines().any(|l| l == own), "{own} in\n{text}");
    assert!(
        !text.contains(cred_a["id"].as_str().unwrap()),
        "no id as a label"
    );
    for key in [key_a, key_b] {
        assert!(
            !captured_logs().text().contains(key),
            "a key reached the logs"
        );
    }
}

/// Suspended: the activity falls back to the platform's model, or answers 409 when it
/// requires its own; the admin actions are audited without the key; activation restores it.
async fn suspension_falls_back_or_conflicts(backend: Backend) {
    let app = spawn(backend).await;
    let c = cast(&app).await;
    let key = "sk-suspend-me-0123456789";
    let fake = endpoint(key, "own answer").await;
    let cred = register(&app, &c.alice, &fake, key).await;
    let id = cred["id"].as_str().unwrap();
    let lenient = published_activity(&app, &c.alice, json!({"llm_credential_id": id})).await;
    let strict = published_activity(
        &app,
        &c.alice,
        json!({"llm_credential_id": id, "require_own_credential": true}),
    )
    .await;
    let s_lenient = start(&app, &c.student, &lenient).await;
    let s_strict = start(&app, &c.student, &strict).await;
    let ask = |n: u32| json!({"prompt": format!("How do I write loop number {n}?")});

    let suspended = data(
        app.post(
            &format!("/api/v1/admin/llm-credentials/{id}/suspend"),
            Some(&c.admin),
            &json!({"reason": "abuse report"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(suspended["status"], "suspended");
    assert_eq!(suspended["suspension_reason"], "abuse report");
    let fallback = data(turn(&app, &c.student, &s_lenient, ask(1)).await, 201).await;
    assert_eq!(fallback["interaction"]["provider"], "offline", "{fallback}");
    let refused = expect_error(
        turn(&app, &c.student, &s_strict, ask(2)).await,
        409,
        "CONFLICT",
    )
    .await;
    assert!(refused["error"]["message"]
        .as_str()
        .unwrap()
        .contains("credential"));
    assert!(fake.received_requests().await.unwrap().is_empty());

    data(
        app.post(
            &format!("/api/v1/admin/llm-credentials/{id}/activate"),
            Some(&c.admin),
            &json!({}),
        )
        .await,
        200,
    )
    .await;
    let own = data(turn(&app, &c.student, &s_strict, ask(3)).await, 201).await;
    assert_eq!(own["interaction"]["response"], "own answer");

    let listed = data(
        app.get(
            "/api/v1/admin/llm-credentials?status=active",
            Some(&c.admin),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(listed["total"], 1);
    let audit = data(app.get("/api/v1/admin/audit", Some(&c.admin)).await, 200).await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["target_id"] == id)
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["credential_activated", "credential_suspended"]);
    assert!(!audit.to_string().contains(key));
}

/// Per-credential limits: over its requests per minute, the turn gets 429 with
/// Retry-After, and the endpoint is not called.
async fn limits_answer_429(backend: Backend) {
    let app = spawn(backend).await;
    let c = cast(&app).await;
    let key = "sk-limited-0123456789";
    let fake = endpoint(key, "limited answer").await;
    let cred = register(&app, &c.alice, &fake, key).await;
    let id = cred["id"].as_str().unwrap();
    let limited = data(
        app.call(
            Method::PATCH,
            &format!("/api/v1/admin/llm-credentials/{id}"),
            Some(&c.admin),
            Some(&json!({"rate_limit_rpm": 1})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(limited["rate_limit_rpm"], 1);
    assert!(limited["max_concurrent_requests"].is_null());
    let activity = published_activity(&app, &c.alice, json!({"llm_credential_id": id})).await;
    let session = start(&app, &c.student, &activity).await;
    data(
        turn(
            &app,
            &c.student,
            &session,
            json!({"prompt": "What is a list?"}),
        )
        .await,
        201,
    )
    .await;
    let res = turn(
        &app,
        &c.student,
        &session,
        json!({"prompt": "What is a tuple?"}),
    )
    .await;
    assert!(res.headers().get("retry-after").is_some());
    expect_error(res, 429, "RATE_LIMITED").await;
    assert_eq!(fake.received_requests().await.unwrap().len(), 1);
}

/// Suspension under load: no turn that starts after the suspend call returned reaches the
/// endpoint.
async fn suspension_under_load(backend: Backend) {
    let app = Arc::new(spawn(backend).await);
    let c = cast(&app).await;
    let key = "sk-under-load-0123456789";
    let fake = endpoint(key, "loaded answer").await;
    let cred = register(&app, &c.alice, &fake, key).await;
    let id = cred["id"].as_str().unwrap().to_owned();
    data(
        app.call(
            Method::PATCH,
            &format!("/api/v1/admin/llm-credentials/{id}"),
            Some(&c.admin),
            Some(&json!({"rate_limit_rpm": 0, "max_concurrent_requests": 50})),
        )
        .await,
        200,
    )
    .await;
    let activity = published_activity(&app, &c.alice, json!({"llm_credential_id": id})).await;
    let suspended = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for w in 0..3 {
        let student = app.token_of(&format!("learner{w}")).await;
        let session = start(&app, &student, &activity).await;
        let (app, suspended, sent) = (app.clone(), suspended.clone(), sent.clone());
        workers.push(tokio::spawn(async move {
            for n in 0..12 {
                // Tagged before the turn starts: `after` turns began once suspension returned.
                let tag = if suspended.load(Ordering::SeqCst) {
                    "after"
                } else {
                    "before"
                };
                let prompt = json!({"prompt": format!("What is recursion? ({tag} {w}-{n})")});
                let res = turn(&app, &student, &session, prompt).await;
                assert_eq!(res.status(), 201);
                sent.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    let progress = sent.clone();
    ainative_test_support::wait_until(Duration::from_secs(60), "the load is under way", || {
        let progress = progress.clone();
        async move { progress.load(Ordering::SeqCst) >= 6 }
    })
    .await;
    data(
        app.post(
            &format!("/api/v1/admin/llm-credentials/{id}/suspend"),
            Some(&c.admin),
            &json!({"reason": "load test"}),
        )
        .await,
        200,
    )
    .await;
    suspended.store(true, Ordering::SeqCst);
    for worker in workers {
        worker.await.unwrap();
    }
    let bodies: Vec<String> = fake
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert!(
        bodies.iter().any(|b| b.contains("(before ")),
        "the load reached the endpoint"
    );
    assert!(
        !bodies.iter().any(|b| b.contains("(after ")),
        "a turn started after the suspension used the credential"
    );
}

crate::both_backends!(
    each_activity_reaches_its_owners_endpoint,
    suspension_falls_back_or_conflicts,
    limits_answer_429,
    suspension_under_load,
);
