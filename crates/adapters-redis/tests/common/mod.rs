//! Helpers shared by the Redis test binaries: the shared Redis, unique key prefixes, and a
//! private `redis-server` the fault tests can stop and restart.

#![allow(dead_code)] // Each test binary uses a different subset.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ainative_adapters_redis::{RedisPool, RedisSettings, SharedState};
use uuid::Uuid;

/// The Redis the tests share: `REDIS_URL`, or the local default.
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A key prefix no other test (or earlier run) uses.
pub fn unique_prefix() -> String {
    format!("ainative-test:{}:", Uuid::new_v4().simple())
}

/// Settings for the shared Redis under a fresh prefix.
pub fn settings() -> RedisSettings {
    RedisSettings::new(redis_url()).with_key_prefix(unique_prefix())
}

/// A pool on the shared Redis under a fresh prefix. Panics, loudly, when Redis does not
/// answer: these tests never skip.
pub async fn pool() -> RedisPool {
    pool_with(&settings()).await
}

/// A pool with `settings`, checked to answer.
pub async fn pool_with(settings: &RedisSettings) -> RedisPool {
    let pool = RedisPool::connect(settings).expect("valid Redis settings");
    if let Err(err) = pool.ping().await {
        panic!(
            "Redis is required by these tests and did not answer at {} ({err}). Start one \
             (`redis-server`) or point REDIS_URL at one.",
            redis_url()
        );
    }
    pool
}

/// The decorated ports on the shared Redis under a fresh prefix, checked to be healthy.
pub async fn shared_state() -> SharedState {
    let shared = SharedState::redis(&settings(), 1_000)
        .await
        .expect("valid Redis settings");
    let monitor = shared.monitor.as_ref().expect("a Redis monitor");
    assert!(
        !monitor.is_degraded(),
        "Redis is required by these tests and did not answer at {}",
        redis_url()
    );
    shared
}

/// A `redis-server` of the test's own, on a free port, without persistence. Killed when
/// dropped, so none survives a failing test.
pub struct PrivateRedis {
    port: u16,
    child: Option<Child>,
}

impl PrivateRedis {
    /// Starts a server on a free port and waits until it accepts connections.
    pub fn start() -> Self {
        let port = free_port();
        let mut server = Self { port, child: None };
        server.restart();
        server
    }

    /// A port with nothing listening (no server started).
    pub fn stopped() -> Self {
        Self {
            port: free_port(),
            child: None,
        }
    }

    /// `redis://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The server's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Starts the server (again) on the same port and waits until it accepts connections.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "the private Redis is already running");
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed for the fault tests");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the private redis-server did not start on port {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server (SIGKILL: no goodbye to clients) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Resume it first, in case a test paused it (best effort: this runs in `Drop`).
            let _ = signal_pid(child.id(), "CONT");
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Pauses (`STOP`) or resumes (`CONT`) the server: a paused Redis accepts connections
    /// but never answers.
    pub fn signal(&self, signal: &str) {
        let pid = self.pid().expect("the private Redis is running");
        assert!(signal_pid(pid, signal), "kill -{signal} {pid} failed");
    }
}

/// Sends `signal` to `pid` with kill(1); true when it was delivered.
fn signal_pid(pid: u32, signal: &str) -> bool {
    Command::new("kill")
        .args([format!("-{signal}"), pid.to_string()])
        .status()
        .is_ok_and(|status| status.success())
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind a free port");
    listener.local_addr().expect("local address").port()
}
