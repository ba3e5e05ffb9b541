//! Students' own credentials, where the activity allows them (SPEC §10.4, decisions
//! 120–123): chosen per session, checked at start and at every turn.

use ainative_test_support::fixtures::{data, published_activity, turn};
use ainative_test_support::{expect_error, Backend, TestApp};
use reqwest::{Method, Response};
use serde_json::{json, Value};

use super::{captured_logs, cast, endpoint, register, spawn};

/// `POST /sessions` on `activity`, naming `credential` when given.
async fn start_with(
    app: &TestApp,
    token: &str,
    activity: &str,
    credential: Option<&Value>,
) -> Response {
    let mut body = json!({"activity_id": activity});
    if let Some(id) = credential {
        body["llm_credential_id"] = id.clone();
    }
    app.post("/api/v1/sessions", Some(token), &body).await
}

async fn started(app: &TestApp, token: &str, activity: &str, credential: Option<&Value>) -> String {
    let session = data(start_with(app, token, activity, credential).await, 201).await;
    assert_eq!(
        session["llm_credential_id"],
        credential.cloned().unwrap_or(Value::Null)
    );
    session["id"].as_str().unwrap().to_owned()
}

/// The response text of one turn of `session`.
async fn answer(app: &TestApp, token: &str, session: &str, prompt: &str) -> Value {
    let body = data(
        turn(app, token, session, json!({"prompt": prompt})).await,
        201,
    )
    .await;
    body["interaction"].clone()
}

/// The `Authorization` headers `server` received.
async fn keys_seen(server: &wiremock::MockServer) -> Vec<String> {
    let requests = server.received_requests().await.unwrap();
    requests
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

/// A student's session reaches the student's endpoint with the student's key; another
/// student of the same activity reaches the instructor's, and on an activity without a
/// credential the platform's model; usage is counted on the student's credential.
async fn students_turns_reach_their_own_endpoint(backend: Backend) {
    let app = spawn(backend).await;
    let c = cast(&app).await;
    let other = app.token_of("learner2").await;
    let (key_a, key_s) = ("sk-alice-0123456789-AAAA", "sk-student-0123456789-SSSS");
    let fake_a = endpoint(key_a, "answer from alice").await;
    let fake_s = endpoint(key_s, "answer from the student").await;
    let cred_a = register(&app, &c.alice, &fake_a, key_a).await;
    // Students register like anyone (decision 120).
    let cred_s = register(&app, &c.student, &fake_s, key_s).await;
    assert_eq!(cred_s["key_hint"], "sk-…SSSS");
    let policies = json!({"llm_credential_id": cred_a["id"], "allow_student_credentials": true});
    let activity = published_activity(&app, &c.alice, policies).await;
    let shown = data(
        app.get(&format!("/api/v1/activities/{activity}"), Some(&c.alice))
            .await,
        200,
    )
    .await;
    assert_eq!(shown["policies"]["allow_student_credentials"], true);
    let platform_only =
        published_activity(&app, &c.alice, json!({"allow_student_credentials": true})).await;

    let mine = started(&app, &c.student, &activity, Some(&cred_s["id"])).await;
    let theirs = started(&app, &other, &activity, None).await;
    let plain = started(&app, &other, &platform_only, None).await;
    let prompt = "What is a loop in Python?";
    assert_eq!(
        answer(&app, &c.student, &mine, prompt).await["response"],
        "answer from the student"
    );
    assert_eq!(
        answer(&app, &other, &theirs, prompt).await["response"],
        "answer from alice"
    );
    assert_eq!(
        answer(&app, &other, &plain, prompt).await["provider"],
        "offline"
    );
    assert_eq!(keys_seen(&fake_s).await, [format!("Bearer {key_s}")]);
    assert_eq!(keys_seen(&fake_a).await, [format!("Bearer {key_a}")]);

    let one = format!(
        "/api/v1/me/llm-credentials/{}",
        cred_s["id"].as_str().unwrap()
    );
    let usage = data(app.get(&one, Some(&c.student)).await, 200).await;
    assert_eq!(usage["total_requests"], 1);
    let session = data(
        app.get(&format!("/api/v1/sessions/{mine}"), Some(&c.student))
            .await,
        200,
    )
    .await;
    assert_eq!(session["llm_credential_id"], cred_s["id"]);
    for key in [key_a, key_s] {
        assert!(
            !captured_logs().text().contains(key),
            "a key reached the logs"
        );
    }
}

/// The session's credential: refused (422 on `llm_credential_id`) when the activity does
/// not allow it, when it is another user's or absent (one message for both), or suspended;
/// students see only their own credentials; the policy is type-checked.
async fn session_credential_is_checked(backend: Backend) {
    let app = spawn(backend).await;
    let c = cast(&app).await;
    let other = app.token_of("learner2").await;
    let fake = endpoint("sk-own-0123456789", "x").await;
    let own = register(&app, &c.student, &fake, "sk-own-0123456789").await;
    let others = register(&app, &other, &fake, "sk-other-0123456789").await;
    let closed = published_activity(&app, &c.alice, json!({})).await;
    let open = published_activity(&app, &c.alice, json!({"allow_student_credentials": true})).await;

    let refused = |res: Response| async move {
        let err = expect_error(res, 422, "VALIDATION_ERROR").await;
        assert_eq!(
            err["error"]["details"][0]["field"], "llm_credential_id",
            "{err}"
        );
        err["error"]["details"][0]["message"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let not_allowed = refused(start_with(&app, &c.student, &closed, Some(&own["id"])).await).await;
    assert!(not_allowed.contains("does not allow"), "{not_allowed}");
    let stolen = refused(start_with(&app, &c.student, &open, Some(&others["id"])).await).await;
    let ghost = json!(uuid::Uuid::new_v4());
    let absent = refused(start_with(&app, &c.student, &open, Some(&ghost)).await).await;
    assert_eq!(stolen, absent, "another user's credential looks absent");

    let id = own["id"].as_str().unwrap();
    data(
        app.post(
            &format!("/api/v1/admin/llm-credentials/{id}/suspend"),
            Some(&c.admin),
            &json!({"reason": "student abuse"}),
        )
        .await,
        200,
    )
    .await;
    refused(start_with(&app, &c.student, &open, Some(&own["id"])).await).await;
    // Nothing was started by the refusals: the student may still start a plain session.
    started(&app, &c.student, &open, None).await;

    let one = format!("/api/v1/me/llm-credentials/{id}");
    for token in [&other, &c.alice] {
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
    }
    let listed = data(
        app.get("/api/v1/me/llm-credentials", Some(&other)).await,
        200,
    )
    .await;
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["items"][0]["id"], others["id"]);

    let bad = json!({"title": "Typed", "policies": {"allow_student_credentials": "yes"}});
    let err = expect_error(
        app.post("/api/v1/activities", Some(&c.alice), &bad).await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    assert_eq!(err["error"]["details"][0]["field"], "policies");
}

/// A suspended student credential: the activity's credential answers, or 409 when the
/// activity requires an own credential; activation restores it; an activity that stops
/// allowing student credentials routes the session to its own at the next turn.
async fn suspended_student_credential_falls_back_or_conflicts(backend: Backend) {
    let app = spawn(backend).await;
    let c = cast(&app).await;
    let (key_a, key_s) = ("sk-alice-fallback-0123", "sk-student-fallback-0123");
    let fake_a = endpoint(key_a, "answer from alice").await;
    let fake_s = endpoint(key_s, "answer from the student").await;
    let cred_a = register(&app, &c.alice, &fake_a, key_a).await;
    let cred_s = register(&app, &c.student, &fake_s, key_s).await;
    let lenient = published_activity(
        &app,
        &c.alice,
        json!({"llm_credential_id": cred_a["id"], "allow_student_credentials": true}),
    )
    .await;
    let strict = published_activity(
        &app,
        &c.alice,
        json!({"allow_student_credentials": true, "require_own_credential": true}),
    )
    .await;
    let s_lenient = started(&app, &c.student, &lenient, Some(&cred_s["id"])).await;
    let s_strict = started(&app, &c.student, &strict, Some(&cred_s["id"])).await;
    let id = cred_s["id"].as_str().unwrap();
    let admin = |action: &'static str| {
        let (app, token) = (&app, &c.admin);
        async move {
            let body = if action == "suspend" {
                json!({"reason": "checking"})
            } else {
                json!({})
            };
            let path = format!("/api/v1/admin/llm-credentials/{id}/{action}");
            data(app.post(&path, Some(token), &body).await, 200).await
        }
    };

    admin("suspend").await;
    let fallback = answer(&app, &c.student, &s_lenient, "What is a list?").await;
    assert_eq!(fallback["response"], "answer from alice");
    let conflict = expect_error(
        turn(
            &app,
            &c.student,
            &s_strict,
            json!({"prompt": "What is a set?"}),
        )
        .await,
        409,
        "CONFLICT",
    )
    .await;
    assert!(conflict["error"]["message"]
        .as_str()
        .unwrap()
        .contains("credential"));
    assert!(fake_s.received_requests().await.unwrap().is_empty());

    admin("activate").await;
    let own = answer(&app, &c.student, &s_strict, "What is a dict?").await;
    assert_eq!(own["response"], "answer from the student");

    // Using is gated at every turn: once the activity stops allowing it, its own answers.
    data(
        app.call(
            Method::PATCH,
            &format!("/api/v1/activities/{lenient}"),
            Some(&c.alice),
            Some(&json!({"policies": {"allow_student_credentials": false}})),
        )
        .await,
        200,
    )
    .await;
    let gated = answer(&app, &c.student, &s_lenient, "What is a tuple?").await;
    assert_eq!(gated["response"], "answer from alice");
    assert_eq!(keys_seen(&fake_s).await.len(), 1);
}

crate::both_backends!(
    students_turns_reach_their_own_endpoint,
    session_credential_is_checked,
    suspended_student_credential_falls_back_or_conflicts,
);
