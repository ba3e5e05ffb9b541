//! End-to-end tests of course material (SPEC §10.5) on SQLite and PostgreSQL: an upload is
//! processed by the server's workers stage by stage, its status and concept graph are
//! readable, a tutoring turn of the activity is grounded in it (sources recorded, the
//! offline tutor quotes it), deleting it ends the grounding; bad uploads and the access
//! rules.

use std::time::Duration;

use ainative_test_support::fixtures::{data, instructor, published_activity, start, turn};
use ainative_test_support::{expect_error, on_both_backends, wait_for, TestApp};
use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};

const NOTES: &str = include_str!("../crates/materials/tests/fixtures/recursion.md");

/// How long processing a small material may take on a busy machine.
const PROCESSING: Duration = Duration::from_secs(60);

struct Cast {
    admin: String,
    owner: String,
    other_instructor: String,
    student: String,
}

async fn cast(app: &TestApp) -> Cast {
    let admin = app.admin("root").await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    Cast {
        owner: instructor(app, &admin, "teacher").await,
        other_instructor: instructor(app, &admin, "colleague").await,
        student: app.token_of("student").await,
        admin,
    }
}

fn markdown(title: &str) -> Value {
    json!({"title": title, "content_type": "text/markdown", "content": NOTES})
}

async fn upload(app: &TestApp, token: &str, activity: &str, body: &Value) -> reqwest::Response {
    app.post(
        &format!("/api/v1/activities/{activity}/materials"),
        Some(token),
        body,
    )
    .await
}

/// Waits until the material's overall status is `wanted`; returns the status.
async fn settled(app: &TestApp, token: &str, material: &str, wanted: &str) -> Value {
    let path = format!("/api/v1/materials/{material}/status");
    wait_for(PROCESSING, "the material's processing to end", || {
        let path = path.clone();
        async move {
            let status = data(app.get(&path, Some(token)).await, 200).await;
            let overall = status["overall"].as_str().unwrap_or_default().to_owned();
            if overall == wanted {
                Some(status)
            } else {
                assert!(
                    overall != "failed" && overall != "completed",
                    "ended {overall}, wanted {wanted}: {status}"
                );
                None
            }
        }
    })
    .await
}

async fn material_is_processed_and_grounds_the_tutor(app: TestApp) {
    let c = cast(&app).await;
    let activity = published_activity(&app, &c.owner, json!({})).await;
    let accepted = data(
        upload(&app, &c.owner, &activity, &markdown("Week 4")).await,
        202,
    )
    .await;
    let id = accepted["id"].as_str().expect("id").to_owned();
    assert_eq!(
        accepted["status_url"],
        format!("/api/v1/materials/{id}/status")
    );
    assert_eq!(accepted["material"]["status"], "pending");

    let status = settled(&app, &c.owner, &id, "completed").await;
    let stages: Vec<&str> = status["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .map(|s| s["stage"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        stages,
        ["ingestion", "quality", "taxonomy", "graph", "embedding"]
    );
    for stage in status["stages"].as_array().expect("stages") {
        assert_eq!(stage["status"], "completed", "{stage}");
        assert_eq!(stage["progress"], 1.0);
        assert!(stage["started_at"].is_string() && stage["finished_at"].is_string());
        assert!(stage["error"].is_null());
    }

    let list = data(
        app.get(
            &format!("/api/v1/activities/{activity}/materials"),
            Some(&c.owner),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(list["total"], 1);
    let item = &list["items"][0];
    assert_eq!(item["id"], json!(id));
    assert_eq!(item["status"], "completed");
    assert_eq!(item["language"], "eng");
    assert!(!item["tags"].as_array().expect("tags").is_empty());
    let graph = data(
        app.get(&format!("/api/v1/materials/{id}/graph"), Some(&c.owner))
            .await,
        200,
    )
    .await;
    assert!(!graph["nodes"].as_array().expect("nodes").is_empty());
    assert!(!graph["edges"].as_array().expect("edges").is_empty());

    // A student's turn is grounded in the material.
    let session = start(&app, &c.student, &activity).await;
    let prompt = json!({"prompt": "What is a base case in a recursive function?"});
    let first = data(turn(&app, &c.student, &session, prompt.clone()).await, 201).await;
    let interaction = &first["interaction"];
    let sources = interaction["sources"].as_array().expect("sources");
    assert!(!sources.is_empty(), "{interaction}");
    assert!(sources.iter().all(|s| s["material_id"] == json!(id)));
    assert!(sources[0]["score"].as_f64().expect("score") > 0.0);
    let response = interaction["response"].as_str().expect("response");
    assert!(response.contains("From the course material"), "{response}");
    assert!(response.contains("base case"), "{response}");
    let n3 = first["traces"]
        .as_array()
        .expect("traces")
        .iter()
        .find(|t| t["level"] == "n3" && t["kind"] == "ai_response")
        .expect("n3 ai_response trace")
        .clone();
    let chunk_ids = |sources: &Value| -> Vec<Value> {
        sources
            .as_array()
            .expect("sources")
            .iter()
            .map(|s| s["chunk_id"].clone())
            .collect()
    };
    assert_eq!(
        chunk_ids(&n3["data"]["sources"]),
        chunk_ids(&interaction["sources"])
    );

    // Deleted: the material and its status are gone, the next turn is not grounded.
    let res = app
        .call(
            Method::DELETE,
            &format!("/api/v1/materials/{id}"),
            Some(&c.owner),
            None,
        )
        .await;
    assert_eq!(res.status(), 204);
    expect_error(
        app.get(&format!("/api/v1/materials/{id}/status"), Some(&c.owner))
            .await,
        404,
        "NOT_FOUND",
    )
    .await;
    let again = data(turn(&app, &c.student, &session, prompt).await, 201).await;
    assert_eq!(again["interaction"]["sources"], json!([]));
    assert!(!again["interaction"]["response"]
        .as_str()
        .expect("response")
        .contains("From the course material"));
}

async fn a_failing_stage_fails_the_material_with_its_error(app: TestApp) {
    let c = cast(&app).await;
    let activity = published_activity(&app, &c.owner, json!({})).await;
    // Not UTF-8: rejected at ingestion.
    let latin1 = base64::engine::general_purpose::STANDARD.encode(b"caf\xe9 cr\xe8me br\xfbl\xe9e");
    let body = json!({"title": "Latin-1", "content_type": "text/plain", "content": latin1, "encoding": "base64"});
    let id = data(upload(&app, &c.owner, &activity, &body).await, 202).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let status = settled(&app, &c.owner, &id, "failed").await;
    let ingestion = &status["stages"][0];
    assert_eq!(ingestion["status"], "failed");
    assert!(
        ingestion["error"]
            .as_str()
            .expect("error")
            .contains("UTF-8"),
        "{ingestion}"
    );
    assert_eq!(status["stages"][1]["status"], "pending");

    // An unreadable PDF fails at ingestion too, never as a server error.
    let pdf = base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.7\nnot really a pdf");
    let body = json!({"title": "Scan", "content_type": "application/pdf", "content": pdf, "encoding": "base64"});
    let id = data(upload(&app, &c.owner, &activity, &body).await, 202).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let status = settled(&app, &c.owner, &id, "failed").await;
    assert_eq!(status["stages"][0]["status"], "failed");
    assert!(status["stages"][0]["error"].is_string());
}

async fn bad_uploads_and_access(app: TestApp) {
    let c = cast(&app).await;
    let activity = published_activity(&app, &c.owner, json!({})).await;
    let draft = data(
        app.post(
            "/api/v1/activities",
            Some(&c.owner),
            &json!({"title": "Draft"}),
        )
        .await,
        201,
    )
    .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let ok = markdown("Notes");
    // Students and other instructors may not upload; a draft of another is invisible.
    expect_error(
        upload(&app, &c.student, &activity, &ok).await,
        403,
        "FORBIDDEN",
    )
    .await;
    expect_error(
        upload(&app, &c.other_instructor, &activity, &ok).await,
        403,
        "FORBIDDEN",
    )
    .await;
    expect_error(
        upload(&app, &c.other_instructor, &draft, &ok).await,
        404,
        "NOT_FOUND",
    )
    .await;
    // Students' credentials lack `activities:write`: refused before anything is read.
    expect_error(
        upload(&app, &c.student, &draft, &ok).await,
        403,
        "FORBIDDEN",
    )
    .await;
    let unknown = format!("/api/v1/activities/{}/materials", uuid::Uuid::new_v4());
    expect_error(
        app.post(&unknown, Some(&c.owner), &ok).await,
        404,
        "NOT_FOUND",
    )
    .await;
    expect_error(
        app.get(
            &format!("/api/v1/activities/{activity}/materials"),
            Some(&c.student),
        )
        .await,
        403,
        "FORBIDDEN",
    )
    .await;
    // Wrong type, empty, bad base64, too big.
    let png = json!({"title": "Img", "content_type": "image/png", "content": "x"});
    expect_error(
        upload(&app, &c.owner, &activity, &png).await,
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    )
    .await;
    let empty = json!({"title": "Empty", "content_type": "text/plain", "content": "  \n"});
    let err = expect_error(
        upload(&app, &c.owner, &activity, &empty).await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    assert_eq!(err["error"]["details"][0]["field"], "content");
    let bad = json!({"title": "B", "content_type": "application/pdf", "content": "%%%", "encoding": "base64"});
    expect_error(
        upload(&app, &c.owner, &activity, &bad).await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    let limit = app.settings.materials.max_bytes;
    let big = json!({"title": "Big", "content_type": "text/plain", "content": "a ".repeat(limit / 2 + 1)});
    expect_error(
        upload(&app, &c.owner, &activity, &big).await,
        413,
        "PAYLOAD_TOO_LARGE",
    )
    .await;
    let list = data(
        app.get(
            &format!("/api/v1/activities/{activity}/materials"),
            Some(&c.owner),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(list["total"], 0, "nothing stored by refused uploads");

    // A material by id is visible to the activity's owner and admins only.
    let id = data(upload(&app, &c.owner, &activity, &ok).await, 202).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    for token in [&c.student, &c.other_instructor] {
        for path in [
            format!("/api/v1/materials/{id}/status"),
            format!("/api/v1/materials/{id}/graph"),
        ] {
            expect_error(app.get(&path, Some(token)).await, 404, "NOT_FOUND").await;
        }
    }
    let delete = |token: String| {
        let (app, path) = (&app, format!("/api/v1/materials/{id}"));
        async move { app.call(Method::DELETE, &path, Some(&token), None).await }
    };
    // Students lack `activities:write` (403 before anything is read); others see nothing.
    expect_error(delete(c.student.clone()).await, 403, "FORBIDDEN").await;
    expect_error(delete(c.other_instructor.clone()).await, 404, "NOT_FOUND").await;
    data(
        app.get(&format!("/api/v1/materials/{id}/status"), Some(&c.admin))
            .await,
        200,
    )
    .await;
    let res = app
        .call(
            Method::DELETE,
            &format!("/api/v1/materials/{id}"),
            None,
            None,
        )
        .await;
    assert_eq!(res.status(), 401);
}

on_both_backends!(
    material_is_processed_and_grounds_the_tutor,
    a_failing_stage_fails_the_material_with_its_error,
    bad_uploads_and_access,
);
