//! The tutoring turn in process (issue 13 "Targets"), on the embedded default with the offline
//! provider: requests are handed to the actix-web service directly, so the figures are the
//! server's own time (no socket, no load generator).
//!
//! - **session length**: one session taken to `BENCH_TURNS` − 50 (default 1,000) uncached
//!   turns and another to 10, then 50 more turns of each, alternately: the median server time
//!   of the short one's turns 11–60 against that of the long one's last 50 is the "1,000th
//!   turn costs ≤ 1.1× the 10th" target (alternating keeps the tables' growth and the
//!   machine's drift off the ratio);
//! - **throughput**: `BENCH_TURN_SESSIONS` (default 32) sessions driven concurrently for
//!   `BENCH_TURN_SECS` (default 5) seconds, each turn uncached: turns per second;
//! - **gateway overhead**: mean and bucket quantiles of `gateway_overhead_seconds` from the
//!   metrics registry over both runs (with the offline provider the model's own time is
//!   near zero, so this is nearly the whole gateway time).
//!
//! Prints its figures; asserts nothing about speed. `cargo bench -p ainative-benches --bench
//! turns` (release), or `cargo test -p ainative-benches --bench turns --release`.

mod common;

use std::time::{Duration, Instant};

use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header;
use actix_web::test::{self, TestRequest};
use ainative_server::startup::Composition;
use ainative_server::telemetry;
use serde_json::{json, Value};

use common::{embedded_settings, peer};

const PASSWORD: &str = "Bench-Pass-2026x";

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Sends a JSON request; returns the `data` of the success envelope.
async fn call<S, B>(
    app: &S,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Value
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let mut req = match method {
        "GET" => TestRequest::get(),
        "PATCH" => TestRequest::patch(),
        _ => TestRequest::post(),
    }
    .uri(uri)
    .peer_addr(peer());
    if let Some(token) = token {
        req = req.insert_header((header::AUTHORIZATION, format!("Bearer {token}")));
    }
    if let Some(body) = body {
        req = req.set_json(body);
    }
    let res = test::call_service(app, req.to_request()).await;
    let status = res.status();
    let body: Value = test::read_body_json(res).await;
    assert!(status.is_success(), "{method} {uri}: {status} {body}");
    body["data"].clone()
}

fn token(data: &Value) -> String {
    data["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned()
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

/// `gateway_overhead_seconds`: count, mean, and the upper bounds of the buckets holding the
/// median and the 99th percentile.
fn overhead(metrics: &str) -> String {
    let mut buckets = Vec::new();
    let (mut sum, mut count) = (0.0, 0.0);
    for line in metrics.lines() {
        if let Some(rest) = line.strip_prefix("gateway_overhead_seconds_bucket{le=\"") {
            if let Some((le, n)) = rest.split_once("\"} ") {
                buckets.push((le.to_owned(), n.parse::<f64>().unwrap_or(0.0)));
            }
        } else if let Some(v) = line.strip_prefix("gateway_overhead_seconds_sum ") {
            sum = v.parse().unwrap_or(0.0);
        } else if let Some(v) = line.strip_prefix("gateway_overhead_seconds_count ") {
            count = v.parse().unwrap_or(0.0);
        }
    }
    let quantile = |q: f64| {
        buckets
            .iter()
            .find(|(_, n)| *n >= q * count)
            .map_or("?".to_owned(), |(le, _)| format!("≤ {le} s"))
    };
    format!(
        "{count} turns, mean {:.3} ms, p50 {}, p99 {}",
        if count > 0.0 { sum / count * 1e3 } else { 0.0 },
        quantile(0.5),
        quantile(0.99)
    )
}

fn main() {
    let turns = env_or("BENCH_TURNS", 1_050).max(120);
    let sessions = env_or("BENCH_TURN_SESSIONS", 32).max(1);
    let secs = env_or("BENCH_TURN_SECS", 5);
    let dir = std::env::temp_dir().join(format!("ainative-turns-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("bench directory");
    let settings = embedded_settings(
        &dir,
        &[("RATE_LIMIT_ADMIN_TIER", "0"), ("LOG_LEVEL", "warn")],
    );
    let system = actix_web::rt::System::new();
    let telemetry = telemetry::init_with_writer(&settings, std::io::sink(), false);
    let composition = system
        .block_on(Composition::build(&settings))
        .expect("composition");
    let app = system.block_on(test::init_service(ainative_http_api::app(
        composition.state.clone(),
    )));

    system.block_on(async {
        ainative_server::commands::create_admin_with(
            &settings,
            "root@example.com".into(),
            "root".into(),
            None,
            PASSWORD.to_owned().into(),
        )
        .await
        .expect("admin");
        let login = |username: &str| json!({"username": username, "password": PASSWORD});
        let admin = token(&call(&app, "POST", "/api/v1/auth/login", None, Some(login("root"))).await);
        let register = |name: &str| {
            json!({"email": format!("{name}@example.com"), "username": name,
                   "password": PASSWORD, "full_name": name})
        };
        let teacher = call(&app, "POST", "/api/v1/auth/register", None, Some(register("teacher"))).await;
        let teacher_id = teacher["user"]["id"].as_str().expect("id").to_owned();
        call(
            &app,
            "PATCH",
            &format!("/api/v1/admin/users/{teacher_id}"),
            Some(&admin),
            Some(json!({"roles": ["instructor"]})),
        )
        .await;
        let teacher = token(&call(&app, "POST", "/api/v1/auth/login", None, Some(login("teacher"))).await);
        let activity = call(
            &app,
            "POST",
            "/api/v1/activities",
            Some(&teacher),
            Some(json!({"title": "Loops in Python", "subject": "python",
                        "instructions": "Sum a list with a for loop."})),
        )
        .await;
        let activity = activity["id"].as_str().expect("id").to_owned();
        call(&app, "POST", &format!("/api/v1/activities/{activity}/publish"), Some(&teacher), Some(json!({}))).await;

        let mut students = Vec::new();
        for i in 0..=sessions + 1 {
            let student = token(&call(&app, "POST", "/api/v1/auth/register", None, Some(register(&format!("student{i}")))).await);
            let session = call(&app, "POST", "/api/v1/sessions", Some(&student), Some(json!({"activity_id": activity}))).await;
            students.push((student, session["id"].as_str().expect("id").to_owned()));
        }
        let turn = |student: &str, session: &str, n: u64| {
            let uri = format!("/api/v1/sessions/{session}/interactions");
            let body = json!({"prompt": format!("What is the invariant of loop number {n}?")});
            let student = student.to_owned();
            let app = &app;
            async move { call(app, "POST", &uri, Some(&student), Some(body)).await }
        };

        // A long session and a short one, then their turns alternately: the 1,000th turn of
        // one against the 10th of the other on the same database, so neither the tables'
        // growth nor the machine's drift lands on one side only.
        let (student, long) = students.pop().expect("a student");
        let (short_student, short) = students.pop().expect("a student");
        for n in 1..=turns - 50 {
            turn(&student, &long, n).await;
        }
        for n in 1..=10 {
            turn(&short_student, &short, n).await;
        }
        let (mut early, mut late) = (Vec::with_capacity(50), Vec::with_capacity(50));
        for i in 1..=50 {
            let started = Instant::now();
            turn(&short_student, &short, 10 + i).await;
            early.push(started.elapsed());
            let started = Instant::now();
            turn(&student, &long, turns - 50 + i).await;
            late.push(started.elapsed());
        }
        let (early, late) = (median(early), median(late));
        println!(
            "session length: median server time of turns 11-60 {:.3} ms, of turns {}-{} {:.3} ms \
             (alternating), ratio {:.2}",
            early.as_secs_f64() * 1e3,
            turns - 49,
            turns,
            late.as_secs_f64() * 1e3,
            late.as_secs_f64() / early.as_secs_f64()
        );

        println!(
            "gateway overhead, one session at a time: {}",
            overhead(&composition.metrics.render())
        );

        // Many sessions at once.
        let deadline = Instant::now() + Duration::from_secs(secs);
        let started = Instant::now();
        let workers = students.iter().map(|(student, session)| async move {
            let mut done = 0u64;
            while Instant::now() < deadline {
                done += 1;
                turn(student, session, done).await;
            }
            done
        });
        let total: u64 = futures::future::join_all(workers).await.into_iter().sum();
        println!(
            "throughput: {total} uncached turns in {:.1} s over {} concurrent sessions: {:.0} turns/s",
            started.elapsed().as_secs_f64(),
            students.len(),
            total as f64 / started.elapsed().as_secs_f64()
        );
        println!(
            "gateway overhead, both runs (the concurrent turns wait for each other on one \
             thread): {}",
            overhead(&composition.metrics.render())
        );
    });

    drop(app);
    system.block_on(async {
        composition.shutdown().await;
        telemetry.shutdown().await;
    });
    let _ = std::fs::remove_dir_all(&dir);
}
