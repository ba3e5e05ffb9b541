//! The baseline of the load scenario (`benches/load.sh`): a bare actix-web server with one JSON
//! handler and nothing else (no middleware, no state, no logging).
//!
//! `GET /json` answers `{"message":"Hello, World!"}`. The worker count is actix-web's default,
//! as in the `ainative` server (one worker per available CPU), so the two are compared on equal
//! terms and the server's results can be given as ratios to this one.
//!
//! Usage: `ainative-bare [ADDR]` (default `127.0.0.1:8080`; loopback is expected).

use actix_web::{web, App, HttpResponse, HttpServer};
use serde::Serialize;

#[derive(Serialize)]
struct Message {
    message: &'static str,
}

async fn json() -> HttpResponse {
    HttpResponse::Ok().json(Message {
        message: "Hello, World!",
    })
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let server = HttpServer::new(|| App::new().route("/json", web::get().to(json)))
        .bind(&addr)?
        .run();
    println!("ainative-bare listening on {addr}");
    server.await
}
