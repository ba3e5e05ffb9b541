//! SPEC §8 "auth + rate-limit + metrics middleware adds ≤ 25 µs per request (in-process
//! mode) over a bare handler", measured in process: requests are handed to the actix-web
//! service directly (`actix_web::test::call_service`), with no socket, no HTTP parsing and
//! no load generator to share the CPUs with.
//!
//! - `bare_json`: the baseline's handler (`src/bin/bare.rs`) in an `App` of its own.
//! - `live_full_stack`: `GET /api/v1/health/live` through the server's application as the
//!   composition root builds it (embedded default: SQLite, in-process limiter and cache),
//!   with the server's logging (`LOG_LEVEL=info`, one line per request, into a sink).
//! - `auth_me_full_stack`: `GET /api/v1/auth/me` with a bearer token: the request id, the log
//!   line, metrics, JWT verification, the revocation check, the per-user rate limit (checked
//!   and counted) and the handler (user cache, JSON).
//!
//! The middleware overhead is `auth_me_full_stack` minus `bare_json` (it includes the
//! `/auth/me` handler's own work, so it overstates the middleware slightly).

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header;
use actix_web::test::{self, TestRequest};
use actix_web::{web, App, HttpResponse};
use ainative_server::startup::Composition;
use ainative_server::telemetry;
use criterion::{criterion_group, criterion_main, Criterion};
use serde::Serialize;
use serde_json::{json, Value};

use common::{embedded_settings, peer};

const PASSWORD: &str = "Bench-Pass-2026x";

#[derive(Serialize)]
struct Message {
    message: &'static str,
}

async fn bare_json() -> HttpResponse {
    HttpResponse::Ok().json(Message {
        message: "Hello, World!",
    })
}

/// Sends `req` and returns the JSON body.
async fn call_json<S, B>(app: &S, req: actix_http::Request) -> Value
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let res = test::call_service(app, req).await;
    assert!(res.status().is_success(), "{}", res.status());
    test::read_body_json(res).await
}

/// Sends `iters` GET requests for `uri` (with an `Authorization` header, if given) one after
/// the other through the application; how long they took.
async fn timed_gets<S, B>(app: &S, uri: &str, authorization: Option<&str>, iters: u64) -> Duration
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let started = Instant::now();
    for _ in 0..iters {
        let mut req = TestRequest::get().uri(uri).peer_addr(peer());
        if let Some(value) = authorization {
            req = req.insert_header((header::AUTHORIZATION, value));
        }
        let res = test::call_service(app, req.to_request()).await;
        assert!(res.status().is_success(), "{}", res.status());
        black_box(test::read_body(res).await);
    }
    started.elapsed()
}

fn middleware(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("ainative-bench-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("bench directory");
    let settings = embedded_settings(&dir, &[]);
    let system = actix_web::rt::System::new();
    let telemetry = telemetry::init_with_writer(&settings, std::io::sink(), false);

    let bare = system.block_on(test::init_service(
        App::new().route("/json", web::get().to(bare_json)),
    ));
    let composition = system
        .block_on(Composition::build(&settings))
        .expect("composition");
    let app = system.block_on(test::init_service(ainative_http_api::app(
        composition.state.clone(),
    )));
    let token = system.block_on(async {
        let register = TestRequest::post()
            .uri("/api/v1/auth/register")
            .peer_addr(peer())
            .set_json(json!({
                "email": "bench@example.com",
                "username": "bench_student",
                "password": PASSWORD,
                "full_name": "Bench Student",
            }))
            .to_request();
        call_json(&app, register).await;
        let login = TestRequest::post()
            .uri("/api/v1/auth/login")
            .peer_addr(peer())
            .set_json(json!({"username": "bench_student", "password": PASSWORD}))
            .to_request();
        let body = call_json(&app, login).await;
        body["data"]["access_token"]
            .as_str()
            .expect("an access token")
            .to_owned()
    });
    let bearer = format!("Bearer {token}");
    // An API key of the same user (SPEC §10.3: checking it costs what a JWT costs).
    let api_key = system.block_on(async {
        let create = TestRequest::post()
            .uri("/api/v1/auth/api-keys")
            .peer_addr(peer())
            .insert_header((header::AUTHORIZATION, bearer.as_str()))
            .set_json(json!({"name": "bench", "scopes": ["sessions:read"]}))
            .to_request();
        let body = call_json(&app, create).await;
        body["data"]["key"].as_str().expect("a key").to_owned()
    });
    let key_bearer = format!("Bearer {api_key}");

    let mut group = c.benchmark_group("in_process");
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("bare_json", |b| {
        b.iter_custom(|iters| {
            system.block_on(async {
                let started = Instant::now();
                for _ in 0..iters {
                    let req = TestRequest::get()
                        .uri("/json")
                        .peer_addr(peer())
                        .to_request();
                    let res = test::call_service(&bare, req).await;
                    black_box(test::read_body(res).await);
                }
                started.elapsed()
            })
        });
    });
    for (name, uri, authorization) in [
        ("live_full_stack", "/api/v1/health/live", None),
        (
            "auth_me_api_key_full_stack",
            "/api/v1/auth/me",
            Some(key_bearer.as_str()),
        ),
        (
            "auth_me_full_stack",
            "/api/v1/auth/me",
            Some(bearer.as_str()),
        ),
    ] {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| system.block_on(timed_gets(&app, uri, authorization, iters)));
        });
    }
    group.finish();

    drop(app);
    system.block_on(async {
        composition.shutdown().await;
        telemetry.shutdown().await;
    });
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, middleware);
criterion_main!(benches);
