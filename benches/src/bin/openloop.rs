//! An open-loop load generator for tutoring turns (`benches/load.sh`, scenario `overhead`).
//!
//! wrk is closed-loop: each connection waits for its answer before sending again, so a slow
//! server is offered less load. This sends `POST /api/v1/sessions/{id}/interactions` at a
//! constant arrival rate whatever the answers do, round-robin over the sessions of a file (one
//! id per line), each with a unique prompt (the run's tag and a counter), so none is a cache
//! hit. Latency is measured from the moment a request was *due*, not from when it went out, so
//! a stalled generator or server cannot hide its queue (no coordinated omission).
//!
//! Usage: `ainative-openloop BASE_URL TOKEN SESSIONS_FILE RATE SECONDS TAG`
//!
//! It waits (up to 60 s) for every answer before it prints one line that `load.sh` parses:
//! `OPENLOOP_RESULT requests=… duration_us=… p50_us=… p90_us=… p99_us=… max_us=…
//! socket_errors=… non2xx=… dropped=… max_lag_us=…`, where `requests` counts the 2xx answers,
//! `dropped` the requests not sent because 4,096 were already in flight, and `max_lag_us` the
//! generator's worst lateness in sending.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

const MAX_IN_FLIGHT: usize = 4096;
const PROMPT: &str = "How should I think about adding up the numbers of a list with a for loop? What should the total start at?";

type Error = Box<dyn std::error::Error + Send + Sync>;

struct Args {
    base: String,
    token: String,
    sessions: Vec<String>,
    rate: f64,
    seconds: f64,
    tag: String,
}

fn args() -> Result<Args, Error> {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let [base, token, file, rate, seconds, tag] = a.as_slice() else {
        return Err(
            "usage: ainative-openloop BASE_URL TOKEN SESSIONS_FILE RATE SECONDS TAG".into(),
        );
    };
    let sessions: Vec<String> = std::fs::read_to_string(file)?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if sessions.is_empty() {
        return Err(format!("{file} names no session").into());
    }
    let rate: f64 = rate.parse()?;
    let seconds: f64 = seconds.parse()?;
    let positive = |v: f64| v.is_finite() && v > 0.0;
    if !positive(rate) || !positive(seconds) {
        return Err("RATE and SECONDS must be positive".into());
    }
    Ok(Args {
        base: base.trim_end_matches('/').to_owned(),
        token: token.clone(),
        sessions,
        rate,
        seconds,
        tag: tag.clone(),
    })
}

/// What became of one request.
enum Outcome {
    Ok(Duration),
    Status,
    Socket,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let args = args()?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(MAX_IN_FLIGHT)
        .timeout(Duration::from_secs(30))
        .build()?;
    let total = (args.rate * args.seconds).round() as u64;
    let interval = Duration::from_secs_f64(1.0 / args.rate);
    let in_flight = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    let (mut dropped, mut max_lag) = (0_u64, Duration::ZERO);
    let start = Instant::now();
    for i in 0..total {
        let due = start + interval.mul_f64(i as f64);
        tokio::time::sleep_until(due).await;
        max_lag = max_lag.max(due.elapsed());
        if in_flight.load(Ordering::Relaxed) >= MAX_IN_FLIGHT {
            dropped += 1;
            continue;
        }
        let session = &args.sessions[(i as usize) % args.sessions.len()];
        let request = client
            .post(format!(
                "{}/api/v1/sessions/{session}/interactions",
                args.base
            ))
            .bearer_auth(&args.token)
            .json(&serde_json::json!({"prompt": format!("{PROMPT} (turn {}-{i})", args.tag)}));
        let in_flight = in_flight.clone();
        in_flight.fetch_add(1, Ordering::Relaxed);
        tasks.push(tokio::spawn(async move {
            let outcome = match request.send().await {
                Ok(res) if res.status().is_success() => match res.bytes().await {
                    Ok(_) => Outcome::Ok(due.elapsed()),
                    Err(_) => Outcome::Socket,
                },
                Ok(_) => Outcome::Status,
                Err(_) => Outcome::Socket,
            };
            in_flight.fetch_sub(1, Ordering::Relaxed);
            outcome
        }));
    }
    let schedule = start.elapsed();
    let mut latencies = Vec::with_capacity(tasks.len());
    let (mut non2xx, mut socket_errors) = (0_u64, 0_u64);
    let waited = tokio::time::timeout(Duration::from_secs(60), async {
        for task in tasks {
            match task.await {
                Ok(Outcome::Ok(latency)) => latencies.push(latency),
                Ok(Outcome::Status) => non2xx += 1,
                Ok(Outcome::Socket) | Err(_) => socket_errors += 1,
            }
        }
    })
    .await;
    if waited.is_err() {
        eprintln!("ainative-openloop: answers still missing after 60 s");
    }
    latencies.sort_unstable();
    let pct = |p: f64| -> u128 {
        if latencies.is_empty() {
            return 0;
        }
        let rank = ((p / 100.0) * latencies.len() as f64).ceil() as usize;
        latencies[rank.clamp(1, latencies.len()) - 1].as_micros()
    };
    println!(
        "OPENLOOP_RESULT requests={} duration_us={} p50_us={} p90_us={} p99_us={} max_us={} socket_errors={} non2xx={} dropped={} max_lag_us={}",
        latencies.len(),
        schedule.as_micros(),
        pct(50.0),
        pct(90.0),
        pct(99.0),
        latencies.last().map_or(0, Duration::as_micros),
        socket_errors,
        non2xx,
        dropped,
        max_lag.as_micros(),
    );
    Ok(())
}
