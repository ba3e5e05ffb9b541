//! Redis for tests: the shared server under a fresh key prefix per test (its keys deleted
//! when the guard drops, stale prefixes of killed runs swept at first use), and a private
//! `redis-server` a test may kill, freeze and restart.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::aside::block_on_aside;
use crate::net::free_port;
use crate::resp::{redis_addr, redis_answers, redis_command, Reply};
use crate::wait::wait_until;

/// The shared Redis when `TEST_REDIS_URL` is not set.
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// Every test prefix starts with this.
pub const PREFIX_ROOT: &str = "ainative-test:";

/// The Redis the tests share: `TEST_REDIS_URL`, or [`DEFAULT_REDIS_URL`].
pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| DEFAULT_REDIS_URL.to_owned())
}

/// How old a prefix must be before a later run deletes its keys (as for databases:
/// `TEST_DATABASE_STALE_HOURS`, default 6).
fn stale_after() -> Duration {
    crate::postgres::stale_after()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Deletes every key matching a glob pattern; returns how many.
const DELETE_MATCHING: &str = "local keys = redis.call('KEYS', ARGV[1]) \
     for i = 1, #keys, 1000 do \
       redis.call('DEL', unpack(keys, i, math.min(i + 999, #keys))) \
     end \
     return #keys";

/// Deletes the keys of test prefixes created before ARGV[2] (unix seconds).
const DELETE_STALE: &str = "local n = 0 \
     for _, key in ipairs(redis.call('KEYS', ARGV[1] .. '*')) do \
       local at = tonumber(string.match(key, '^ainative%-test:(%d+):')) \
       if at and at < tonumber(ARGV[2]) then redis.call('DEL', key) n = n + 1 end \
     end \
     return n";

/// Fails the test with a clear message unless a Redis answers `PING` at `url`.
pub async fn require_redis(url: &str) {
    if !redis_answers(&redis_addr(url)).await {
        panic!(
            "Redis is required by these tests and did not answer at {url}. Start one \
             (`redis-server`) or point TEST_REDIS_URL at one."
        );
    }
}

/// A key prefix of one test on the shared Redis (`ainative-test:<unix secs>:<uuid>:`); its
/// keys are deleted when the guard drops.
#[derive(Debug)]
pub struct RedisPrefix {
    url: String,
    prefix: String,
}

impl RedisPrefix {
    /// A fresh prefix on [`redis_url`], checked to answer. The first one of a process also
    /// deletes the keys of stale prefixes.
    pub async fn new() -> Self {
        static SWEPT: OnceCell<()> = OnceCell::const_new();
        let url = redis_url();
        require_redis(&url).await;
        let addr = redis_addr(&url);
        SWEPT
            .get_or_init(|| async {
                let cutoff = unix_now().saturating_sub(stale_after().as_secs());
                let cutoff = cutoff.to_string();
                let _ =
                    redis_command(&addr, &["EVAL", DELETE_STALE, "0", PREFIX_ROOT, &cutoff]).await;
            })
            .await;
        Self {
            prefix: format!("{PREFIX_ROOT}{}:{}:", unix_now(), Uuid::new_v4().simple()),
            url,
        }
    }

    /// The Redis URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The prefix, ending in `:`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The keys under the prefix now.
    pub async fn keys(&self) -> Vec<String> {
        crate::resp::redis_keys(&redis_addr(&self.url), &self.prefix).await
    }

    /// Gives the prefix up without deleting its keys now, for fixtures that cannot keep a
    /// guard (contract macros taking a bare port). The keys the adapters write expire by
    /// themselves; whatever is left is swept by a later run.
    pub fn keep(self) -> String {
        let prefix = self.prefix.clone();
        std::mem::forget(self);
        prefix
    }
}

impl Drop for RedisPrefix {
    fn drop(&mut self) {
        let addr = redis_addr(&self.url);
        let pattern = format!("{}*", self.prefix);
        let deleted = block_on_aside(async move {
            redis_command(&addr, &["EVAL", DELETE_MATCHING, "0", &pattern]).await
        });
        if !matches!(deleted, Some(Ok(Reply::Int(_)))) {
            eprintln!("could not delete the keys of {}: {deleted:?}", self.prefix);
        }
    }
}

/// A `redis-server` child process owned by one test: no persistence, its own free port,
/// killed when dropped (so none outlives a failing test). Needs `redis-server` on `PATH`.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts one on a free port and waits until it answers.
    pub async fn start() -> Self {
        Self::start_on(free_port()).await
    }

    /// Starts one on `port` and waits until it answers.
    pub async fn start_on(port: u16) -> Self {
        let mut server = Self::stopped_on(port);
        server.restart().await;
        server
    }

    /// A free port with nothing listening on it (yet): [`Self::restart`] starts the server.
    pub fn stopped() -> Self {
        Self::stopped_on(free_port())
    }

    fn stopped_on(port: u16) -> Self {
        Self { port, child: None }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:port`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `redis://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("redis://{}", self.addr())
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Kills it (SIGKILL: no goodbye to its clients) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // A frozen process is resumed first (best effort: this also runs in `Drop`).
            let _ = signal(child.id(), "-CONT");
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it (again) on the same port, empty, and waits until it answers `PING`. Kills
    /// the running one first, if any.
    pub async fn restart(&mut self) {
        self.kill();
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .args(["--protected-mode", "no"])
            .current_dir(std::env::temp_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (apt-get install redis-server)");
        self.child = Some(child);
        let addr = self.addr();
        wait_until(Duration::from_secs(10), "redis-server answers PING", || {
            redis_answers(&addr)
        })
        .await;
    }

    /// Freezes it (SIGSTOP): its port still accepts connections, but nothing answers.
    pub fn freeze(&self) {
        let pid = self.pid().expect("the private Redis is running");
        assert!(signal(pid, "-STOP"), "kill -STOP {pid} failed");
    }

    /// Lets a frozen server go on (SIGCONT).
    pub fn thaw(&self) {
        let pid = self.pid().expect("the private Redis is running");
        assert!(signal(pid, "-CONT"), "kill -CONT {pid} failed");
    }
}

/// Sends `signal` (`-STOP`, `-TERM`…) to `pid` with kill(1); true when delivered.
pub fn signal(pid: u32, signal: &str) -> bool {
    Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .is_ok_and(|status| status.success())
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_prefix_takes_its_keys_with_it() {
        let prefix = RedisPrefix::new().await;
        let addr = redis_addr(prefix.url());
        let key = format!("{}k", prefix.prefix());
        redis_command(&addr, &["SET", &key, "v"])
            .await
            .expect("SET");
        assert_eq!(prefix.keys().await, vec![key.clone()]);
        drop(prefix);
        assert_eq!(
            redis_command(&addr, &["EXISTS", &key])
                .await
                .expect("EXISTS")
                .int(),
            0
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stale_prefixes_are_swept() {
        let addr = redis_addr(&redis_url());
        let old = unix_now() - stale_after().as_secs() - 60;
        let stale = format!("{PREFIX_ROOT}{old}:{}:k", Uuid::new_v4().simple());
        let fresh = format!("{PREFIX_ROOT}{}:{}:k", unix_now(), Uuid::new_v4().simple());
        for key in [&stale, &fresh] {
            redis_command(&addr, &["SET", key, "v", "EX", "600"])
                .await
                .expect("SET");
        }
        let cutoff = (unix_now() - stale_after().as_secs()).to_string();
        redis_command(&addr, &["EVAL", DELETE_STALE, "0", PREFIX_ROOT, &cutoff])
            .await
            .expect("EVAL");
        let exists = |key: String| {
            let addr = addr.clone();
            async move {
                redis_command(&addr, &["EXISTS", &key])
                    .await
                    .expect("EXISTS")
                    .int()
            }
        };
        assert_eq!(exists(stale).await, 0);
        assert_eq!(exists(fresh.clone()).await, 1);
        let _ = redis_command(&addr, &["DEL", &fresh]).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_private_server_can_be_killed_and_restarted() {
        let mut server = RedisServer::start().await;
        assert!(redis_answers(&server.addr()).await);
        server.kill();
        assert!(!redis_answers(&server.addr()).await);
        server.restart().await;
        assert!(redis_answers(&server.addr()).await);
    }
}
