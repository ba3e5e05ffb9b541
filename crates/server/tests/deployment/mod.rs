//! A deployment of two `ainative serve` processes behind nginx, for the tests of
//! `behind_nginx.rs`; they share test-support's fake OpenAI-compatible provider.

#![allow(dead_code)] // Without nginx the tests that use these are compiled but ignored.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ainative_test_support::{free_port, wait_until, RedisPrefix, TempDir, TestDatabase};
use serde_json::{json, Value};

pub use ainative_test_support::FakeLlmProvider;

const BIN: &str = env!("CARGO_BIN_EXE_ainative");
const TEMPLATE: &str = include_str!("../../../../deploy/nginx/ainative.conf.template");
const SECRET: &str = "nginx-test-secret-0123456789-abcdefghijkl";
pub const PASSWORD: &str = "Analytical7Engine";

/// A child process killed (and reaped) when dropped.
struct Process {
    child: Child,
    log: std::path::PathBuf,
    /// Asked to stop (SIGTERM) before it is killed: nginx's master stops its workers then,
    /// where a SIGKILL would leave them running, holding the port.
    terminate_first: bool,
}

impl Process {
    /// A process that is killed outright when dropped.
    fn spawn(command: Command, log: &Path) -> Self {
        Self::start(command, log, false)
    }

    /// A process that is sent SIGTERM when dropped, and killed only if it is still running
    /// five seconds later.
    fn spawn_terminated(command: Command, log: &Path) -> Self {
        Self::start(command, log, true)
    }

    fn start(mut command: Command, log: &Path, terminate_first: bool) -> Self {
        let out = File::create(log).expect("log file");
        let err = out.try_clone().expect("log file");
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("process starts");
        Self {
            child,
            log: log.to_owned(),
            terminate_first,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, then up to five seconds for the process to exit; true when it did.
    fn terminate(&mut self) -> bool {
        let sent = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status()
            .is_ok_and(|status| status.success());
        if !sent {
            return false;
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if self.terminate_first && self.terminate() {
            return;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP client of one base URL.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
}

impl Client {
    fn new(port: u16) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let res = req.send().await.expect("request sent");
        let status = res.status().as_u16();
        let body = res.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut req = self.http.get(self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        self.send(req).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        let mut req = self.http.post(self.url(path)).json(body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        self.send(req).await
    }

    /// A POST that a proxy in front of nginx forwarded for `client_ip`.
    pub async fn post_from(
        &self,
        client_ip: &str,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .post(self.url(path))
            .header("x-forwarded-for", client_ip)
            .json(body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        self.send(req).await
    }

    /// Registers `username`; the `data` of the answer (tokens and user).
    pub async fn register(&self, username: &str) -> Value {
        let body = json!({
            "email": format!("{username}@example.com"),
            "username": username,
            "password": PASSWORD,
            "full_name": format!("User {username}"),
        });
        let (status, body) = self.post("/api/v1/auth/register", None, &body).await;
        assert_eq!(status, 201, "{body}");
        body["data"].clone()
    }

    pub async fn token_of(&self, username: &str) -> String {
        self.register(username).await["access_token"]
            .as_str()
            .expect("token")
            .to_owned()
    }

    pub async fn login(&self, username: &str) -> String {
        let body = json!({"username": username, "password": PASSWORD});
        let (status, body) = self.post("/api/v1/auth/login", None, &body).await;
        assert_eq!(status, 200, "{body}");
        body["data"]["access_token"]
            .as_str()
            .expect("token")
            .to_owned()
    }

    /// Starts a study session of `token`'s student on `activity`; its id.
    pub async fn start(&self, token: &str, activity: &str) -> String {
        let (status, body) = self
            .post(
                "/api/v1/sessions",
                Some(token),
                &json!({"activity_id": activity}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["data"]["id"].as_str().expect("session id").to_owned()
    }
}

/// One `ainative serve`.
struct Instance {
    process: Process,
    port: u16,
    client: Client,
    metrics: Client,
}

/// Two instances on a fresh PostgreSQL database and Redis prefix, behind nginx.
pub struct Deployment {
    // Dropped in this order: proxy, instances, then the database and the prefix.
    nginx: Process,
    proxy: Client,
    instances: Vec<Instance>,
    env: Vec<(String, String)>,
    dir: TempDir,
    db: TestDatabase,
    _redis: RedisPrefix,
}

impl Deployment {
    /// Starts both instances (the first migrates the database) and nginx; `extra` overrides
    /// the instances' settings.
    pub async fn start(extra: &[(&str, &str)]) -> Self {
        let db = TestDatabase::create().await;
        let redis = RedisPrefix::new().await;
        let dir = TempDir::create("nginx");
        let mut env: Vec<(String, String)> = [
            ("APP_ENV", "test"),
            ("APP_HOST", "127.0.0.1"),
            ("DATABASE_URL", db.url()),
            ("DB_POOL_SIZE", "5"),
            ("REDIS_URL", redis.url()),
            ("REDIS_KEY_PREFIX", redis.prefix()),
            ("JWT_SECRET_KEY", SECRET),
            ("BCRYPT_COST", "4"),
            ("TRUSTED_PROXIES", "127.0.0.1/32"),
            ("RATE_LIMIT_ANONYMOUS", "100000"),
            ("RATE_LIMIT_FREE_TIER", "100000"),
            ("RATE_LIMIT_PREMIUM_TIER", "100000"),
            ("LOG_LEVEL", "warn"),
            ("SHUTDOWN_TIMEOUT_SECS", "2"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for (k, v) in extra {
            env.retain(|(key, _)| key != k);
            env.push(((*k).to_owned(), (*v).to_owned()));
        }
        let mut instances = Vec::new();
        // One after the other: the first applies the migrations.
        for n in 0..2 {
            let instance = spawn_instance(&dir, &env, n);
            wait_live(&instance.client, &instance.process).await;
            instances.push(instance);
        }
        let ports: Vec<u16> = instances.iter().map(|i| i.port).collect();
        let (nginx, port) = start_nginx(&dir, &ports);
        let proxy = Client::new(port);
        wait_live(&proxy, &nginx).await;
        Self {
            nginx,
            proxy,
            instances,
            env,
            dir,
            db,
            _redis: redis,
        }
    }

    /// The client of nginx.
    pub fn proxy(&self) -> &Client {
        &self.proxy
    }

    /// The database both instances share.
    pub fn database_url(&self) -> &str {
        self.db.url()
    }

    /// The process ids of the instances.
    pub fn instance_pids(&self) -> Vec<u32> {
        self.instances.iter().map(|i| i.process.pid()).collect()
    }

    /// SIGKILLs the instance whose process id is `pid` (no graceful shutdown, no job given
    /// back); its index.
    pub fn kill_instance(&mut self, pid: u32) -> usize {
        let n = self
            .instances
            .iter()
            .position(|i| i.process.pid() == pid)
            .expect("an instance of this deployment");
        let child = &mut self.instances[n].process.child;
        child.kill().expect("kill");
        let _ = child.wait();
        n
    }

    /// The client of instance `n`, reached directly.
    pub fn instance(&self, n: usize) -> &Client {
        &self.instances[n].client
    }

    /// True when both instances served `/api/v1/auth/me` (per their own metrics).
    pub async fn both_answered(&self) -> bool {
        for instance in &self.instances {
            let text = instance
                .metrics
                .http
                .get(instance.metrics.url("/metrics"))
                .send()
                .await
                .expect("metrics")
                .text()
                .await
                .expect("metrics text");
            let served: f64 = text
                .lines()
                .filter(|l| l.starts_with("http_requests_total") && l.contains("/api/v1/auth/me"))
                .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                .sum();
            if served == 0.0 {
                return false;
            }
        }
        true
    }

    /// An administrator created with `ainative create-admin`, logged in on instance 0.
    pub async fn admin(&self) -> String {
        let mut command = Command::new(BIN);
        command
            .args([
                "create-admin",
                "--email",
                "root@example.com",
                "--username",
                "root",
            ])
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default());
        for (k, v) in &self.env {
            command.env(k, v);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("create-admin starts");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(format!("{PASSWORD}\n").as_bytes())
            .expect("password written");
        let out = child.wait_with_output().expect("create-admin ends");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.instance(0).login("root").await
    }

    /// A published activity of a fresh instructor; its id.
    pub async fn published_activity(&self) -> String {
        let a = self.instance(0);
        let admin = self.admin().await;
        let user = a.register("teacher").await;
        let id = user["user"]["id"].as_str().expect("user id");
        let res = a
            .http
            .patch(a.url(&format!("/api/v1/admin/users/{id}")))
            .bearer_auth(&admin)
            .json(&json!({"roles": ["instructor"]}))
            .send()
            .await
            .expect("patch");
        assert_eq!(res.status(), 200);
        let teacher = a.login("teacher").await;
        let body = json!({
            "title": "Loops in Python",
            "instructions": "Write a function that sums a list with a for loop.",
            "subject": "python",
            "difficulty": "beginner",
            "policies": {},
        });
        let (status, activity) = a.post("/api/v1/activities", Some(&teacher), &body).await;
        assert_eq!(status, 201, "{activity}");
        let id = activity["data"]["id"]
            .as_str()
            .expect("activity id")
            .to_owned();
        let (status, body) = a
            .post(
                &format!("/api/v1/activities/{id}/publish"),
                Some(&teacher),
                &json!({}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        id
    }
}

fn spawn_instance(dir: &TempDir, env: &[(String, String)], n: usize) -> Instance {
    let (port, metrics_port) = (free_port(), free_port());
    let mut command = Command::new(BIN);
    command
        .arg("serve")
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("APP_PORT", port.to_string())
        .env("METRICS_ADDR", format!("127.0.0.1:{metrics_port}"));
    for (k, v) in env {
        command.env(k, v);
    }
    let process = Process::spawn(command, &dir.join(format!("instance-{n}.log")));
    Instance {
        process,
        port,
        client: Client::new(port),
        metrics: Client::new(metrics_port),
    }
}

/// Waits until `client` answers `/api/v1/health/live`; panics with the process' output otherwise.
async fn wait_live(client: &Client, process: &Process) {
    let live = tokio::time::timeout(
        Duration::from_secs(30),
        wait_until(Duration::from_secs(60), "liveness", || async {
            client
                .http
                .get(client.url("/api/v1/health/live"))
                .timeout(Duration::from_secs(1))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        }),
    )
    .await;
    if live.is_err() {
        panic!("{} is not live:\n{}", client.base, process.output());
    }
}

/// nginx with the shipped template in front of `instances` (ports), and its port.
fn start_nginx(dir: &TempDir, instances: &[u16]) -> (Process, u16) {
    let port = free_port();
    let site = TEMPLATE
        .replace(
            "${AINATIVE_INSTANCE_1}",
            &format!("127.0.0.1:{}", instances[0]),
        )
        .replace(
            "${AINATIVE_INSTANCE_2}",
            &format!("127.0.0.1:{}", instances[1]),
        )
        .replace("${NGINX_LISTEN}", &format!("127.0.0.1:{port}"));
    assert!(
        !site.contains("${"),
        "every template variable is set:\n{site}"
    );
    let root = dir.join("nginx");
    std::fs::create_dir_all(root.join("temp")).expect("nginx dir");
    std::fs::write(root.join("site.conf"), site).expect("site");
    let temp = root.join("temp");
    let temp = temp.display();
    let main = format!(
        "daemon off;\nmaster_process on;\nworker_processes 1;\npid {root}/nginx.pid;\n\
         error_log {root}/error.log warn;\nevents {{ worker_connections 256; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {temp}/body;\n  \
         proxy_temp_path {temp}/proxy;\n  fastcgi_temp_path {temp}/fastcgi;\n  \
         uwsgi_temp_path {temp}/uwsgi;\n  scgi_temp_path {temp}/scgi;\n  \
         include {root}/site.conf;\n}}\n",
        root = root.display(),
    );
    std::fs::write(root.join("nginx.conf"), main).expect("nginx.conf");
    let mut command = Command::new(option_env!("AINATIVE_TEST_NGINX").unwrap_or("nginx"));
    command
        .arg("-p")
        .arg(&root)
        .arg("-c")
        .arg(root.join("nginx.conf"))
        .arg("-e")
        .arg(root.join("error.log"));
    (
        Process::spawn_terminated(command, &root.join("stdout.log")),
        port,
    )
}
