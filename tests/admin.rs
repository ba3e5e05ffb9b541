//! End-to-end tests of `/api/v1/admin` (SPEC §4, Admin) on SQLite and PostgreSQL: access
//! control, the user list, audited changes, self-protection and revocation of stale tokens.

use std::collections::BTreeSet;
use std::time::Duration;

use ainative_test_support::http::expect_validation;
use ainative_test_support::{
    expect_error, json_of, on_both_backends, wait_for, Backend, TestApp, PASSWORD,
};
use reqwest::{Method, Response};
use serde_json::{json, Value};

const USERS: &str = "/api/v1/admin/users";
const AUDIT: &str = "/api/v1/admin/audit";
const ERRORS: &str = "/api/v1/admin/errors";
const ME: &str = "/api/v1/auth/me";
const LOGIN: &str = "/api/v1/auth/login";
const REFRESH: &str = "/api/v1/auth/refresh";

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("{key} in {v}"))
}

async fn patch(app: &TestApp, token: &str, id: &str, body: &Value) -> Response {
    app.call(
        Method::PATCH,
        &format!("{USERS}/{id}"),
        Some(token),
        Some(body),
    )
    .await
}

/// PATCHes and expects 200; returns the updated user.
async fn patch_ok(app: &TestApp, token: &str, id: &str, body: &Value) -> Value {
    let (status, res) = json_of(patch(app, token, id, body).await).await;
    assert_eq!(status, 200, "{body} -> {res}");
    assert_eq!(res["success"], true, "{res}");
    res["data"].clone()
}

/// GETs a list and expects 200; returns `data`.
async fn list(app: &TestApp, token: &str, path: &str) -> Value {
    let (status, body) = json_of(app.get(path, Some(token)).await).await;
    assert_eq!(status, 200, "{path}: {body}");
    body["data"].clone()
}

fn usernames(page: &Value) -> BTreeSet<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|u| str_of(u, "username").to_owned())
        .collect()
}

async fn login(app: &TestApp, username: &str) -> Response {
    app.post(
        LOGIN,
        None,
        &json!({"username": username, "password": PASSWORD}),
    )
    .await
}

/// Polls until `token` is refused on `/auth/me`; SPEC: within one second (plus a margin for
/// a busy machine).
async fn expect_access_revoked(app: &TestApp, token: &str) {
    let res = wait_for(
        Duration::from_millis(1200),
        "the access token is refused (SPEC: within 1 s)",
        || async move {
            let res = app.get(ME, Some(token)).await;
            (res.status() == 401).then_some(res)
        },
    )
    .await;
    expect_error(res, 401, "UNAUTHORIZED").await;
}

async fn expect_refresh_refused(app: &TestApp, refresh_token: &str) {
    let res = app
        .post(REFRESH, None, &json!({"refresh_token": refresh_token}))
        .await;
    expect_error(res, 401, "UNAUTHORIZED").await;
}

// ---------------------------------------------------------------------------------------------

async fn admin_endpoints_require_an_admin(app: TestApp) {
    let student = app.register("student").await;
    let student_token = str_of(&student, "access_token");
    let target = str_of(&student["user"], "id").to_owned();
    let patch_path = format!("{USERS}/{target}");
    let body = json!({"tier": "premium"});
    let calls: [(Method, &str, Option<&Value>); 4] = [
        (Method::GET, USERS, None),
        (Method::PATCH, &patch_path, Some(&body)),
        (Method::GET, AUDIT, None),
        (Method::GET, ERRORS, None),
    ];
    for (method, path, body) in calls {
        let res = app.call(method.clone(), path, None, body).await;
        assert_eq!(
            res.headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok()),
            Some("Bearer")
        );
        expect_error(res, 401, "UNAUTHORIZED").await;
        let res = app
            .call(method.clone(), path, Some("not.a.token"), body)
            .await;
        expect_error(res, 401, "UNAUTHORIZED").await;
        let res = app
            .call(method.clone(), path, Some(student_token), body)
            .await;
        expect_error(res, 403, "FORBIDDEN").await;
    }
    // An instructor is not an admin either.
    let admin = app.admin("root").await;
    let admin_token = str_of(&admin, "access_token");
    patch_ok(
        &app,
        admin_token,
        &target,
        &json!({"roles": ["student", "instructor"]}),
    )
    .await;
    let instructor = json_of(login(&app, "student").await).await.1["data"].clone();
    let instructor_token = str_of(&instructor, "access_token");
    assert_eq!(
        instructor["user"]["roles"],
        json!(["student", "instructor"])
    );
    for path in [USERS, AUDIT, ERRORS] {
        let res = app.get(path, Some(instructor_token)).await;
        expect_error(res, 403, "FORBIDDEN").await;
    }
    // The refused PATCH changed nothing.
    let page = list(&app, admin_token, &format!("{USERS}?role=student")).await;
    let user = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|u| u["id"] == target.as_str())
        .expect("student listed")
        .clone();
    assert_eq!(user["tier"], "free", "{user}");
}

async fn lists_users_with_pagination_and_filters(app: TestApp) {
    let admin = app.admin("root").await;
    let token = str_of(&admin, "access_token");
    let mut ids = Vec::new();
    for name in ["amy", "ben", "cat", "dan"] {
        ids.push(str_of(&app.register(name).await["user"], "id").to_owned());
    }
    patch_ok(&app, token, &ids[0], &json!({"roles": ["instructor"]})).await;
    patch_ok(&app, token, &ids[1], &json!({"is_active": false})).await;

    let all = list(&app, token, USERS).await;
    assert_eq!(all["total"], 5, "{all}");
    assert_eq!(
        usernames(&all),
        BTreeSet::from(["root", "amy", "ben", "cat", "dan"].map(String::from))
    );
    for user in all["items"].as_array().expect("items") {
        assert!(user.get("password_hash").is_none(), "{user}");
        assert!(user.get("password").is_none(), "{user}");
    }

    // Pages are disjoint and together cover the list.
    let first = list(&app, token, &format!("{USERS}?limit=2")).await;
    let second = list(&app, token, &format!("{USERS}?limit=2&offset=2")).await;
    let third = list(&app, token, &format!("{USERS}?limit=2&offset=4")).await;
    assert_eq!(
        (first["limit"].clone(), second["offset"].clone()),
        (json!(2), json!(2))
    );
    for page in [&first, &second, &third] {
        assert_eq!(page["total"], 5, "{page}");
    }
    let sizes: Vec<usize> = [&first, &second, &third]
        .iter()
        .map(|p| p["items"].as_array().expect("items").len())
        .collect();
    assert_eq!(sizes, [2, 2, 1]);
    let mut seen = usernames(&first);
    seen.extend(usernames(&second));
    seen.extend(usernames(&third));
    assert_eq!(seen, usernames(&all), "pages overlap or miss users");

    let admins = list(&app, token, &format!("{USERS}?role=admin")).await;
    assert_eq!(usernames(&admins), BTreeSet::from(["root".to_owned()]));
    assert_eq!(admins["total"], 1);
    // The admin created from the command line holds every role.
    let instructors = list(&app, token, &format!("{USERS}?role=instructor")).await;
    assert_eq!(
        usernames(&instructors),
        BTreeSet::from(["root", "amy"].map(String::from))
    );
    let inactive = list(&app, token, &format!("{USERS}?is_active=false")).await;
    assert_eq!(usernames(&inactive), BTreeSet::from(["ben".to_owned()]));
    assert_eq!(inactive["total"], 1);
    let active_students = list(&app, token, &format!("{USERS}?role=student&is_active=true")).await;
    assert_eq!(
        usernames(&active_students),
        BTreeSet::from(["root", "cat", "dan"].map(String::from))
    );
    assert_eq!(active_students["total"], 3);

    let res = app.get(&format!("{USERS}?role=root"), Some(token)).await;
    expect_validation(res, "role").await;
    let res = app
        .get(&format!("{USERS}?is_active=maybe"), Some(token))
        .await;
    expect_error(res, 400, "BAD_REQUEST").await;
}

async fn patch_changes_the_user_and_writes_an_audit_row(app: TestApp) {
    let admin = app.admin("root").await;
    let token = str_of(&admin, "access_token");
    let admin_id = str_of(&admin["user"], "id").to_owned();
    let target = app.register("eve").await;
    let target_id = str_of(&target["user"], "id").to_owned();
    let before = list(&app, token, AUDIT).await["total"]
        .as_u64()
        .expect("total");

    let updated = patch_ok(
        &app,
        token,
        &target_id,
        &json!({"roles": ["student", "instructor"], "tier": "premium"}),
    )
    .await;
    assert_eq!(updated["id"], target_id.as_str());
    assert_eq!(updated["roles"], json!(["student", "instructor"]));
    assert_eq!(updated["tier"], "premium");
    assert_eq!(updated["is_active"], true);
    assert!(updated.get("password_hash").is_none());

    let audit = list(&app, token, AUDIT).await;
    assert_eq!(audit["total"].as_u64(), Some(before + 1), "{audit}");
    assert_eq!(audit["limit"], 20);
    assert_eq!(audit["offset"], 0);
    let row = &audit["items"][0]; // newest first
    assert_eq!(row["action"], "user_updated", "{row}");
    assert_eq!(row["actor_id"], admin_id.as_str(), "{row}");
    assert_eq!(row["target_type"], "user", "{row}");
    assert_eq!(row["target_id"], target_id.as_str(), "{row}");
    assert!(
        row["id"].is_string() && row["created_at"].is_string(),
        "{row}"
    );
    let details = &row["details"];
    assert_eq!(details["before"]["roles"], json!(["student"]), "{details}");
    assert_eq!(details["before"]["tier"], "free", "{details}");
    assert_eq!(
        details["after"]["roles"],
        json!(["student", "instructor"]),
        "{details}"
    );
    assert_eq!(details["after"]["tier"], "premium", "{details}");
    assert_eq!(details["after"]["is_active"], true, "{details}");

    // Deactivation is audited too, and shows in the list.
    patch_ok(&app, token, &target_id, &json!({"is_active": false})).await;
    let audit = list(&app, token, AUDIT).await;
    assert_eq!(audit["total"].as_u64(), Some(before + 2), "{audit}");
    let row = &audit["items"][0];
    assert_eq!(row["details"]["before"]["is_active"], true, "{row}");
    assert_eq!(row["details"]["after"]["is_active"], false, "{row}");
    let inactive = list(&app, token, &format!("{USERS}?is_active=false")).await;
    assert_eq!(usernames(&inactive), BTreeSet::from(["eve".to_owned()]));

    // The audit log is paginated like every list.
    let page = list(&app, token, &format!("{AUDIT}?limit=1&offset=1")).await;
    assert_eq!(page["items"].as_array().expect("items").len(), 1);
    assert_eq!(page["limit"], 1);
    let res = app.get(&format!("{AUDIT}?limit=0"), Some(token)).await;
    expect_validation(res, "limit").await;
}

async fn invalid_patches_are_refused_and_change_nothing(app: TestApp) {
    let admin = app.admin("root").await;
    let token = str_of(&admin, "access_token");
    let target = app.register("gus").await;
    let id = str_of(&target["user"], "id").to_owned();
    let audit_before = list(&app, token, AUDIT).await["total"].clone();

    let unknown = uuid::Uuid::new_v4().to_string();
    let res = patch(&app, token, &unknown, &json!({"tier": "premium"})).await;
    expect_error(res, 404, "NOT_FOUND").await;
    for bad_id in ["not-a-uuid", "123", "00000000-0000-0000-0000-00000000000g"] {
        let res = patch(&app, token, bad_id, &json!({"tier": "premium"})).await;
        expect_error(res, 404, "NOT_FOUND").await;
    }

    let field_cases = [
        (json!({"roles": ["root"]}), "roles"),
        (json!({"roles": []}), "roles"),
        (json!({"tier": "gold"}), "tier"),
        (json!({"password_hash": "$2b$04$abc"}), "password_hash"),
        (json!({"email": "gus@evil.example"}), "email"),
        (json!({"tier": "premium", "username": "root2"}), "username"),
    ];
    for (body, field) in field_cases {
        expect_validation(patch(&app, token, &id, &body).await, field).await;
    }
    expect_error(
        patch(&app, token, &id, &json!({})).await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    let res = patch(&app, token, &id, &json!({"is_active": "no"})).await;
    expect_error(res, 400, "BAD_REQUEST").await;

    // Nothing changed, nothing was audited, and the user still logs in.
    assert_eq!(list(&app, token, AUDIT).await["total"], audit_before);
    let (status, body) = json_of(login(&app, "gus").await).await;
    assert_eq!(status, 200, "{body}");
    let user = &body["data"]["user"];
    assert_eq!(user["roles"], json!(["student"]));
    assert_eq!(user["tier"], "free");
    assert_eq!(user["email"], "gus@example.com");
}

async fn admins_cannot_demote_or_deactivate_themselves(app: TestApp) {
    let admin = app.admin("root").await;
    let token = str_of(&admin, "access_token");
    let id = str_of(&admin["user"], "id").to_owned();
    let res = patch(
        &app,
        token,
        &id,
        &json!({"roles": ["student", "instructor"]}),
    )
    .await;
    expect_validation(res, "roles").await;
    let res = patch(&app, token, &id, &json!({"is_active": false})).await;
    expect_validation(res, "is_active").await;
    // Still an active admin with a working token.
    let (status, me) = json_of(app.get(ME, Some(token)).await).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["data"]["is_active"], true);
    assert!(me["data"]["roles"]
        .as_array()
        .expect("roles")
        .contains(&json!("admin")));
    assert_eq!(app.get(USERS, Some(token)).await.status(), 200);
}

async fn role_change_revokes_existing_tokens(app: TestApp) {
    let admin = app.admin("root").await;
    let admin_token = str_of(&admin, "access_token");
    let user = app.register("ivy").await;
    let id = str_of(&user["user"], "id").to_owned();
    let (access, refresh) = (
        str_of(&user, "access_token"),
        str_of(&user, "refresh_token"),
    );
    assert_eq!(app.get(ME, Some(access)).await.status(), 200);

    patch_ok(
        &app,
        admin_token,
        &id,
        &json!({"roles": ["student", "instructor"]}),
    )
    .await;
    expect_access_revoked(&app, access).await;
    expect_refresh_refused(&app, refresh).await;

    // A new login carries the new roles.
    let (status, body) = json_of(login(&app, "ivy").await).await;
    assert_eq!(status, 200, "{body}");
    let fresh = str_of(&body["data"], "access_token").to_owned();
    let (_, me) = json_of(app.get(ME, Some(&fresh)).await).await;
    assert_eq!(me["data"]["roles"], json!(["student", "instructor"]));

    // A tier change makes the tier claim stale: those tokens stop too.
    patch_ok(&app, admin_token, &id, &json!({"tier": "premium"})).await;
    expect_access_revoked(&app, &fresh).await;
    let (_, body) = json_of(login(&app, "ivy").await).await;
    let token = str_of(&body["data"], "access_token").to_owned();
    let (_, status) = json_of(app.get("/api/v1/auth/rate-limit", Some(&token)).await).await;
    assert_eq!(status["data"]["tier"], "premium", "{status}");
}

async fn deactivation_revokes_tokens_and_blocks_login_until_reactivated(app: TestApp) {
    let admin = app.admin("root").await;
    let admin_token = str_of(&admin, "access_token");
    let user = app.register("joe").await;
    let id = str_of(&user["user"], "id").to_owned();
    // A second session of the same user.
    let (status, second) = json_of(login(&app, "joe").await).await;
    assert_eq!(status, 200, "{second}");
    let sessions = [
        (
            str_of(&user, "access_token").to_owned(),
            str_of(&user, "refresh_token").to_owned(),
        ),
        (
            str_of(&second["data"], "access_token").to_owned(),
            str_of(&second["data"], "refresh_token").to_owned(),
        ),
    ];

    let updated = patch_ok(&app, admin_token, &id, &json!({"is_active": false})).await;
    assert_eq!(updated["is_active"], false);
    for (access, refresh) in &sessions {
        expect_access_revoked(&app, access).await;
        expect_refresh_refused(&app, refresh).await;
    }
    expect_error(login(&app, "joe").await, 403, "FORBIDDEN").await;
    let res = app
        .post(
            LOGIN,
            None,
            &json!({"email": "joe@example.com", "password": PASSWORD}),
        )
        .await;
    expect_error(res, 403, "FORBIDDEN").await;

    let updated = patch_ok(&app, admin_token, &id, &json!({"is_active": true})).await;
    assert_eq!(updated["is_active"], true);
    let (status, body) = json_of(login(&app, "joe").await).await;
    assert_eq!(status, 200, "{body}");
    let token = str_of(&body["data"], "access_token");
    assert_eq!(app.get(ME, Some(token)).await.status(), 200);
    // The old tokens stay dead after reactivation.
    for (access, _) in &sessions {
        expect_error(app.get(ME, Some(access)).await, 401, "UNAUTHORIZED").await;
    }
}

async fn recent_errors_is_an_admin_list(app: TestApp) {
    let admin = app.admin("root").await;
    let token = str_of(&admin, "access_token");
    let data = list(&app, token, ERRORS).await;
    let items = data["items"].as_array().expect("items");
    assert_eq!(data["total"].as_u64(), Some(items.len() as u64), "{data}");
    assert!(items.len() <= 100);
    // Client errors are not server errors.
    app.get("/api/v1/nope", None).await;
    let data = list(&app, token, ERRORS).await;
    assert_eq!(data["total"], 0, "{data}");
}

/// Another instance of the same deployment: a second server on the same database.
async fn second_instance(app: &TestApp) -> TestApp {
    let url = secrecy::ExposeSecret::expose_secret(&app.settings.database.url).to_owned();
    TestApp::spawn_with(Backend::Sqlite, &[("DATABASE_URL", &url)]).await
}

async fn admin_revocations_reach_every_instance_within_a_second(app: TestApp) {
    let other = second_instance(&app).await;
    let admin = app.admin("root").await;
    let admin_token = str_of(&admin, "access_token");
    let promoted = app.register("kim").await;
    let deactivated = app.register("lou").await;
    for user in [&promoted, &deactivated] {
        let token = str_of(user, "access_token");
        assert_eq!(other.get(ME, Some(token)).await.status(), 200);
    }

    let id = str_of(&promoted["user"], "id");
    patch_ok(
        &app,
        admin_token,
        id,
        &json!({"roles": ["student", "instructor"]}),
    )
    .await;
    expect_access_revoked(&other, str_of(&promoted, "access_token")).await;
    expect_refresh_refused(&other, str_of(&promoted, "refresh_token")).await;

    let id = str_of(&deactivated["user"], "id");
    patch_ok(&app, admin_token, id, &json!({"is_active": false})).await;
    expect_access_revoked(&other, str_of(&deactivated, "access_token")).await;
    expect_error(login(&other, "lou").await, 403, "FORBIDDEN").await;
}

on_both_backends!(
    admin_endpoints_require_an_admin,
    lists_users_with_pagination_and_filters,
    patch_changes_the_user_and_writes_an_audit_row,
    invalid_patches_are_refused_and_change_nothing,
    admins_cannot_demote_or_deactivate_themselves,
    role_change_revokes_existing_tokens,
    deactivation_revokes_tokens_and_blocks_login_until_reactivated,
    recent_errors_is_an_admin_list,
    admin_revocations_reach_every_instance_within_a_second,
);
