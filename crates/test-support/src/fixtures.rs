//! Fixtures and assertions of the end-to-end tests: users, tokens, activities, sessions,
//! and the SPEC §3 envelope.

use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::app::TestApp;

/// The password every test user has.
pub const PASSWORD: &str = "Analytical7Engine";

/// A valid registration body.
pub fn register_body(username: &str) -> Value {
    json!({
        "email": format!("{username}@example.com"),
        "username": username,
        "password": PASSWORD,
        "full_name": format!("User {username}"),
    })
}

/// Status and JSON body of a response.
pub async fn json_of(res: Response) -> (StatusCode, Value) {
    let status = res.status();
    let text = res.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

/// Asserts the SPEC error envelope with this status and code; returns the body.
pub async fn expect_error(res: Response, status: u16, code: &str) -> Value {
    let headers = res.headers().clone();
    let (actual, body) = json_of(res).await;
    assert_eq!(actual.as_u16(), status, "{body}");
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
    assert!(body["error"]["details"].is_array(), "{body}");
    let request_id = body["error"]["request_id"].as_str().expect("request_id");
    assert_eq!(
        headers.get("x-request-id").and_then(|v| v.to_str().ok()),
        Some(request_id)
    );
    body
}

/// The `data` of a successful envelope with `status`; fails the test otherwise.
pub async fn data(res: Response, status: u16) -> Value {
    let (actual, body) = json_of(res).await;
    assert_eq!(actual.as_u16(), status, "{body}");
    assert_eq!(body["success"], true, "{body}");
    body["data"].clone()
}

/// Logs `username` in (with [`PASSWORD`]); returns the access token.
pub async fn login(app: &TestApp, username: &str) -> String {
    let body = json!({"username": username, "password": PASSWORD});
    data(app.post("/api/v1/auth/login", None, &body).await, 200).await["access_token"]
        .as_str()
        .expect("access token")
        .to_owned()
}

/// An instructor's access token: registered, promoted by the admin (`admin` is an admin's
/// token), logged in again (the role change ended the first session).
pub async fn instructor(app: &TestApp, admin: &str, username: &str) -> String {
    let user = app.register(username).await;
    let id = user["user"]["id"].as_str().expect("user id");
    let res = app
        .call(
            Method::PATCH,
            &format!("/api/v1/admin/users/{id}"),
            Some(admin),
            Some(&json!({"roles": ["instructor"]})),
        )
        .await;
    assert_eq!(res.status(), 200);
    login(app, username).await
}

/// A published activity of `owner` (an instructor's token) with `policies` (`{}` for the
/// defaults); returns its id.
pub async fn published_activity(app: &TestApp, owner: &str, policies: Value) -> String {
    let body = json!({
        "title": "Loops in Python",
        "instructions": "Write a function that sums a list with a for loop.",
        "subject": "python",
        "difficulty": "beginner",
        "tags": ["Loops", "python"],
        "evaluation_criteria": ["correctness", "clarity"],
        "policies": policies,
    });
    let activity = data(
        app.post("/api/v1/activities", Some(owner), &body).await,
        201,
    )
    .await;
    assert_eq!(activity["status"], "draft");
    assert_eq!(activity["tags"], json!(["loops", "python"]));
    let id = activity["id"].as_str().expect("activity id").to_owned();
    let published = data(
        app.post(
            &format!("/api/v1/activities/{id}/publish"),
            Some(owner),
            &json!({}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(published["status"], "published");
    assert!(published["published_at"].is_string());
    id
}

/// Starts a study session of `token`'s student on `activity`; returns its id.
pub async fn start(app: &TestApp, token: &str, activity: &str) -> String {
    let session = data(
        app.post(
            "/api/v1/sessions",
            Some(token),
            &json!({"activity_id": activity}),
        )
        .await,
        201,
    )
    .await;
    session["id"].as_str().expect("session id").to_owned()
}

/// Sends one interaction (a turn) of `session`.
pub async fn turn(app: &TestApp, token: &str, session: &str, body: Value) -> Response {
    app.post(
        &format!("/api/v1/sessions/{session}/interactions"),
        Some(token),
        &body,
    )
    .await
}
