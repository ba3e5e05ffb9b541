//! End-to-end tests of a session's lifecycle (pause, resume, abort; who may do what; 409 on
//! illegal transitions; no turns while paused; evaluation only on completed) and of the
//! risk rules on the per-session running state (`uncritical_acceptance`, a long session),
//! on SQLite and PostgreSQL.

use ainative_test_support::fixtures::{data, instructor, published_activity, start, turn};
use ainative_test_support::{expect_error, on_both_backends, TestApp};
use serde_json::{json, Value};

async fn act(app: &TestApp, token: &str, session: &str, action: &str) -> reqwest::Response {
    app.post(
        &format!("/api/v1/sessions/{session}/{action}"),
        Some(token),
        &json!({}),
    )
    .await
}

async fn pause_resume_abort(app: TestApp) {
    let admin = app.admin("root").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let owner = instructor(&app, &admin, "teacher").await;
    let colleague = instructor(&app, &admin, "colleague").await;
    let student = app.token_of("student").await;
    let stranger = app.token_of("stranger").await;
    let activity = published_activity(&app, &owner, json!({})).await;
    let session = start(&app, &student, &activity).await;
    let question = json!({"prompt": "What is a loop invariant?"});

    // Strangers do not see the session; the owner sees it but may not pause it.
    expect_error(
        act(&app, &stranger, &session, "pause").await,
        404,
        "NOT_FOUND",
    )
    .await;
    expect_error(
        act(&app, &colleague, &session, "abort").await,
        404,
        "NOT_FOUND",
    )
    .await;
    expect_error(act(&app, &owner, &session, "pause").await, 403, "FORBIDDEN").await;
    expect_error(
        act(&app, &student, &session, "resume").await,
        409,
        "CONFLICT",
    )
    .await;

    let paused = data(act(&app, &student, &session, "pause").await, 200).await;
    assert_eq!(paused["status"], "paused");
    assert!(paused["ended_at"].is_null());
    expect_error(
        act(&app, &student, &session, "pause").await,
        409,
        "CONFLICT",
    )
    .await;
    // No turn, no end, no second session while paused.
    expect_error(
        turn(&app, &student, &session, question.clone()).await,
        409,
        "CONFLICT",
    )
    .await;
    expect_error(act(&app, &student, &session, "end").await, 409, "CONFLICT").await;
    expect_error(
        app.post(
            "/api/v1/sessions",
            Some(&student),
            &json!({"activity_id": activity}),
        )
        .await,
        409,
        "CONFLICT",
    )
    .await;

    // An admin may resume it; turns work again.
    let resumed = data(act(&app, &admin, &session, "resume").await, 200).await;
    assert_eq!(resumed["status"], "active");
    data(turn(&app, &student, &session, question.clone()).await, 201).await;

    // The activity's owner may abort it: final, no evaluation.
    let aborted = data(act(&app, &owner, &session, "abort").await, 200).await;
    assert_eq!(aborted["status"], "aborted");
    assert!(aborted["ended_at"].is_string());
    assert_eq!(aborted["interaction_count"], 1);
    for action in ["pause", "resume", "abort", "end"] {
        expect_error(act(&app, &student, &session, action).await, 409, "CONFLICT").await;
    }
    expect_error(
        turn(&app, &student, &session, question).await,
        409,
        "CONFLICT",
    )
    .await;
    expect_error(
        app.get(
            &format!("/api/v1/sessions/{session}/evaluation"),
            Some(&student),
        )
        .await,
        404,
        "NOT_FOUND",
    )
    .await;
    let listed = data(
        app.get("/api/v1/sessions?status=aborted", Some(&student))
            .await,
        200,
    )
    .await;
    assert_eq!(listed["total"], 1);

    // A new session may start; the student aborts a paused one of their own.
    let next = start(&app, &student, &activity).await;
    data(act(&app, &student, &next, "pause").await, 200).await;
    let gone = data(act(&app, &student, &next, "abort").await, 200).await;
    assert_eq!(gone["status"], "aborted");
    let unknown = "00000000-0000-4000-8000-000000000000";
    expect_error(
        act(&app, &student, unknown, "pause").await,
        404,
        "NOT_FOUND",
    )
    .await;
}

/// The first fenced block of `text`, without its language line.
fn first_fence(text: &str) -> Option<String> {
    let block = text.split("```").nth(1)?;
    let (_, body) = block.split_once('\n')?;
    Some(body.to_owned())
}

async fn copying_the_ais_snippet_is_uncritical_acceptance(app: TestApp) {
    let admin = app.admin("root").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let owner = instructor(&app, &admin, "teacher").await;
    let student = app.token_of("student").await;
    let policies = json!({"allow_code_snippets": true, "require_justification": false});
    let activity = published_activity(&app, &owner, policies).await;
    let session = start(&app, &student, &activity).await;
    // Effort raises the help level until the tutor shows a snippet.
    let mut snippet = None;
    for attempt in 0..4 {
        let report = json!({
            "prompt": format!("My sum crashes, I tried a for loop (attempt {attempt})"),
            "code": "def total(xs):\n    for x in xs:\n        s += x\n    return s",
            "error_output": "UnboundLocalError: local variable 's' referenced before assignment",
        });
        let record = data(turn(&app, &student, &session, report).await, 201).await;
        assert!(record["risks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["kind"] != "uncritical_acceptance"));
        snippet = first_fence(record["interaction"]["response"].as_str().unwrap());
        if snippet.is_some() {
            break;
        }
    }
    let snippet = snippet.expect("the offline tutor shows a snippet at medium help");
    let copied = json!({"prompt": "Here is my code now.", "code": format!("  {snippet}\n\n")});
    let record = data(turn(&app, &student, &session, copied.clone()).await, 201).await;
    let kinds: Vec<&Value> = record["risks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["kind"])
        .collect();
    assert!(kinds.contains(&&json!("uncritical_acceptance")), "{record}");
    let risk = record["risks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "uncritical_acceptance")
        .unwrap();
    assert_eq!(risk["level"], "medium");
    assert_eq!(risk["dimension"], "epistemic");

    // Submitting it again right after asking about it is not uncritical.
    let asked = json!({"prompt": "Why is a temporary print useful here?"});
    let answer = data(turn(&app, &student, &session, asked).await, 201).await;
    let text = answer["interaction"]["response"].as_str().unwrap();
    assert!(first_fence(text).is_none(), "{text}");
    let again = data(turn(&app, &student, &session, copied).await, 201).await;
    assert!(again["risks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["kind"] != "uncritical_acceptance"));
}

async fn a_long_session_keeps_its_rules_right(app: TestApp) {
    let admin = app.admin("root").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let owner = instructor(&app, &admin, "teacher").await;
    let student = app.token_of("student").await;
    let activity =
        published_activity(&app, &owner, json!({"block_complete_solutions": true})).await;
    let session = start(&app, &student, &activity).await;
    // 30 turns; solution requests at 5, 17 and 29: the third raises the count risk, once.
    let mut count_risks = Vec::new();
    for n in 1..=30 {
        let prompt = if n % 12 == 5 {
            "Just give me the full solution".to_owned()
        } else {
            format!("What is the invariant of loop number {n}?")
        };
        let record = data(
            turn(&app, &student, &session, json!({"prompt": prompt})).await,
            201,
        )
        .await;
        assert_eq!(record["interaction"]["seq"], n);
        for r in record["risks"].as_array().unwrap() {
            if r["kind"] == "cognitive_delegation" && r["evidence"]["attempts"].is_number() {
                count_risks.push((n, r["evidence"]["attempts"].clone()));
            }
        }
    }
    assert_eq!(count_risks, vec![(29, json!(3))]);
    let risks = data(
        app.get(
            &format!("/api/v1/sessions/{session}/risks?limit=100"),
            Some(&student),
        )
        .await,
        200,
    )
    .await;
    let delegation = risks["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "cognitive_delegation")
        .count();
    // One per blocked request, plus the count risk.
    assert_eq!(delegation, 4, "{risks}");
    let ended = data(
        app.post(
            &format!("/api/v1/sessions/{session}/end"),
            Some(&student),
            &json!({}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(ended["session"]["status"], "completed");
    assert!(ended["evaluation"]["overall_score"].is_number());
}

on_both_backends!(
    pause_resume_abort,
    copying_the_ais_snippet_is_uncritical_acceptance,
    a_long_session_keeps_its_rules_right,
);
