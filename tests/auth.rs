//! End-to-end tests of `/api/v1/auth` on SQLite and PostgreSQL.

mod common;

use common::{expect_error, json_of, register_body, Backend, TestApp, PASSWORD};
use serde_json::json;

async fn registers_and_reads_me(app: TestApp) {
    let data = app.register("ada").await;
    assert_eq!(data["token_type"], "bearer");
    assert_eq!(data["user"]["email"], "ada@example.com");
    assert_eq!(data["user"]["roles"], json!(["student"]));
    assert!(data["user"].get("password_hash").is_none());
    let token = data["access_token"].as_str().unwrap();
    let res = app.get("/api/v1/auth/me", Some(token)).await;
    assert_eq!(res.headers().get("cache-control").unwrap(), "no-store");
    let (status, body) = json_of(res).await;
    assert_eq!(status, 200);
    assert_eq!(body["success"], true);
    assert_eq!(body["data"]["username"], "ada");
}

on_both_backends!(registers_and_reads_me);
