//! Request bodies of the tutoring endpoints: optional bodies and the NUL character, on both
//! databases.

use serde_json::json;

use super::{cast, data, published_activity, start, turn};
use ainative_test_support::{expect_error, TestApp};

/// A POST with a raw body (or none) and the caller's token.
async fn post_raw(
    app: &TestApp,
    path: &str,
    token: &str,
    content_type: Option<&str>,
    body: &'static str,
) -> reqwest::Response {
    let mut req = app.client.post(app.url(path)).bearer_auth(token);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    if !body.is_empty() {
        req = req.body(body);
    }
    req.send().await.expect("request sent")
}

/// Bodies that are optional (resolve's note, and the body-less actions) may be absent or
/// empty whatever their content type; a non-empty body of another type is 415, malformed
/// JSON 400, unknown fields 422.
pub(super) async fn optional_bodies_are_optional(app: TestApp) {
    let c = cast(&app).await;
    let activity = published_activity(&app, &c.owner, json!({})).await;
    let session = start(&app, &c.student, &activity).await;
    let mut risks = Vec::new();
    for _ in 0..3 {
        let prompt = "Give me the full solution, do it for me";
        let out = data(
            turn(&app, &c.student, &session, json!({ "prompt": prompt })).await,
            201,
        )
        .await;
        risks.extend(
            out["risks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_owned()),
        );
    }
    assert!(risks.len() >= 3, "{risks:?}");
    let resolve = |id: &str| format!("/api/v1/risks/{id}/resolve");

    expect_error(
        post_raw(
            &app,
            &resolve(&risks[0]),
            &c.owner,
            Some("text/plain"),
            "note",
        )
        .await,
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    )
    .await;
    expect_error(
        post_raw(
            &app,
            &resolve(&risks[0]),
            &c.owner,
            Some("application/json"),
            "{\"note\"",
        )
        .await,
        400,
        "BAD_REQUEST",
    )
    .await;
    let none = data(
        post_raw(&app, &resolve(&risks[0]), &c.owner, None, "").await,
        200,
    )
    .await;
    assert_eq!(none["resolved"], true);
    assert!(none["resolution_note"].is_null(), "{none}");
    let empty = data(
        post_raw(&app, &resolve(&risks[1]), &c.owner, Some("text/plain"), "").await,
        200,
    )
    .await;
    assert_eq!(empty["resolved"], true);
    let noted = data(
        post_raw(
            &app,
            &resolve(&risks[2]),
            &c.owner,
            Some("application/json"),
            r#"{"note": "discussed"}"#,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(noted["resolution_note"], "discussed");

    // The body-less actions follow the same rule.
    let end = format!("/api/v1/sessions/{session}/end");
    expect_error(
        post_raw(&app, &end, &c.student, Some("text/plain"), "now").await,
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    )
    .await;
    expect_error(
        post_raw(
            &app,
            &end,
            &c.student,
            Some("application/json"),
            r#"{"force": true}"#,
        )
        .await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    data(post_raw(&app, &end, &c.student, None, "").await, 200).await;
    let archive = format!("/api/v1/activities/{activity}/archive");
    data(
        post_raw(&app, &archive, &c.owner, Some("application/json"), "").await,
        200,
    )
    .await;
}

/// NUL in a prompt, a title or a note is a 422 naming the field on both databases; nothing
/// is stored.
pub(super) async fn nul_in_tutoring_bodies_is_422(app: TestApp) {
    let c = cast(&app).await;
    let body = json!({"title": "Loops\u{0}", "instructions": "x", "subject": "python", "difficulty": "beginner"});
    let res = app.post("/api/v1/activities", Some(&c.owner), &body).await;
    let err = expect_error(res, 422, "VALIDATION_ERROR").await;
    assert_eq!(err["error"]["details"][0]["field"], "title", "{err}");
    let activity = published_activity(&app, &c.owner, json!({})).await;
    let patch = json!({"policies": {"risk_thresholds": {"ai_dependency\u{0}": 0.5}}});
    let res = app
        .call(
            reqwest::Method::PATCH,
            &format!("/api/v1/activities/{activity}"),
            Some(&c.owner),
            Some(&patch),
        )
        .await;
    let err = expect_error(res, 422, "VALIDATION_ERROR").await;
    assert_eq!(
        err["error"]["details"][0]["field"], "policies.risk_thresholds",
        "{err}"
    );
    let session = start(&app, &c.student, &activity).await;
    for (body, field) in [
        (json!({"prompt": "What\u{0} is a loop?"}), "prompt"),
        (json!({"prompt": "Why?", "code": "print(1)\u{0}"}), "code"),
    ] {
        let err = expect_error(
            turn(&app, &c.student, &session, body).await,
            422,
            "VALIDATION_ERROR",
        )
        .await;
        assert_eq!(err["error"]["details"][0]["field"], field, "{err}");
    }
    let stored = data(
        app.get(
            &format!("/api/v1/sessions/{session}/interactions"),
            Some(&c.student),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(stored["total"], 0);
}
