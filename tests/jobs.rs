//! End-to-end tests of the job queue through the running server (SPEC §10.5) on SQLite and
//! PostgreSQL: a failing job retries then dies, admins list and retry dead jobs (audited),
//! `/health` and `/metrics` report the workers.
//!
//! Jobs are `diagnostics.probe` (enabled by `JOB_DIAGNOSTICS_DIR`), enqueued on the server's
//! database as any producer would.

use std::time::Duration;

use ainative_server::database::Database;
use ainative_server::workers::DIAGNOSTICS_KIND;
use ainative_test_support::{expect_error, json_of, wait_for, Backend, TempDir, TestApp};
use serde_json::{json, Value};

const JOBS: &str = "/api/v1/admin/jobs";
const LIMIT: Duration = Duration::from_secs(60);

async fn app_with_probes(backend: Backend, probes: &TempDir) -> TestApp {
    let dir = probes.path().display().to_string();
    TestApp::spawn_with(
        backend,
        &[
            ("JOB_DIAGNOSTICS_DIR", dir.as_str()),
            ("JOB_POLL_MS", "50"),
            ("JOB_BACKOFF_BASE_SECS", "1"),
            ("JOB_BACKOFF_MAX_SECS", "1"),
        ],
    )
    .await
}

async fn enqueue(app: &TestApp, payload: Value, max_attempts: u32) -> String {
    let db = Database::connect(&app.settings.database, None)
        .await
        .expect("connect");
    let job = ainative_ports::NewJob::new(DIAGNOSTICS_KIND, payload, chrono::Utc::now())
        .max_attempts(max_attempts);
    let id = db.jobs.enqueue(job).await.expect("enqueue").id;
    db.close().await;
    id.to_string()
}

/// The job `id` as an admin sees it in the list of `state`, once it is there.
async fn listed(app: &TestApp, token: &str, state: &str, id: &str) -> Value {
    wait_for(LIMIT, &format!("job {id} listed as {state}"), || async {
        let (status, body) =
            json_of(app.get(&format!("{JOBS}?state={state}"), Some(token)).await).await;
        assert_eq!(status, 200, "{body}");
        body["data"]["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|job| job["id"] == id)
            .cloned()
    })
    .await
}

async fn dead_jobs_are_listed_and_retried_by_admins(backend: Backend) {
    let probes = TempDir::create("probes");
    let app = app_with_probes(backend, &probes).await;
    let admin = app.admin("jobs_admin").await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let student = app.token_of("jobs_student").await;

    let failing = enqueue(&app, json!({"fail_attempts": 100}), 2).await;
    let dead = listed(&app, &admin, "dead", &failing).await;
    assert_eq!(dead["kind"], DIAGNOSTICS_KIND);
    assert_eq!(dead["attempts"], 2);
    assert_eq!(dead["max_attempts"], 2);
    assert_eq!(dead["last_error"], "probe attempt 2 failed on purpose");
    assert!(
        dead.get("payload").is_none(),
        "payloads are not shown: {dead}"
    );

    let ok = enqueue(&app, json!({}), 3).await;
    let succeeded = listed(&app, &admin, "succeeded", &ok).await;
    assert_eq!(succeeded["attempts"], 1);

    // Access, validation, missing and wrong-state jobs.
    expect_error(app.get(JOBS, Some(&student)).await, 403, "FORBIDDEN").await;
    expect_error(app.get(JOBS, None).await, 401, "UNAUTHORIZED").await;
    expect_error(
        app.get(&format!("{JOBS}?state=zombie"), Some(&admin)).await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    let retry = |id: &str| format!("{JOBS}/{id}/retry");
    expect_error(
        app.post(&retry(&failing), Some(&student), &json!({})).await,
        403,
        "FORBIDDEN",
    )
    .await;
    expect_error(
        app.post(
            &retry(&uuid::Uuid::new_v4().to_string()),
            Some(&admin),
            &json!({}),
        )
        .await,
        404,
        "NOT_FOUND",
    )
    .await;
    expect_error(
        app.post(&retry(&ok), Some(&admin), &json!({})).await,
        409,
        "CONFLICT",
    )
    .await;

    let (status, body) = json_of(app.post(&retry(&failing), Some(&admin), &json!({})).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["id"], failing.as_str());
    assert!(
        ["queued", "running"].contains(&body["data"]["state"].as_str().unwrap_or("")),
        "{body}"
    );
    assert_eq!(body["data"]["attempts"], 0);

    let (_, audit) = json_of(app.get("/api/v1/admin/audit", Some(&admin)).await).await;
    let row = audit["data"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|row| row["action"] == "job_retried")
        .cloned()
        .expect("the retry is audited");
    assert_eq!(row["target_type"], "job");
    assert_eq!(row["target_id"], failing.as_str());
    assert_eq!(
        row["details"]["last_error"],
        "probe attempt 2 failed on purpose"
    );

    // Retried, it runs again (and fails again: it always fails).
    wait_for(LIMIT, "the retried job dies again", || async {
        let (_, body) = json_of(app.get(&format!("{JOBS}?state=dead"), Some(&admin)).await).await;
        body["data"]["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|job| job["id"] == failing.as_str() && job["attempts"] == 2)
            .cloned()
    })
    .await;
    let starts = std::fs::read_to_string(probes.join(format!("{failing}.log")))
        .expect("probe log")
        .lines()
        .filter(|l| l.starts_with("start"))
        .count();
    assert_eq!(starts, 4, "two attempts, twice");

    // Health and metrics show the workers.
    let (status, health) = json_of(app.get("/api/v1/health", None).await).await;
    assert_eq!(status, 200, "{health}");
    let workers = &health["data"]["components"]["workers"];
    assert_eq!(workers["status"], "healthy", "{health}");
    assert_eq!(workers["workers"], 2);
    assert_eq!(workers["running"], 0);
    assert_eq!(workers["queued"], 0);
    assert_eq!(workers["failed_last_hour"], 1);
    let metrics = app
        .client
        .get(format!("http://127.0.0.1:{}/metrics", app.metrics_port))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    for series in [
        r#"jobs_total{kind="diagnostics.probe",outcome="dead"} 2"#,
        r#"jobs_total{kind="diagnostics.probe",outcome="retried"} 2"#,
        r#"jobs_total{kind="diagnostics.probe",outcome="succeeded"} 1"#,
        r#"jobs_total{kind="diagnostics.probe",outcome="lease_lost"} 0"#,
        r#"job_duration_seconds_count{kind="diagnostics.probe"} 5"#,
        r#"jobs_queued{kind="diagnostics.probe"} "#,
    ] {
        assert!(metrics.contains(series), "{series} missing from\n{metrics}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_jobs_are_listed_and_retried_by_admins_sqlite() {
    dead_jobs_are_listed_and_retried_by_admins(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_jobs_are_listed_and_retried_by_admins_postgres() {
    dead_jobs_are_listed_and_retried_by_admins(Backend::Postgres).await;
}
