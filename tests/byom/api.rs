//! The owner and admin endpoints: RBAC, masking, bad input, SSRF, verification.

use ainative_test_support::fixtures::{data, published_activity};
use ainative_test_support::{expect_error, Backend};
use reqwest::Method;
use serde_json::json;

use super::{captured_logs, cast, endpoint, register, spawn, spawn_with};

/// Who may do what: students register too, nobody sees or changes another's credential
/// (404), admins list all; the key is never returned; an activity cannot name another
/// user's credential.
async fn rbac_matrix_and_masking(backend: Backend) {
    let app = spawn(backend).await;
    let c = cast(&app).await;
    let key = "sk-rbac-secret-0123456789-WXYZ";
    let fake = endpoint(key, "hi").await;
    let body = json!({
        "provider": "openai-compatible",
        "base_url": format!("{}/v1", fake.uri()),
        "model": "m",
        "api_key": key,
        "label": "student try",
    });
    // Registering spends nothing; only activities that allow it let a session use it.
    let students = data(
        app.post("/api/v1/me/llm-credentials", Some(&c.student), &body)
            .await,
        201,
    )
    .await;
    assert_eq!(students["owner_id"].as_str().map(str::len), Some(36));
    let cred = register(&app, &c.alice, &fake, key).await;
    let id = cred["id"].as_str().unwrap();
    assert_eq!(cred["key_hint"], "sk-…WXYZ");
    assert_eq!(cred["status"], "active");
    assert_eq!(cred["is_verified"], false);
    assert!(cred.get("api_key").is_none() && !cred.to_string().contains(key));
    let one = format!("/api/v1/me/llm-credentials/{id}");

    let own = data(
        app.get("/api/v1/me/llm-credentials", Some(&c.student))
            .await,
        200,
    )
    .await;
    assert_eq!(own["total"], 1);
    assert_eq!(own["items"][0]["id"], students["id"]);
    for token in [&c.student, &c.bob, &c.admin] {
        expect_error(app.get(&one, Some(token)).await, 404, "NOT_FOUND").await;
        expect_error(
            app.call(
                Method::PATCH,
                &one,
                Some(token),
                Some(&json!({"label": "x"})),
            )
            .await,
            404,
            "NOT_FOUND",
        )
        .await;
        expect_error(
            app.call(Method::DELETE, &one, Some(token), None).await,
            404,
            "NOT_FOUND",
        )
        .await;
        expect_error(
            app.post(&format!("{one}/verify"), Some(token), &json!({}))
                .await,
            404,
            "NOT_FOUND",
        )
        .await;
    }
    for path in [
        "/api/v1/admin/llm-credentials".to_owned(),
        format!("/api/v1/admin/llm-credentials/{id}/activate"),
    ] {
        let res = if path.ends_with("activate") {
            app.post(&path, Some(&c.alice), &json!({})).await
        } else {
            app.get(&path, Some(&c.alice)).await
        };
        expect_error(res, 403, "FORBIDDEN").await;
    }
    let mine = data(
        app.get("/api/v1/me/llm-credentials", Some(&c.alice)).await,
        200,
    )
    .await;
    assert_eq!(mine["total"], 1);
    let all = data(
        app.get(
            &format!(
                "/api/v1/admin/llm-credentials?user_id={}",
                cred["owner_id"].as_str().unwrap()
            ),
            Some(&c.admin),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(all["items"][0]["id"], id);
    assert!(!all.to_string().contains(key));

    // An activity naming another user's credential (or none at all) is refused.
    let other = json!({"title": "Theft", "policies": {"llm_credential_id": id}});
    let refused = expect_error(
        app.post("/api/v1/activities", Some(&c.bob), &other).await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    assert_eq!(
        refused["error"]["details"][0]["field"],
        "policies.llm_credential_id"
    );
    let ghost = json!({"title": "Ghost", "policies": {"llm_credential_id": uuid::Uuid::new_v4()}});
    expect_error(
        app.post("/api/v1/activities", Some(&c.alice), &ghost).await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    let bobs = published_activity(&app, &c.bob, json!({})).await;
    expect_error(
        app.call(
            Method::PATCH,
            &format!("/api/v1/activities/{bobs}"),
            Some(&c.bob),
            Some(&json!({"policies": {"llm_credential_id": id}})),
        )
        .await,
        422,
        "VALIDATION_ERROR",
    )
    .await;

    // The owner renames, rotates the key (verification is cleared), deletes.
    let renamed = data(
        app.call(
            Method::PATCH,
            &one,
            Some(&c.alice),
            Some(&json!({"label": "renamed"})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(renamed["label"], "renamed");
    let new_key = "sk-rotated-by-owner-9876";
    let rotated = data(
        app.call(
            Method::PATCH,
            &one,
            Some(&c.alice),
            Some(&json!({"api_key": new_key})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(rotated["key_hint"], "sk-…9876");
    let deleted = app.call(Method::DELETE, &one, Some(&c.alice), None).await;
    assert_eq!(deleted.status(), 204);
    expect_error(app.get(&one, Some(&c.alice)).await, 404, "NOT_FOUND").await;
    for secret in [key, new_key] {
        assert!(!captured_logs().text().contains(secret));
    }
}

/// Bad input: unknown fields, an oversized key, another provider, bad URLs, bad limits.
async fn bad_input_is_422(backend: Backend) {
    let app = spawn(backend).await;
    let c = cast(&app).await;
    let fake = endpoint("k", "x").await;
    let good = json!({
        "provider": "openai-compatible",
        "base_url": format!("{}/v1", fake.uri()),
        "model": "m",
        "api_key": "sk-fine",
        "label": "l",
    });
    let with = |field: &str, value: serde_json::Value| {
        let mut body = good.clone();
        body[field] = value;
        body
    };
    for (body, field) in [
        (with("extra", json!(1)), "extra"),
        (with("api_key", json!("k".repeat(4097))), "api_key"),
        (with("api_key", json!("")), "api_key"),
        (with("provider", json!("anthropic")), "provider"),
        (with("base_url", json!("ftp://example.com/v1")), "base_url"),
        (with("base_url", json!("file:///etc/passwd")), "base_url"),
        (with("base_url", json!("not a url")), "base_url"),
        (with("label", json!("")), "label"),
    ] {
        let res = app
            .post("/api/v1/me/llm-credentials", Some(&c.alice), &body)
            .await;
        let err = expect_error(res, 422, "VALIDATION_ERROR").await;
        assert_eq!(err["error"]["details"][0]["field"], field, "{err}");
        assert!(
            !err.to_string().contains("kkkkkkkk"),
            "the key is not echoed"
        );
    }
    let ok = app
        .post(
            "/api/v1/me/llm-credentials",
            Some(&c.alice),
            &with("api_key", json!("k".repeat(4096))),
        )
        .await;
    assert_eq!(ok.status(), 201);
    let id = data(ok, 201).await["id"].as_str().unwrap().to_owned();
    let limits = format!("/api/v1/admin/llm-credentials/{id}");
    for body in [
        json!({}),
        json!({"max_concurrent_requests": 0}),
        json!({"rpm": 3}),
    ] {
        expect_error(
            app.call(Method::PATCH, &limits, Some(&c.admin), Some(&body))
                .await,
            422,
            "VALIDATION_ERROR",
        )
        .await;
    }
    expect_error(
        app.post(&format!("{limits}/suspend"), Some(&c.admin), &json!({}))
            .await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    expect_error(
        app.get(
            "/api/v1/admin/llm-credentials?status=deleted",
            Some(&c.admin),
        )
        .await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    let missing = uuid::Uuid::new_v4();
    expect_error(
        app.post(
            &format!("/api/v1/admin/llm-credentials/{missing}/activate"),
            Some(&c.admin),
            &json!({}),
        )
        .await,
        404,
        "NOT_FOUND",
    )
    .await;
}

/// Without ALLOW_PRIVATE_LLM_ENDPOINTS, link-local, metadata, private and loopback
/// endpoints are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_endpoints_are_refused() {
    let app = spawn_with(Backend::Sqlite, &[("ALLOW_PRIVATE_LLM_ENDPOINTS", "false")]).await;
    let c = cast(&app).await;
    let fake = endpoint("sk-x", "x").await;
    for url in [
        "http://169.254.169.254/latest/meta-data".to_owned(),
        "http://[fd00:ec2::254]/v1".to_owned(),
        "http://10.0.0.5:8000/v1".to_owned(),
        "http://192.168.1.20/v1".to_owned(),
        "http://localhost:11434/v1".to_owned(),
        "http://[::ffff:127.0.0.1]/v1".to_owned(),
        format!("{}/v1", fake.uri()),
    ] {
        let body = json!({
            "provider": "openai-compatible", "base_url": url, "model": "m",
            "api_key": "sk-x", "label": "l",
        });
        let err = expect_error(
            app.post("/api/v1/me/llm-credentials", Some(&c.alice), &body)
                .await,
            422,
            "VALIDATION_ERROR",
        )
        .await;
        assert_eq!(
            err["error"]["details"][0]["field"], "base_url",
            "{url}: {err}"
        );
    }
    assert!(fake.received_requests().await.unwrap().is_empty());
}

/// Verification makes one real call and records its outcome; a wrong key is
/// `unauthorized`, and the endpoint's error text (which may echo the key) is not kept.
async fn verify_records_the_outcome(backend: Backend) {
    let app = spawn(backend).await;
    let c = cast(&app).await;
    let key = "sk-verify-0123456789";
    let fake = endpoint(key, "pong").await;
    let cred = register(&app, &c.alice, &fake, key).await;
    let one = format!(
        "/api/v1/me/llm-credentials/{}",
        cred["id"].as_str().unwrap()
    );
    let ok = data(
        app.post(&format!("{one}/verify"), Some(&c.alice), &json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(ok["is_verified"], true, "{ok}");
    assert!(ok["last_verified_at"].is_string());
    assert!(ok["last_error_kind"].is_null());
    let calls = fake.received_requests().await.unwrap();
    assert_eq!(calls.len(), 1);
    let sent: serde_json::Value = serde_json::from_slice(&calls[0].body).unwrap();
    assert_eq!(sent["max_tokens"], 1);
    assert_eq!(sent["model"], "their-model");

    data(
        app.call(
            Method::PATCH,
            &one,
            Some(&c.alice),
            Some(&json!({"api_key": "sk-wrong-key-000"})),
        )
        .await,
        200,
    )
    .await;
    let failed = data(
        app.post(&format!("{one}/verify"), Some(&c.alice), &json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(failed["is_verified"], false);
    assert_eq!(failed["last_error_kind"], "unauthorized");
    assert!(!captured_logs().text().contains("sk-wrong-key-000"));
}

crate::both_backends!(
    rbac_matrix_and_masking,
    bad_input_is_422,
    verify_records_the_outcome
);
