//! A fake OpenAI-compatible provider for the load harness (`benches/load.sh`): test-support's
//! [`FakeLlmProvider`], answering every `/chat/completions` call after a fixed delay, so the
//! server's `gateway_overhead_seconds` can be read with a model of known latency.
//!
//! Usage: `ainative-fake-provider [DELAY_MS]` (default 20). Listens on a free loopback port and
//! prints `port=<port>` on its first line; prints `completions=<n>` when it gets SIGTERM or
//! SIGINT, then exits.

use std::sync::atomic::Ordering;
use std::time::Duration;

use ainative_test_support::FakeLlmProvider;
use tokio::signal::unix::{signal, SignalKind};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let delay_ms: u64 = match std::env::args().nth(1) {
        Some(arg) => arg.parse().map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("DELAY_MS must be a whole number of milliseconds, not {arg:?}"),
            )
        })?,
        None => 20,
    };
    let mut term = signal(SignalKind::terminate())?;
    let provider = FakeLlmProvider::start(Duration::from_millis(delay_ms)).await;
    println!("port={}", provider.port());
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    println!(
        "completions={}",
        provider.completions.load(Ordering::SeqCst)
    );
    Ok(())
}
