//! A small load generator for fault tests: concurrent tasks repeating requests, tallied per
//! phase, that a test can wait on ("until the outage phase has seen a 503").

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use reqwest::Method;
use tokio::task::JoinHandle;

use crate::wait::wait_until;

/// Locks `mutex`, ignoring poisoning: a panicking load task must not hide the tallies of the
/// others.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One request a load task repeats.
#[derive(Debug, Clone)]
pub struct Shot {
    /// Path to GET.
    pub path: String,
    /// Bearer token, if any.
    pub token: Option<String>,
    /// `X-Forwarded-For`, if any (believed when the server trusts 127.0.0.1).
    pub forwarded_for: Option<String>,
}

/// The phases a load run goes through; tallies are kept per phase.
pub const PHASES: [&str; 3] = ["before", "outage", "after"];

/// Outcomes of a load run: per phase, status code (or `error` / `timeout`) → count, and the
/// first few 5xx and failures in detail.
#[derive(Debug, Default)]
pub struct Tally {
    /// `[phase][outcome] = count`.
    pub counts: [BTreeMap<String, u64>; 3],
    /// Details of server errors and transport failures (at most 20).
    pub failures: Vec<String>,
    /// The slowest request.
    pub slowest: Duration,
}

impl Tally {
    /// Requests of any outcome in `phase`.
    pub fn total(&self, phase: usize) -> u64 {
        self.counts[phase].values().sum()
    }

    /// Responses with a 5xx status, or no response at all, in every phase.
    pub fn bad(&self) -> u64 {
        self.counts
            .iter()
            .flat_map(|c| c.iter())
            .filter(|(k, _)| k.starts_with('5') || !k.starts_with(|c: char| c.is_ascii_digit()))
            .map(|(_, v)| v)
            .sum()
    }

    /// Responses with a status (any) in `phase`.
    pub fn answered(&self, phase: usize) -> u64 {
        self.counts[phase]
            .iter()
            .filter(|(k, _)| k.starts_with(|c: char| c.is_ascii_digit()))
            .map(|(_, v)| v)
            .sum()
    }

    /// Responses with `status` in `phase`.
    pub fn of(&self, phase: usize, status: u16) -> u64 {
        self.counts[phase]
            .get(&status.to_string())
            .copied()
            .unwrap_or(0)
    }
}

/// Concurrent tasks repeating requests until stopped.
pub struct Load {
    stop: Arc<AtomicBool>,
    phase: Arc<AtomicU8>,
    tally: Arc<Mutex<Tally>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Load {
    /// Starts one task per shot against `base` (`http://127.0.0.1:PORT`); every request is
    /// bounded by `request_timeout` (a timeout is tallied, not retried).
    pub fn start(base: &str, shots: Vec<Shot>, request_timeout: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let phase = Arc::new(AtomicU8::new(0));
        let tally = Arc::new(Mutex::new(Tally::default()));
        let client = reqwest::Client::builder()
            .timeout(request_timeout)
            .build()
            .expect("client");
        let tasks = shots
            .into_iter()
            .map(|shot| {
                let (stop, phase, tally, client) =
                    (stop.clone(), phase.clone(), tally.clone(), client.clone());
                let url = format!("{base}{}", shot.path);
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        let at = usize::from(phase.load(Ordering::Relaxed));
                        let mut req = client.request(Method::GET, &url);
                        if let Some(token) = &shot.token {
                            req = req.bearer_auth(token);
                        }
                        if let Some(ip) = &shot.forwarded_for {
                            req = req.header("x-forwarded-for", ip);
                        }
                        let started = Instant::now();
                        let outcome = req.send().await;
                        let took = started.elapsed();
                        let (key, detail) = match outcome {
                            Ok(res) => {
                                let status = res.status();
                                let detail = if status.is_server_error() {
                                    let body = res.text().await.unwrap_or_default();
                                    Some(format!("{} {url}: {status} {body}", PHASES[at]))
                                } else {
                                    // Read the body so the connection is reused.
                                    let _ = res.bytes().await;
                                    None
                                };
                                (status.as_u16().to_string(), detail)
                            }
                            Err(err) => {
                                let key = if err.is_timeout() { "timeout" } else { "error" };
                                (key.to_owned(), Some(format!("{} {url}: {err}", PHASES[at])))
                            }
                        };
                        let mut tally = lock(&tally);
                        *tally.counts[at].entry(key).or_default() += 1;
                        tally.slowest = tally.slowest.max(took);
                        if let Some(detail) = detail {
                            if tally.failures.len() < 20 {
                                tally.failures.push(detail);
                            }
                        }
                    }
                })
            })
            .collect();
        Self {
            stop,
            phase,
            tally,
            tasks,
        }
    }

    /// Waits until the tally so far satisfies `check` (for example: the current phase has
    /// seen enough answers, or a 503); fails the test with `what` after `limit`.
    pub async fn until(&self, limit: Duration, what: &str, check: impl Fn(&Tally) -> bool) {
        let tally = self.tally.clone();
        wait_until(limit, what, || {
            let done = check(&lock(&tally));
            async move { done }
        })
        .await;
    }

    /// Tallies later requests under `PHASES[phase]`.
    pub fn enter(&self, phase: u8) {
        self.phase.store(phase, Ordering::Relaxed);
    }

    /// Stops the tasks, waits for them (each finishes its request in flight) and returns the
    /// tally.
    pub async fn finish(self) -> Tally {
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            task.await.expect("load task");
        }
        std::mem::take(&mut *lock(&self.tally))
    }
}
