//! API keys end to end (SPEC §10.3) on SQLite and PostgreSQL: created once and shown once,
//! listed without the secret, used as a bearer token within its scopes and its owner's
//! rights, unable to manage identity, revoked at once on delete or owner deactivation (on
//! every instance), and administered (audited) by admins.

use std::time::Duration;

use ainative_test_support::{expect_error, json_of, on_both_backends, wait_until, TestApp};
use reqwest::{Method, Response};
use serde_json::{json, Value};

const KEYS: &str = "/api/v1/auth/api-keys";
const ADMIN_KEYS: &str = "/api/v1/admin/api-keys";
const ME: &str = "/api/v1/auth/me";

async fn create(app: &TestApp, token: &str, scopes: &[&str]) -> Response {
    app.post(
        KEYS,
        Some(token),
        &json!({"name": "script", "scopes": scopes, "expires_in_days": 30}),
    )
    .await
}

/// Creates a key and returns (id, key).
async fn key_of(app: &TestApp, token: &str, scopes: &[&str]) -> (String, String) {
    let res = create(app, token, scopes).await;
    assert_eq!(
        res.headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap()),
        Some("no-store")
    );
    let (status, body) = json_of(res).await;
    assert_eq!(status, 201, "{body}");
    let data = &body["data"];
    (
        data["id"].as_str().unwrap().to_owned(),
        data["key"].as_str().unwrap().to_owned(),
    )
}

async fn status(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<&Value>,
) -> u16 {
    app.call(method, path, Some(token), body)
        .await
        .status()
        .as_u16()
}

fn shaped_like_a_key(key: &str) -> bool {
    key.len() == 42
        && key.starts_with("ain_")
        && key[4..].bytes().all(|b| b.is_ascii_alphanumeric())
}

async fn a_key_is_shown_once_used_and_revoked_at_once(app: TestApp) {
    let jwt = app.token_of("kai").await;
    let (id, key) = key_of(&app, &jwt, &["sessions:read", "activities:read"]).await;
    assert!(shaped_like_a_key(&key), "{key}");
    // The list shows the prefix, never the key.
    let (code, listed) = json_of(app.get(KEYS, Some(&jwt)).await).await;
    assert_eq!(code, 200);
    let entry = &listed["data"][0];
    assert_eq!(entry["id"], id.as_str());
    assert_eq!(entry["prefix"], &key[..12]);
    assert_eq!(entry["scopes"], json!(["activities:read", "sessions:read"]));
    assert!(entry["expires_at"].is_string());
    assert!(
        !listed.to_string().contains(&key[12..]),
        "the list leaks the key"
    );
    // The key authenticates as its owner.
    let (code, me) = json_of(app.get(ME, Some(&key)).await).await;
    assert_eq!(code, 200, "{me}");
    assert_eq!(me["data"]["username"], "kai");
    wait_until(
        Duration::from_secs(10),
        "last_used_at is recorded",
        || async {
            let (_, listed) = json_of(app.get(KEYS, Some(&jwt)).await).await;
            listed["data"][0]["last_used_at"].is_string()
        },
    )
    .await;
    // A typo (checksum) and an unknown key are refused.
    let mut typo = key.clone().into_bytes();
    typo[8] = if typo[8] == b'a' { b'b' } else { b'a' };
    expect_error(
        app.get(ME, Some(&String::from_utf8(typo).unwrap())).await,
        401,
        "UNAUTHORIZED",
    )
    .await;
    // A key cannot manage keys, change the password or log out.
    assert_eq!(status(&app, Method::GET, KEYS, &key, None).await, 403);
    assert_eq!(create(&app, &key, &["sessions:read"]).await.status(), 403);
    let path = format!("{KEYS}/{id}");
    assert_eq!(status(&app, Method::DELETE, &path, &key, None).await, 403);
    let change = json!({"current_password": ainative_test_support::PASSWORD, "new_password": "Another9Horse"});
    assert_eq!(
        status(
            &app,
            Method::POST,
            "/api/v1/auth/change-password",
            &key,
            Some(&change)
        )
        .await,
        403
    );
    assert_eq!(
        status(
            &app,
            Method::POST,
            "/api/v1/auth/logout",
            &key,
            Some(&json!({}))
        )
        .await,
        403
    );
    // Another user cannot see or delete it.
    let other = app.token_of("lea").await;
    assert_eq!(status(&app, Method::DELETE, &path, &other, None).await, 404);
    let (_, theirs) = json_of(app.get(KEYS, Some(&other)).await).await;
    assert_eq!(theirs["data"], json!([]));
    // Deleted: refused at once.
    assert_eq!(status(&app, Method::DELETE, &path, &jwt, None).await, 204);
    expect_error(app.get(ME, Some(&key)).await, 401, "UNAUTHORIZED").await;
    assert_eq!(status(&app, Method::DELETE, &path, &jwt, None).await, 404);
    let (_, listed) = json_of(app.get(KEYS, Some(&jwt)).await).await;
    assert_eq!(listed["data"], json!([]));
}

async fn scopes_stay_within_the_key_and_the_owner(app: TestApp) {
    let student = app.token_of("max").await;
    // A student cannot grant what a student cannot do; unknown scopes and empty sets fail.
    for scopes in [
        &["activities:write"][..],
        &["admin"],
        &["risks:read"],
        &["nope"],
        &[],
    ] {
        let (code, body) = json_of(create(&app, &student, scopes).await).await;
        assert_eq!(code, 422, "{scopes:?}: {body}");
        assert_eq!(body["error"]["details"][0]["field"], "scopes");
    }
    let (_, sessions_only) = key_of(&app, &student, &["sessions:read"]).await;
    let (_, activities) = key_of(&app, &student, &["activities:read"]).await;
    let activities_path = "/api/v1/activities";
    assert_eq!(
        status(&app, Method::GET, activities_path, &sessions_only, None).await,
        403
    );
    assert_eq!(
        status(&app, Method::GET, activities_path, &activities, None).await,
        200
    );
    assert_eq!(
        status(&app, Method::GET, "/api/v1/sessions", &sessions_only, None).await,
        200
    );
    assert_eq!(
        status(&app, Method::GET, "/api/v1/sessions", &activities, None).await,
        403
    );

    // Admin routes need the admin scope AND the admin role.
    let admin = app.admin("root").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, admin_key) = key_of(&app, &admin, &["admin"]).await;
    let (_, admin_read_key) = key_of(&app, &admin, &["activities:read"]).await;
    let users = "/api/v1/admin/users";
    assert_eq!(
        status(&app, Method::GET, users, &admin_key, None).await,
        200
    );
    assert_eq!(
        status(&app, Method::GET, users, &admin_read_key, None).await,
        403
    );
    assert_eq!(
        status(&app, Method::GET, users, &activities, None).await,
        403
    );
    // With both, a key may manage keys, within its own scopes.
    assert_eq!(create(&app, &admin_key, &["admin"]).await.status(), 201);
    assert_eq!(
        create(&app, &admin_key, &["sessions:read"]).await.status(),
        422
    );
    assert_eq!(
        create(&app, &admin_read_key, &["activities:read"])
            .await
            .status(),
        403
    );
}

async fn owner_deactivation_revokes_keys_and_admins_revoke_with_audit(app: TestApp) {
    let data = app.register("ned").await;
    let jwt = data["access_token"].as_str().unwrap().to_owned();
    let user_id = data["user"]["id"].as_str().unwrap().to_owned();
    let (first_id, first) = key_of(&app, &jwt, &["sessions:read"]).await;
    let (_, second) = key_of(&app, &jwt, &["sessions:read"]).await;
    let admin = app.admin("boss").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    // Admin list (of one user) shows both; revoking one is audited.
    let (code, listed) = json_of(
        app.get(&format!("{ADMIN_KEYS}?user_id={user_id}"), Some(&admin))
            .await,
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(listed["data"].as_array().unwrap().len(), 2);
    assert_eq!(status(&app, Method::GET, ADMIN_KEYS, &jwt, None).await, 403);
    let path = format!("{ADMIN_KEYS}/{first_id}");
    assert_eq!(status(&app, Method::DELETE, &path, &jwt, None).await, 403);
    assert_eq!(status(&app, Method::DELETE, &path, &admin, None).await, 204);
    expect_error(app.get(ME, Some(&first)).await, 401, "UNAUTHORIZED").await;
    let (_, audit) = json_of(app.get("/api/v1/admin/audit", Some(&admin)).await).await;
    let revoked = audit["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["action"] == "api_key_revoked")
        .unwrap_or_else(|| panic!("no audit row: {audit}"));
    assert_eq!(revoked["target_id"], first_id.as_str());
    let (_, listed) = json_of(app.get(ADMIN_KEYS, Some(&admin)).await).await;
    let row = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == first_id.as_str())
        .expect("revoked keys stay listed for admins");
    assert!(row["revoked_at"].is_string());

    // Deactivating the owner ends the other key at once.
    assert_eq!(app.get(ME, Some(&second)).await.status(), 200);
    let res = app
        .call(
            Method::PATCH,
            &format!("/api/v1/admin/users/{user_id}"),
            Some(&admin),
            Some(&json!({"is_active": false})),
        )
        .await;
    assert_eq!(res.status(), 200);
    expect_error(app.get(ME, Some(&second)).await, 401, "UNAUTHORIZED").await;
}

/// Two instances on one database: a key deleted on one stops working on the other within
/// a second (SPEC §10.6 revocation rule).
async fn deletion_reaches_every_instance(app: TestApp) {
    let url = secrecy::ExposeSecret::expose_secret(&app.settings.database.url).to_owned();
    let other = TestApp::spawn_with(app.backend, &[("DATABASE_URL", &url)]).await;
    let jwt = app.token_of("ola").await;
    let (id, key) = key_of(&app, &jwt, &["sessions:read"]).await;
    assert_eq!(other.get(ME, Some(&key)).await.status(), 200);
    assert_eq!(
        status(&app, Method::DELETE, &format!("{KEYS}/{id}"), &jwt, None).await,
        204
    );
    wait_until(
        Duration::from_secs(1),
        "the other instance refuses the deleted key",
        || async { other.get(ME, Some(&key)).await.status() == 401 },
    )
    .await;
}

on_both_backends!(
    a_key_is_shown_once_used_and_revoked_at_once,
    scopes_stay_within_the_key_and_the_owner,
    owner_deactivation_revokes_keys_and_admins_revoke_with_audit,
    deletion_reaches_every_instance,
);
