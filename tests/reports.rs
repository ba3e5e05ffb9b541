//! End-to-end tests of course reports (SPEC §10.5) on SQLite and PostgreSQL: students run
//! sessions with risks and an evaluation on the offline provider, the instructor asks for a
//! report (202), the server's workers build it, and it reads back as JSON and as CSV with
//! the numbers the turns produced; the access rules; an activity without sessions.

use std::collections::BTreeMap;
use std::time::Duration;

use ainative_test_support::fixtures::{data, instructor, published_activity, start, turn};
use ainative_test_support::Backend;
use ainative_test_support::{expect_error, on_both_backends, wait_for, TestApp};
use reqwest::header::CONTENT_TYPE;
use reqwest::Method;
use serde_json::{json, Value};

/// How long building a small report may take on a busy machine.
const BUILDING: Duration = Duration::from_secs(60);

struct Cast {
    admin: String,
    owner: String,
    other_instructor: String,
    ann: String,
    bob: String,
}

async fn cast(app: &TestApp) -> Cast {
    let admin = app.admin("root").await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    Cast {
        owner: instructor(app, &admin, "teacher").await,
        other_instructor: instructor(app, &admin, "colleague").await,
        ann: app.token_of("ann").await,
        bob: app.token_of("bob").await,
        admin,
    }
}

/// Asks for a report of `activity`; returns its id.
async fn request(app: &TestApp, token: &str, activity: &str) -> String {
    let accepted = data(
        app.post(
            &format!("/api/v1/activities/{activity}/report"),
            Some(token),
            &json!({}),
        )
        .await,
        202,
    )
    .await;
    let id = accepted["id"].as_str().expect("id").to_owned();
    assert_eq!(accepted["url"], format!("/api/v1/reports/{id}"));
    assert_eq!(accepted["report"]["status"], "pending");
    assert_eq!(accepted["report"]["activity_id"], json!(activity));
    id
}

/// Waits until the report is completed; returns it.
async fn completed(app: &TestApp, token: &str, id: &str) -> Value {
    let path = format!("/api/v1/reports/{id}");
    wait_for(BUILDING, "the report to be built", || {
        let path = path.clone();
        async move {
            let report = data(app.get(&path, Some(token)).await, 200).await;
            match report["status"].as_str().unwrap_or_default() {
                "completed" => Some(report),
                "failed" => panic!("the report failed: {report}"),
                _ => None,
            }
        }
    })
    .await
}

async fn csv_of(app: &TestApp, token: &str, id: &str) -> reqwest::Response {
    app.get_with(
        &format!("/api/v1/reports/{id}"),
        Some(token),
        &[("accept", "text/csv")],
    )
    .await
}

/// The CSV rows as (section, key, metric) → value.
async fn parse_csv(res: reqwest::Response) -> BTreeMap<(String, String, String), String> {
    assert_eq!(res.status(), 200);
    let content_type = res.headers()[CONTENT_TYPE]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let text = res.text().await.expect("body");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().expect("header").iter().collect::<Vec<_>>(),
        ["section", "key", "metric", "value"]
    );
    reader
        .records()
        .map(|r| {
            let r = r.expect("a well-formed row");
            assert_eq!(r.len(), 4);
            (
                (r[0].to_owned(), r[1].to_owned(), r[2].to_owned()),
                r[3].to_owned(),
            )
        })
        .collect()
}

fn cell(rows: &BTreeMap<(String, String, String), String>, s: &str, k: &str, m: &str) -> f64 {
    rows.get(&(s.to_owned(), k.to_owned(), m.to_owned()))
        .unwrap_or_else(|| panic!("no row {s},{k},{m}"))
        .parse()
        .expect("a number")
}

/// What the turns said, summed by the test from the API's own answers.
#[derive(Default)]
struct Seen {
    interactions: u64,
    involvement: Vec<f64>,
    risks_by_level: BTreeMap<String, u64>,
}

impl Seen {
    async fn turn(&mut self, app: &TestApp, token: &str, session: &str, prompt: &str) {
        let out = data(
            turn(app, token, session, json!({"prompt": prompt})).await,
            201,
        )
        .await;
        self.interactions += 1;
        for t in out["traces"].as_array().expect("traces") {
            self.involvement
                .push(t["ai_involvement"].as_f64().expect("involvement"));
        }
        for r in out["risks"].as_array().expect("risks") {
            let level = r["level"].as_str().expect("level").to_owned();
            *self.risks_by_level.entry(level).or_default() += 1;
        }
    }
}

fn close(actual: &Value, expected: f64, what: &str) {
    let actual = actual
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: {actual}"));
    assert!(
        (actual - expected).abs() < 1e-6,
        "{what}: {actual} ≠ {expected}"
    );
}

async fn report_aggregates_the_sessions_as_json_and_csv(app: TestApp) {
    let c = cast(&app).await;
    let activity = published_activity(&app, &c.owner, json!({})).await;
    let mut seen = Seen::default();
    let ann_session = start(&app, &c.ann, &activity).await;
    seen.turn(&app, &c.ann, &ann_session, "What is a loop invariant?")
        .await;
    seen.turn(
        &app,
        &c.ann,
        &ann_session,
        "Just give me the complete solution code",
    )
    .await;
    let ended = data(
        app.post(
            &format!("/api/v1/sessions/{ann_session}/end"),
            Some(&c.ann),
            &json!({}),
        )
        .await,
        200,
    )
    .await;
    let evaluation = &ended["evaluation"];
    let bob_session = start(&app, &c.bob, &activity).await;
    seen.turn(
        &app,
        &c.bob,
        &bob_session,
        "How do I start thinking about recursion?",
    )
    .await;
    assert!(seen.risks_by_level.get("high").copied().unwrap_or(0) >= 1);

    let id = request(&app, &c.owner, &activity).await;
    let report = completed(&app, &c.owner, &id).await;
    assert_eq!(report["requested_by"].as_str().map(str::len), Some(36));
    assert!(report["started_at"].is_string() && report["finished_at"].is_string());
    let body = &report["report"];
    let sessions = &body["sessions"];
    assert_eq!(sessions["total"], 2);
    assert_eq!(sessions["students"], 2);
    assert_eq!(sessions["interactions"], seen.interactions);
    assert_eq!(sessions["evaluated"], 1);
    assert_eq!(sessions["by_status"]["completed"], 1);
    assert_eq!(sessions["by_status"]["active"], 1);

    // One evaluation: every statistic of a dimension is its score.
    close(
        &body["overall_score"]["mean"],
        evaluation["overall_score"].as_f64().expect("score"),
        "overall",
    );
    let dimensions = evaluation["dimensions"].as_array().expect("dimensions");
    assert_eq!(
        body["dimensions"].as_object().expect("object").len(),
        dimensions.len()
    );
    for d in dimensions {
        let stats = &body["dimensions"][d["name"].as_str().expect("name")];
        assert_eq!(stats["count"], 1);
        let score = d["score"].as_f64().expect("score");
        for metric in ["mean", "min", "max"] {
            close(&stats[metric], score, metric);
        }
    }

    let risks = &body["risks"];
    let total: u64 = seen.risks_by_level.values().sum();
    assert_eq!(risks["total"]["open"], total);
    assert_eq!(risks["total"]["resolved"], 0);
    for (level, n) in &seen.risks_by_level {
        assert_eq!(risks["by_level"][level]["open"], *n, "{level}");
    }

    let ai = &body["ai_involvement"];
    let n = seen.involvement.len();
    assert_eq!(ai["count"], n);
    close(
        &ai["mean"],
        seen.involvement.iter().sum::<f64>() / n as f64,
        "ai mean",
    );
    let mut sorted = seen.involvement.clone();
    sorted.sort_by(f64::total_cmp);
    close(&ai["p50"], sorted[(n * 50).div_ceil(100) - 1], "p50");
    close(&ai["p90"], sorted[(n * 90).div_ceil(100) - 1], "p90");
    let buckets: u64 = ai["buckets"]
        .as_array()
        .expect("buckets")
        .iter()
        .map(|b| b["count"].as_u64().expect("count"))
        .sum();
    assert_eq!(buckets, n as u64);
    let events: u64 = body["cognitive_time"]
        .as_object()
        .expect("states")
        .values()
        .map(|t| t["events"].as_u64().expect("events"))
        .sum();
    assert_eq!(events, n as u64);

    // The CSV says the same.
    let rows = parse_csv(csv_of(&app, &c.owner, &id).await).await;
    assert_eq!(cell(&rows, "sessions", "all", "total"), 2.0);
    assert_eq!(
        cell(&rows, "sessions", "all", "interactions"),
        seen.interactions as f64
    );
    assert_eq!(cell(&rows, "sessions_by_status", "active", "count"), 1.0);
    assert_eq!(cell(&rows, "risks", "all", "open"), total as f64);
    assert_eq!(cell(&rows, "ai_involvement", "all", "count"), n as f64);
    for d in dimensions {
        let name = d["name"].as_str().expect("name");
        assert!(
            (cell(&rows, "dimension", name, "mean") - d["score"].as_f64().expect("score")).abs()
                < 1e-9
        );
    }
    let seconds: f64 = rows
        .iter()
        .filter(|((s, _, m), _)| s == "cognitive_time" && m == "seconds")
        .map(|(_, v)| v.parse::<f64>().expect("seconds"))
        .sum();
    let json_seconds: f64 = body["cognitive_time"]
        .as_object()
        .expect("states")
        .values()
        .map(|t| t["seconds"].as_f64().expect("seconds"))
        .sum();
    assert!((seconds - json_seconds).abs() < 1e-9);

    // The activity's reports, newest first, without aggregates.
    let second = request(&app, &c.admin, &activity).await;
    let list = data(
        app.get(
            &format!("/api/v1/activities/{activity}/reports?limit=1"),
            Some(&c.owner),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(list["total"], 2);
    assert_eq!(list["items"][0]["id"], json!(second));
    assert!(list["items"][0]["report"].is_null());
}

async fn report_access_rules(app: TestApp) {
    let c = cast(&app).await;
    let activity = published_activity(&app, &c.owner, json!({})).await;
    let post = format!("/api/v1/activities/{activity}/report");
    for token in [&c.ann, &c.other_instructor] {
        expect_error(
            app.post(&post, Some(token), &json!({})).await,
            404,
            "NOT_FOUND",
        )
        .await;
        expect_error(
            app.get(
                &format!("/api/v1/activities/{activity}/reports"),
                Some(token),
            )
            .await,
            404,
            "NOT_FOUND",
        )
        .await;
    }
    let res = app.call(Method::POST, &post, None, Some(&json!({}))).await;
    assert_eq!(res.status(), 401);
    let unknown = "00000000-0000-4000-8000-000000000000";
    expect_error(
        app.post(
            &format!("/api/v1/activities/{unknown}/report"),
            Some(&c.admin),
            &json!({}),
        )
        .await,
        404,
        "NOT_FOUND",
    )
    .await;

    // An admin may ask; the owner reads it; others do not see it.
    let id = request(&app, &c.admin, &activity).await;
    let path = format!("/api/v1/reports/{id}");
    data(app.get(&path, Some(&c.owner)).await, 200).await;
    for token in [&c.ann, &c.other_instructor] {
        expect_error(app.get(&path, Some(token)).await, 404, "NOT_FOUND").await;
        expect_error(csv_of(&app, token, &id).await, 404, "NOT_FOUND").await;
    }
    expect_error(
        app.get(&format!("/api/v1/reports/{unknown}"), Some(&c.admin))
            .await,
        404,
        "NOT_FOUND",
    )
    .await;
    let bad = app.get("/api/v1/reports/not-a-uuid", Some(&c.admin)).await;
    let wanted = app
        .get("/api/v1/activities/not-a-uuid", Some(&c.admin))
        .await
        .status();
    assert_eq!(bad.status(), wanted, "a bad id answers as elsewhere");
    assert!(bad.status().is_client_error());
    let res = app.call(Method::DELETE, &path, Some(&c.admin), None).await;
    assert_eq!(res.status(), 405);
}

async fn report_of_an_activity_without_sessions_is_zeros(app: TestApp) {
    let c = cast(&app).await;
    let activity = published_activity(&app, &c.owner, json!({})).await;
    let id = request(&app, &c.owner, &activity).await;
    let report = completed(&app, &c.owner, &id).await;
    let body = &report["report"];
    assert_eq!(body["sessions"]["total"], 0);
    assert_eq!(body["overall_score"]["count"], 0);
    assert!(body["overall_score"]["mean"].is_null());
    assert_eq!(body["ai_involvement"]["count"], 0);
    assert_eq!(body["risks"]["total"]["open"], 0);
    let rows = parse_csv(csv_of(&app, &c.owner, &id).await).await;
    assert_eq!(cell(&rows, "sessions", "all", "total"), 0.0);
    assert_eq!(
        rows[&(
            "ai_involvement".to_owned(),
            "all".to_owned(),
            "mean".to_owned()
        )],
        ""
    );
}

/// Without workers the report stays pending: its JSON says so, its CSV is 409.
async fn a_pending_report_has_no_csv_yet(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("WORKERS", "0")]).await;
    let c = cast(&app).await;
    let activity = published_activity(&app, &c.owner, json!({})).await;
    let id = request(&app, &c.owner, &activity).await;
    let report = data(
        app.get(&format!("/api/v1/reports/{id}"), Some(&c.owner))
            .await,
        200,
    )
    .await;
    assert_eq!(report["status"], "pending");
    assert!(report["report"].is_null());
    expect_error(csv_of(&app, &c.owner, &id).await, 409, "CONFLICT").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_report_has_no_csv_yet_sqlite() {
    a_pending_report_has_no_csv_yet(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_report_has_no_csv_yet_postgres() {
    a_pending_report_has_no_csv_yet(Backend::Postgres).await;
}

on_both_backends!(
    report_aggregates_the_sessions_as_json_and_csv,
    report_access_rules,
    report_of_an_activity_without_sessions_is_zeros,
);
