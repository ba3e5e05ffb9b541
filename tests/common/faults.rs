#![allow(dead_code)] // shared by the fault and Redis test binaries; each uses a part
//! Fault injection for the end-to-end tests (SPEC §9): a private `redis-server` that can be
//! killed, frozen and restarted, a TCP proxy that can cut a database off and let it back, a
//! minimal Redis client for looking at keys, and a small load generator.
//!
//! Declared from a test binary with
//! `#[path = "common/faults.rs"] mod faults_support;`.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use reqwest::Method;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Locks `mutex`, ignoring poisoning: a panicking load task must not hide the tallies of the
/// others.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A port nothing listens on right now (bound, read, released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Runs `fut`, failing the test when it does not complete within `limit` (a hang); returns
/// its output and how long it took.
pub async fn within<T>(limit: Duration, what: &str, fut: impl Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    match tokio::time::timeout(limit, fut).await {
        Ok(value) => (value, started.elapsed()),
        Err(_) => panic!("{what} did not complete within {limit:?}: it hangs"),
    }
}

/// Polls `check` every 50 ms until it returns true; fails the test after `limit`. Returns
/// how long it took.
pub async fn eventually<F, Fut>(limit: Duration, what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    let deadline = started + limit;
    loop {
        if check().await {
            return started.elapsed();
        }
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---------------------------------------------------------------------------------------
// A minimal Redis client (RESP2), enough to look at keys in tests.
// ---------------------------------------------------------------------------------------

/// A Redis reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+OK`
    Status(String),
    /// `-ERR ...`
    Error(String),
    /// `:1`
    Int(i64),
    /// `$n` (None for the null bulk string)
    Bulk(Option<String>),
    /// `*n` (None for the null array)
    Array(Option<Vec<Reply>>),
}

impl Reply {
    /// The integer of an `Int` reply.
    pub fn int(&self) -> i64 {
        match self {
            Self::Int(n) => *n,
            other => panic!("expected an integer reply, got {other:?}"),
        }
    }

    /// The strings of an array of bulk strings.
    pub fn strings(&self) -> Vec<String> {
        match self {
            Self::Array(Some(items)) => items
                .iter()
                .filter_map(|item| match item {
                    Self::Bulk(Some(s)) | Self::Status(s) => Some(s.clone()),
                    _ => None,
                })
                .collect(),
            Self::Array(None) => Vec::new(),
            other => panic!("expected an array reply, got {other:?}"),
        }
    }
}

/// `host:port` of a `redis://host:port[/db]` URL.
pub fn redis_addr(url: &str) -> String {
    let parsed = reqwest::Url::parse(url).expect("a redis:// URL");
    format!(
        "{}:{}",
        parsed.host_str().unwrap_or("127.0.0.1"),
        parsed.port().unwrap_or(6379)
    )
}

/// Sends one command to the Redis at `addr` (`host:port`) on a fresh connection, bounded by
/// two seconds.
pub async fn redis_command(addr: &str, args: &[&str]) -> std::io::Result<Reply> {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await?;
        let mut command = format!("*{}\r\n", args.len());
        for arg in args {
            command.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
        }
        stream.write_all(command.as_bytes()).await?;
        let mut reader = BufReader::new(stream);
        read_reply(&mut reader).await
    };
    tokio::time::timeout(Duration::from_secs(2), exchange)
        .await
        .unwrap_or_else(|_| {
            Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "redis did not answer",
            ))
        })
}

/// The keys matching `{prefix}*` at `addr`.
pub async fn redis_keys(addr: &str, prefix: &str) -> Vec<String> {
    let pattern = format!("{prefix}*");
    redis_command(addr, &["KEYS", &pattern])
        .await
        .expect("KEYS")
        .strings()
}

type ReplyFuture<'a> = Pin<Box<dyn Future<Output = std::io::Result<Reply>> + Send + 'a>>;

fn read_reply(reader: &mut BufReader<TcpStream>) -> ReplyFuture<'_> {
    Box::pin(async move {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end_matches(['\r', '\n']);
        let (kind, rest) = line.split_at(1);
        let number = || -> std::io::Result<i64> {
            rest.parse()
                .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "bad number"))
        };
        Ok(match kind {
            "+" => Reply::Status(rest.to_owned()),
            "-" => Reply::Error(rest.to_owned()),
            ":" => Reply::Int(number()?),
            "$" => match usize::try_from(number()?) {
                Err(_) => Reply::Bulk(None),
                Ok(len) => {
                    let mut buf = vec![0; len + 2];
                    reader.read_exact(&mut buf).await?;
                    buf.truncate(len);
                    Reply::Bulk(Some(String::from_utf8_lossy(&buf).into_owned()))
                }
            },
            "*" => match usize::try_from(number()?) {
                Err(_) => Reply::Array(None),
                Ok(len) => {
                    let mut items = Vec::with_capacity(len);
                    for _ in 0..len {
                        items.push(read_reply(reader).await?);
                    }
                    Reply::Array(Some(items))
                }
            },
            _ => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("unexpected reply {line:?}"),
                ))
            }
        })
    })
}

/// Fails the test with a clear message unless a Redis answers `PING` at `url`.
pub async fn require_redis(url: &str) {
    let addr = redis_addr(url);
    match redis_command(&addr, &["PING"]).await {
        Ok(Reply::Status(pong)) if pong == "PONG" => {}
        other => panic!("Redis must be running at {url} (set TEST_REDIS_URL): {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// A private redis-server.
// ---------------------------------------------------------------------------------------

/// A `redis-server` child process owned by one test, without persistence, on its own port;
/// killed when dropped.
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
        let mut server = Self { port, child: None };
        server.restart().await;
        server
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

    /// Kills it (SIGKILL: no goodbye to its clients) and waits for it to be gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port (empty: nothing is persisted) and waits until it
    /// answers. Kills the running one first, if any.
    pub async fn restart(&mut self) {
        self.kill();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "no",
            ])
            .current_dir(std::env::temp_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (apt-get install redis-server)");
        self.child = Some(child);
        let addr = self.addr();
        eventually(Duration::from_secs(5), "redis-server answers PING", || {
            let addr = addr.clone();
            async move {
                matches!(redis_command(&addr, &["PING"]).await, Ok(Reply::Status(p)) if p == "PONG")
            }
        })
        .await;
    }

    /// Freezes it (SIGSTOP): its port still accepts connections, but nothing answers.
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    /// Lets a frozen server go on (SIGCONT).
    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let status = Command::new("kill")
            .args([signal, &pid])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill {signal} {pid}");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

// ---------------------------------------------------------------------------------------
// A TCP proxy with an off switch.
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
struct ProxyState {
    up: bool,
    /// Connections are kept open but nothing is forwarded.
    frozen: bool,
    /// Incremented by every cut; a connection lives only within its epoch.
    epoch: u64,
}

/// Forwards `127.0.0.1:<port>` to an upstream address. [`Self::cut`] closes every live
/// connection and stops listening (new connections are refused, as by a stopped server);
/// [`Self::resume`] listens again on the same port. [`Self::freeze`] keeps every connection
/// open and accepts new ones, but forwards nothing (a hung server, a network partition);
/// [`Self::thaw`] then closes them all (as a restarted server would) and forwards again.
pub struct TcpProxy {
    port: u16,
    control: watch::Sender<ProxyState>,
    task: JoinHandle<()>,
}

impl TcpProxy {
    /// Starts forwarding to `upstream` (`host:port`).
    pub async fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy bind");
        let port = listener.local_addr().expect("proxy addr").port();
        let (control, state) = watch::channel(ProxyState {
            up: true,
            frozen: false,
            epoch: 0,
        });
        let task = tokio::spawn(serve(listener, port, upstream.to_owned(), state));
        Self {
            port,
            control,
            task,
        }
    }

    /// The port clients connect to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Drops every live connection and refuses new ones.
    pub fn cut(&self) {
        self.control.send_modify(|state| {
            state.up = false;
            state.epoch += 1;
        });
    }

    /// Accepts and forwards connections again.
    pub fn resume(&self) {
        self.control.send_modify(|state| state.up = true);
    }

    /// Stops forwarding while keeping every connection open, and accepts new connections
    /// without answering them.
    pub fn freeze(&self) {
        self.control.send_modify(|state| state.frozen = true);
    }

    /// Closes every connection held by [`Self::freeze`] and forwards new ones again.
    pub fn thaw(&self) {
        self.control.send_modify(|state| {
            state.frozen = false;
            state.epoch += 1;
        });
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `url` with its host and port replaced by `127.0.0.1:port`.
pub fn via_port(url: &str, port: u16) -> String {
    let mut parsed = reqwest::Url::parse(url).expect("a URL");
    parsed.set_host(Some("127.0.0.1")).expect("host settable");
    parsed.set_port(Some(port)).expect("port settable");
    parsed.to_string()
}

/// `host:port` of a database URL.
pub fn host_port(url: &str) -> String {
    let parsed = reqwest::Url::parse(url).expect("a URL");
    format!(
        "{}:{}",
        parsed.host_str().unwrap_or("127.0.0.1"),
        parsed.port().unwrap_or(5432)
    )
}

async fn serve(
    listener: TcpListener,
    port: u16,
    upstream: String,
    mut state: watch::Receiver<ProxyState>,
) {
    let mut listener = Some(listener);
    loop {
        let current = *state.borrow_and_update();
        if !current.up {
            // Closing the listener makes new connections fail with "connection refused".
            listener = None;
            if state.changed().await.is_err() {
                return;
            }
            continue;
        }
        let accepting = match listener.take() {
            Some(listener) => listener,
            None => rebind(port).await,
        };
        tokio::select! {
            accepted = accepting.accept() => {
                if let Ok((client, _)) = accepted {
                    let state = state.clone();
                    if current.frozen {
                        tokio::spawn(hold(vec![client], state, current.epoch));
                    } else {
                        tokio::spawn(forward(client, upstream.clone(), state, current.epoch));
                    }
                }
            }
            changed = state.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
        listener = Some(accepting);
    }
}

async fn rebind(port: u16) -> TcpListener {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut attempts = 0;
    loop {
        match TcpListener::bind(addr).await {
            Ok(listener) => return listener,
            Err(err) => {
                attempts += 1;
                assert!(attempts < 100, "proxy cannot listen on {addr} again: {err}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

async fn forward(
    mut client: TcpStream,
    upstream: String,
    mut state: watch::Receiver<ProxyState>,
    epoch: u64,
) {
    let Ok(mut server) = TcpStream::connect(&upstream).await else {
        return;
    };
    let frozen = tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => false,
        changed = state.wait_for(|s| s.epoch != epoch || s.frozen) => {
            changed.is_ok_and(|s| s.epoch == epoch)
        }
    };
    if frozen {
        hold(vec![client, server], state, epoch).await;
    }
    // The sockets are dropped here: the client sees its connection closed.
}

/// Keeps `sockets` open, silent, until the epoch ends.
async fn hold(sockets: Vec<TcpStream>, mut state: watch::Receiver<ProxyState>, epoch: u64) {
    let _ = state.wait_for(|s| s.epoch != epoch).await;
    drop(sockets);
}

// ---------------------------------------------------------------------------------------
// Load.
// ---------------------------------------------------------------------------------------

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
