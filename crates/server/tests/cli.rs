//! The `ainative` binary as an operator uses it (SPEC §1–§2): sub-commands, configuration
//! errors, the embedded default and graceful shutdown. Each test runs the real binary in its
//! own empty directory with a clean environment, so no `.env` or shell variable leaks in.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use ainative_test_support::{free_port, wait_for, wait_until, TempDir};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_ainative");
const SECRET: &str = "cli-test-secret-0123456789-abcdefghijklmnop";
const STRONG_PASSWORD: &str = "Analytical7Engine";
/// Base64 of 32 bytes, for CREDENTIALS_ENCRYPTION_KEY.
const CREDENTIALS_KEY: &str = "Y2xpLWNyZWRlbnRpYWxzLWtleS0wMTIzNDU2Nzg5YWI=";
/// What production needs besides the database and the signing secret.
const PRODUCTION_KEYS: [(&str, &str); 3] = [
    ("JWT_ALGORITHM", "HS256"),
    ("CREDENTIALS_ENCRYPTION_KEY", CREDENTIALS_KEY),
    ("API_KEY_PEPPER", SECRET),
];

/// An empty working directory, removed afterwards.
struct Sandbox {
    dir: TempDir,
}

impl Sandbox {
    fn new() -> Self {
        Self {
            dir: TempDir::create("cli"),
        }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.join(relative)
    }

    /// The binary with only PATH and `env` set, run in the sandbox.
    fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs to completion with `stdin` as standard input.
    fn run_with_stdin(&self, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Run {
        let mut cmd = self.command(args, env);
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("binary starts");
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(input.as_bytes()).expect("write stdin");
        }
        Run::from(child.wait_with_output().expect("binary runs"))
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        self.run_with_stdin(args, env, None)
    }
}

/// The outcome of a finished command.
struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl From<Output> for Run {
    fn from(out: Output) -> Self {
        Self {
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Run {
    fn assert_ok(&self) -> &Self {
        assert!(self.status.success(), "{}", self.describe());
        self
    }

    /// A configuration error: exit status 2, the variable named on standard error.
    fn assert_failed_naming(&self, var: &str) -> &Self {
        assert_eq!(
            self.status.code(),
            Some(2),
            "should fail with 2: {}",
            self.describe()
        );
        assert!(
            self.stderr.contains(var),
            "stderr should name {var}: {}",
            self.describe()
        );
        self
    }

    fn describe(&self) -> String {
        format!(
            "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.status.code(),
            self.stdout,
            self.stderr
        )
    }
}

/// A pipe read to its end on a thread of its own; what was read so far can be looked at.
struct Drained {
    seen: Arc<Mutex<Vec<u8>>>,
    reader: Option<JoinHandle<()>>,
}

impl Drained {
    fn new(mut pipe: impl Read + Send + 'static) -> Self {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let reader = std::thread::spawn(move || {
            let mut chunk = [0_u8; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut chunk) {
                sink.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .extend_from_slice(&chunk[..n]);
            }
        });
        Self {
            seen,
            reader: Some(reader),
        }
    }

    /// What was read so far.
    fn so_far(&self) -> String {
        let seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&seen).into_owned()
    }

    /// Everything, once the pipe is closed (the process exited).
    fn all(&mut self) -> String {
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        self.so_far()
    }
}

/// A running `ainative serve`.
struct Server {
    child: Child,
    port: u16,
    metrics_port: u16,
    stdout: Drained,
    stderr: Drained,
}

impl Server {
    fn start(sandbox: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let port_text = port.to_string();
        // The internal metrics listener needs a port of its own too (default 9100 would
        // collide between tests running in parallel).
        let metrics_port = free_port();
        let metrics = format!("127.0.0.1:{metrics_port}");
        let mut env = env.to_vec();
        env.push(("APP_PORT", &port_text));
        env.push(("METRICS_ADDR", &metrics));
        let mut child = sandbox
            .command(args, &env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("server starts");
        let stdout = Drained::new(child.stdout.take().expect("piped stdout"));
        let stderr = Drained::new(child.stderr.take().expect("piped stderr"));
        Self {
            child,
            port,
            metrics_port,
            stdout,
            stderr,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Polls `/health/live` until it answers 200; panics with the output if the process dies.
    async fn wait_until_live(&mut self, client: &reqwest::Client) {
        let url = self.url("/api/v1/health/live");
        let (child, stdout, stderr) = (&mut self.child, &self.stdout, &self.stderr);
        wait_until(Duration::from_secs(30), "the server is live", || {
            if let Some(status) = child.try_wait().expect("try_wait") {
                panic!(
                    "server exited early ({status}):\n{}\n{}",
                    stdout.so_far(),
                    stderr.so_far()
                );
            }
            let live = client.get(&url).send();
            async move { live.await.is_ok_and(|res| res.status() == 200) }
        })
        .await;
    }

    /// The value of `http_requests_in_flight` on the internal metrics listener.
    async fn requests_in_flight(&self, client: &reqwest::Client) -> Option<u64> {
        let url = format!("http://127.0.0.1:{}/metrics", self.metrics_port);
        let text = client.get(url).send().await.ok()?.text().await.ok()?;
        text.lines()
            .find_map(|line| line.strip_prefix("http_requests_in_flight "))
            .and_then(|value| value.trim().parse::<f64>().ok())
            .map(|value| value as u64)
    }

    fn sigterm(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -TERM failed");
    }

    fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// Waits for the process to exit, at most `limit`.
    async fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let child = &mut self.child;
        wait_for(limit, "the server exits", || {
            let exited = child.try_wait().expect("try_wait");
            async move { exited }
        })
        .await
    }

    /// Standard output and error (after exit).
    fn output(&mut self) -> (String, String) {
        (self.stdout.all(), self.stderr.all())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A client that keeps no idle connections, so it never delays a graceful shutdown.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

// ---------------------------------------------------------------------------------------------
// check-config and configuration errors

/// Every variable of SPEC §2.
const SPEC_VARIABLES: &[&str] = &[
    "APP_ENV",
    "APP_HOST",
    "APP_PORT",
    "DATABASE_URL",
    "DB_POOL_SIZE",
    "DB_MIN_IDLE",
    "DB_POOL_TIMEOUT_SECS",
    "DB_POOL_RECYCLE_SECS",
    "DB_IDLE_TIMEOUT_SECS",
    "DB_POOL_PRE_PING",
    "AUTO_MIGRATE",
    "REDIS_URL",
    "REDIS_POOL_SIZE",
    "REDIS_TIMEOUT_MS",
    "CACHE_TTL_SECS",
    "CACHE_MAX_ENTRIES",
    "JWT_SECRET_KEY",
    "JWT_ALGORITHM",
    "JWT_ISSUER",
    "JWT_AUDIENCE",
    "JWT_ACCESS_TOKEN_EXPIRE_MINUTES",
    "JWT_REFRESH_TOKEN_EXPIRE_DAYS",
    "BCRYPT_COST",
    "RATE_LIMIT_ANONYMOUS",
    "RATE_LIMIT_FREE_TIER",
    "RATE_LIMIT_PREMIUM_TIER",
    "RATE_LIMIT_ADMIN_TIER",
    "RATE_LIMIT_LOGIN",
    "TRUSTED_PROXIES",
    "CORS_ORIGINS",
    "MAX_BODY_BYTES",
    "LLM_PROVIDER",
    "LLM_BASE_URL",
    "LLM_API_KEY",
    "LLM_MODEL",
    "LLM_TIMEOUT_SECS",
    "LLM_MAX_RETRIES",
    "LOG_FORMAT",
    "LOG_LEVEL",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "METRICS_ADDR",
    "REDIS_KEY_PREFIX",
    "REFRESH_REUSE_GRACE_SECS",
    "PASSWORD_MIN_LENGTH",
];

#[test]
fn check_config_prints_every_variable_with_secrets_masked() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(
        &["check-config"],
        &[
            ("JWT_SECRET_KEY", SECRET),
            (
                "DATABASE_URL",
                "postgres://app:pg-hunter2-pw@db.internal:5432/ainative",
            ),
            (
                "REDIS_URL",
                "redis://:redis-hunter3-pw@cache.internal:6379/0",
            ),
            ("LLM_API_KEY", "sk-live-hunter4-key"),
            ("ADMIN_PASSWORD", "Admin-hunter5-pw"),
            ("APP_PORT", "8123"),
            ("RATE_LIMIT_FREE_TIER", "77"),
            // A member of each family, so the family is printed too.
            ("OAUTH_OIDC_DEMO_ISSUER", "https://id.example"),
            ("OAUTH_OIDC_DEMO_CLIENT_ID", "demo-client"),
            ("OAUTH_OIDC_DEMO_CLIENT_SECRET", "oidc-hunter6-secret"),
        ],
    );
    run.assert_ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    let declared: Vec<String> = ainative_server::settings::vars::TABLE
        .iter()
        .map(|spec| spec.display_name().replace("<NAME>", "DEMO"))
        .collect();
    for var in SPEC_VARIABLES
        .iter()
        .copied()
        .chain(declared.iter().map(String::as_str))
    {
        assert!(
            lines.iter().any(|l| l.starts_with(&format!("{var} "))
                || l.starts_with(&format!("{var}="))
                || l.starts_with(&format!("{var}:"))),
            "{var} not printed:\n{}",
            run.stdout
        );
    }
    let everything = format!("{}{}", run.stdout, run.stderr);
    for secret in [
        SECRET,
        "pg-hunter2-pw",
        "redis-hunter3-pw",
        "sk-live-hunter4-key",
        "Admin-hunter5-pw",
        "oidc-hunter6-secret",
    ] {
        assert!(
            !everything.contains(secret),
            "{secret} leaked:\n{everything}"
        );
    }
    // Non-secret values are shown as they are.
    assert!(run.stdout.contains("8123"), "{}", run.stdout);
    assert!(run.stdout.contains("77"), "{}", run.stdout);
    assert!(run.stdout.contains("db.internal"), "{}", run.stdout);
}

#[test]
fn invalid_values_stop_start_up_naming_the_variable() {
    let sandbox = Sandbox::new();
    let cases = [
        ("APP_PORT", "abc"),
        ("APP_PORT", "70000"),
        ("BCRYPT_COST", "3"),
        ("DB_POOL_PRE_PING", "perhaps"),
        ("DATABASE_URL", "mysql://localhost/db"),
        ("CORS_ORIGINS", "*"),
        ("APP_ENV", "staging"),
    ];
    for (var, value) in cases {
        let env = [("JWT_SECRET_KEY", SECRET), (var, value)];
        for args in [&["check-config"][..], &[][..]] {
            let run = sandbox.run(args, &env);
            run.assert_failed_naming(var);
            assert!(
                run.stderr.contains("expected") || run.stderr.contains(value),
                "{var}={value}: the message should say what is expected: {}",
                run.describe()
            );
            assert!(!run.stderr.contains(SECRET), "{}", run.stderr);
        }
    }
    // `serve` refused before creating anything.
    assert!(!sandbox.path("data/ainative.db").exists());
}

#[test]
fn production_requires_a_strong_jwt_secret() {
    let sandbox = Sandbox::new();
    let pg = ("DATABASE_URL", "postgres://app@127.0.0.1:1/none");
    let production = ("APP_ENV", "production");
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut env = vec![production, pg];
        env.extend(PRODUCTION_KEYS);
        env.extend_from_slice(extra);
        env
    };
    let short: &'static str = Box::leak("x".repeat(31).into_boxed_str());
    for args in [&[][..], &["check-config"][..]] {
        sandbox
            .run(args, &with(&[]))
            .assert_failed_naming("JWT_SECRET_KEY");
        sandbox
            .run(args, &with(&[("JWT_SECRET_KEY", short)]))
            .assert_failed_naming("JWT_SECRET_KEY");
    }
    // No development secret is generated in production.
    assert!(!sandbox.path("data/jwt_secret").exists());
    // With one it passes the configuration check.
    sandbox
        .run(&["check-config"], &with(&[("JWT_SECRET_KEY", SECRET)]))
        .assert_ok();
}

#[test]
fn production_refuses_sqlite_unless_allowed() {
    let sandbox = Sandbox::new();
    let mut env = vec![("APP_ENV", "production"), ("JWT_SECRET_KEY", SECRET)];
    env.extend(PRODUCTION_KEYS);
    for args in [&[][..], &["check-config"][..]] {
        sandbox.run(args, &env).assert_failed_naming("DATABASE_URL");
        let mut explicit = env.to_vec();
        explicit.push(("DATABASE_URL", "sqlite://data/prod.db"));
        sandbox
            .run(args, &explicit)
            .assert_failed_naming("DATABASE_URL");
    }
    assert!(!sandbox.path("data/ainative.db").exists());
    let mut allowed = env.to_vec();
    allowed.push(("ALLOW_SQLITE_IN_PRODUCTION", "true"));
    let run = sandbox.run(&["check-config"], &allowed);
    run.assert_ok();
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("APP_ENV") && l.contains("production")),
        "{}",
        run.stdout
    );
}

#[test]
fn every_problem_is_reported_at_once_with_exit_status_2() {
    let sandbox = Sandbox::new();
    let env = [
        ("APP_ENV", "production"),
        ("APP_PORT", "eighty"),
        ("DB_POOL_PRE_PING", "perhaps"),
        ("CORS_ORIGINS", "https://ok.example,*"),
        ("DATABASE_URL", "sqlite://data/prod.db"),
        PRODUCTION_KEYS[0],
        PRODUCTION_KEYS[1],
        PRODUCTION_KEYS[2],
    ];
    for args in [&["check-config"][..], &[][..], &["migrate", "status"][..]] {
        let run = sandbox.run(args, &env);
        assert_eq!(run.status.code(), Some(2), "{}", run.describe());
        assert!(run.stdout.is_empty(), "{}", run.describe());
        assert!(
            run.stderr.contains("5 configuration problems:"),
            "{}",
            run.describe()
        );
        for line in [
            r#"APP_PORT: expected an integer 0..=65535, got "eighty""#,
            r#"DB_POOL_PRE_PING: expected a boolean"#,
            r#"CORS_ORIGINS: expected a comma-separated list, each a URL starting with http:// or https://, got "*""#,
            "DATABASE_URL: SQLite is refused when APP_ENV=production",
            "JWT_SECRET_KEY: is required when APP_ENV=production",
        ] {
            assert!(
                run.stderr.contains(line),
                "missing {line:?}: {}",
                run.describe()
            );
        }
    }
    assert!(!sandbox.path("data").exists(), "nothing is created");
}

#[test]
fn check_config_lists_misspelt_variables_and_where_values_come_from() {
    let sandbox = Sandbox::new();
    std::fs::create_dir_all(sandbox.path("config")).expect("config dir");
    std::fs::write(
        sandbox.path("config/test.toml"),
        "bcrypt_cost = 5
",
    )
    .expect("toml");
    let run = sandbox.run(
        &["check-config"],
        &[
            ("APP_ENV", "test"),
            ("JWT_SECRET_KEY", SECRET),
            ("APP_PROT", "9000"),
            ("JTW_ISSUER", "someone"),
            ("RUST_LOG", "debug"),
            ("TEST_DATABASE_URL", "postgres://x/y"),
            ("CARGO_HOME", "/nowhere"),
        ],
    );
    run.assert_ok();
    let warnings: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("# warning: "))
        .collect();
    assert_eq!(warnings.len(), 2, "{}", run.stdout);
    assert!(warnings[0].contains("APP_PROT") && warnings[0].contains("did you mean APP_PORT?"));
    assert!(warnings[1].contains("JTW_ISSUER") && warnings[1].contains("did you mean JWT_ISSUER?"));
    let line = |var: &str| {
        run.stdout
            .lines()
            .find(|l| l.starts_with(&format!("{var} = ")))
            .unwrap_or_else(|| panic!("{var} missing: {}", run.stdout))
    };
    assert!(
        line("APP_PORT").contains("= 8000"),
        "the typo is not applied"
    );
    assert!(line("APP_PORT").ends_with("# default"));
    assert!(line("BCRYPT_COST").contains("= 5") && line("BCRYPT_COST").ends_with("test.toml"));
    assert!(line("APP_ENV").ends_with("# environment"));
    assert!(
        line("JWT_SECRET_KEY").contains("****** (43 bytes)"),
        "{}",
        line("JWT_SECRET_KEY")
    );
}

#[test]
fn a_misspelling_is_named_next_to_the_error_it_causes() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(
        &["check-config"],
        &[
            ("APP_ENV", "production"),
            ("DATABASE_URL", "postgres://app@127.0.0.1:1/none"),
            ("JWT_SECRET_KY", SECRET),
        ],
    );
    run.assert_failed_naming("JWT_SECRET_KEY");
    assert!(
        run.stderr.contains(
            "warning: JWT_SECRET_KY: not a setting of ainative; did you mean JWT_SECRET_KEY?"
        ),
        "{}",
        run.describe()
    );
    assert!(!run.stderr.contains(SECRET), "{}", run.describe());
}

#[test]
fn config_docs_check_finds_stale_files_and_config_docs_rewrites_them() {
    let sandbox = Sandbox::new();
    std::fs::create_dir_all(sandbox.path("docs")).expect("docs dir");
    let begin = ainative_server::settings::docs::BEGIN;
    let end = ainative_server::settings::docs::END;
    let prose = format!("# Configuration\n\nProse kept.\n\n{begin}\nstale\n{end}\n\nMore prose.\n");
    std::fs::write(sandbox.path("docs/configuration.md"), &prose).expect("doc");
    std::fs::write(sandbox.path(".env.example"), "STALE=1\n").expect("env");
    let check = sandbox.run(&["config-docs", "--check"], &[]);
    assert_eq!(check.status.code(), Some(1), "{}", check.describe());
    assert!(
        check.stderr.contains(".env.example") && check.stderr.contains("configuration.md"),
        "{}",
        check.describe()
    );
    sandbox.run(&["config-docs"], &[]).assert_ok();
    sandbox.run(&["config-docs", "--check"], &[]).assert_ok();
    let doc = std::fs::read_to_string(sandbox.path("docs/configuration.md")).expect("doc");
    assert!(doc.starts_with("# Configuration\n\nProse kept.") && doc.ends_with("More prose.\n"));
    assert!(
        doc.contains("| `JWT_SECRET_KEY` |") && !doc.contains("stale"),
        "{doc}"
    );
    let env = std::fs::read_to_string(sandbox.path(".env.example")).expect("env");
    assert!(env.contains("\nAPP_PORT=8000\n"), "{env}");
    assert!(
        !sandbox.path("data").exists(),
        "config-docs loads no configuration"
    );
}

// ---------------------------------------------------------------------------------------------
// migrate

/// `migrate status` as (version, applied) pairs.
fn migration_status(sandbox: &Sandbox, env: &[(&str, &str)]) -> Vec<(String, bool)> {
    let run = sandbox.run(&["migrate", "status"], env);
    run.assert_ok();
    let rows: Vec<(String, bool)> = run
        .stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut parts = l.split_whitespace();
            let version = parts.next().expect("version").to_owned();
            let state = parts.next().expect("state");
            assert!(
                state == "applied" || state == "pending",
                "unexpected state in {l:?}"
            );
            (version, state == "applied")
        })
        .collect();
    assert!(!rows.is_empty(), "no migrations listed: {}", run.describe());
    rows
}

#[test]
fn migrate_up_status_down_status_on_sqlite() {
    let sandbox = Sandbox::new();
    let env = [
        ("DATABASE_URL", "sqlite://migrations.db"),
        ("JWT_SECRET_KEY", SECRET),
    ];
    let fresh = migration_status(&sandbox, &env);
    assert!(fresh.iter().all(|(_, applied)| !applied), "{fresh:?}");

    sandbox.run(&["migrate", "up"], &env).assert_ok();
    assert!(sandbox.path("migrations.db").exists());
    let up = migration_status(&sandbox, &env);
    assert_eq!(up.len(), fresh.len());
    assert!(up.iter().all(|(_, applied)| *applied), "{up:?}");
    // Up again is a no-op.
    sandbox.run(&["migrate", "up"], &env).assert_ok();
    assert_eq!(migration_status(&sandbox, &env), up);

    sandbox.run(&["migrate", "down"], &env).assert_ok();
    let down = migration_status(&sandbox, &env);
    let (last, rest) = down.split_last().expect("rows");
    assert!(!last.1, "the newest migration is reverted: {down:?}");
    assert!(rest.iter().all(|(_, applied)| *applied), "{down:?}");

    sandbox.run(&["migrate", "up"], &env).assert_ok();
    assert!(migration_status(&sandbox, &env).iter().all(|(_, a)| *a));
}

// ---------------------------------------------------------------------------------------------
// create-admin

fn admin_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("DATABASE_URL", "sqlite://data/admin.db"),
        ("JWT_SECRET_KEY", SECRET),
        ("BCRYPT_COST", "4"),
    ]
}

const CREATE_ROOT: &[&str] = &[
    "create-admin",
    "--email",
    "root@example.com",
    "--username",
    "root",
];

#[test]
fn create_admin_reads_the_password_from_stdin_and_refuses_weak_ones() {
    let sandbox = Sandbox::new();
    let env = admin_env();

    // No password at all: refused, never a built-in default.
    let run = sandbox.run(CREATE_ROOT, &env);
    assert!(!run.status.success(), "{}", run.describe());

    let weak = sandbox.run_with_stdin(CREATE_ROOT, &env, Some("Password1\n"));
    assert!(
        !weak.status.success(),
        "weak password accepted: {}",
        weak.describe()
    );
    assert!(
        weak.stderr.to_ascii_lowercase().contains("password"),
        "{}",
        weak.describe()
    );

    // Nothing was created: the same account can still be created.
    let strong = format!("{STRONG_PASSWORD}\n");
    let run = sandbox.run_with_stdin(CREATE_ROOT, &env, Some(&strong));
    run.assert_ok();
    assert!(run.stdout.contains("root"), "{}", run.describe());
    assert!(
        !format!("{}{}", run.stdout, run.stderr).contains(STRONG_PASSWORD),
        "the password is echoed: {}",
        run.describe()
    );
    // And now it exists: a second creation conflicts.
    let again = sandbox.run_with_stdin(CREATE_ROOT, &env, Some(&strong));
    assert!(!again.status.success(), "{}", again.describe());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_admin_from_env_then_log_in_over_http() {
    let sandbox = Sandbox::new();
    let mut env = admin_env();
    env.push(("ADMIN_PASSWORD", STRONG_PASSWORD));
    sandbox.run(CREATE_ROOT, &env).assert_ok();

    let env = admin_env();
    let mut server = Server::start(&sandbox, &["serve"], &env);
    let http = client();
    server.wait_until_live(&http).await;
    let res = http
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({"username": "root", "password": STRONG_PASSWORD}))
        .send()
        .await
        .expect("login sent");
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("json");
    let user = &body["data"]["user"];
    assert_eq!(user["email"], "root@example.com", "{body}");
    assert!(
        user["roles"]
            .as_array()
            .expect("roles")
            .contains(&json!("admin")),
        "{body}"
    );
    let token = body["data"]["access_token"].as_str().expect("token");
    let res = http
        .get(server.url("/api/v1/admin/users"))
        .bearer_auth(token)
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 200);

    server.sigterm();
    let status = server.wait_exit(Duration::from_secs(10)).await;
    let (stdout, stderr) = server.output();
    assert_eq!(status.code(), Some(0), "{stderr}");

    // The log writer runs on its own thread: its last lines are written before exit, and
    // without a terminal they carry no colour codes.
    let line = stdout
        .lines()
        .find(|l| l.contains("route=/api/v1/admin/users"))
        .unwrap_or_else(|| panic!("no request line for /admin/users in:\n{stdout}"));
    assert!(line.contains("status=200"), "{line}");
    assert!(line.contains("user_id="), "{line}");
    assert!(!line.contains("user_id=-"), "{line}");
    assert!(
        !stdout.contains('\u{1b}'),
        "ANSI escapes in piped logs:\n{stdout}"
    );
    assert!(!stdout.contains(STRONG_PASSWORD), "the password was logged");
}

// ---------------------------------------------------------------------------------------------
// serve: the embedded default and graceful shutdown

/// Starts a login whose body is only half sent; returns the open connection and the rest.
fn start_slow_request(port: u16) -> (TcpStream, Vec<u8>) {
    let body = json!({"username": "nobody", "password": "Wrong-password-9"}).to_string();
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let (first, rest) = body.as_bytes().split_at(body.len() / 2);
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .expect("timeout");
    stream.write_all(head.as_bytes()).expect("head");
    stream.write_all(first).expect("first half");
    stream.flush().expect("flush");
    (stream, rest.to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_runs_on_the_embedded_default_and_stops_gracefully_on_sigterm() {
    let sandbox = Sandbox::new();
    let mut server = Server::start(&sandbox, &[], &[("BCRYPT_COST", "4")]);
    let http = client();
    server.wait_until_live(&http).await;

    assert!(sandbox.path("data/ainative.db").is_file());
    // The default signs with EdDSA: a development key is generated, private to its owner.
    let secret_file = sandbox.path("data/jwt_eddsa.pem");
    let secret = std::fs::read_to_string(&secret_file).expect("signing key created");
    assert!(secret.contains("BEGIN PRIVATE KEY"), "a PKCS#8 PEM key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret_file)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "signing key readable by others: {mode:o}");
    }

    // Working, and ready, right up to the signal.
    for path in [
        "/api/v1/health/live",
        "/api/v1/health/ready",
        "/api/v1/health",
    ] {
        let res = http.get(server.url(path)).send().await.expect("sent");
        assert_eq!(res.status(), 200, "{path}");
    }
    let res = http
        .post(server.url("/api/v1/auth/register"))
        .json(&json!({
            "email": "first@example.com", "username": "first",
            "password": STRONG_PASSWORD, "full_name": "First User"
        }))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 201);

    // A request in flight when SIGTERM arrives is finished, not cut off.
    let port = server.port;
    let (mut stream, rest) = start_slow_request(port);
    wait_until(
        Duration::from_secs(5),
        "the half-sent login is in flight",
        || async { server.requests_in_flight(&http).await >= Some(1) },
    )
    .await;
    server.sigterm();
    wait_until(
        Duration::from_secs(5),
        "the server logs that shutdown began",
        || async { server.stdout.so_far().contains("shutdown requested") },
    )
    .await;
    assert!(server.is_running(), "exited with a request in flight");
    let answer = tokio::task::spawn_blocking(move || {
        stream.write_all(&rest).expect("rest of the body");
        let mut out = Vec::new();
        let _ = stream.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    })
    .await
    .expect("in-flight exchange");
    assert!(answer.starts_with("HTTP/1.1 401"), "cut off: {answer:?}");
    assert!(answer.contains("UNAUTHORIZED"), "{answer}");

    let status = server.wait_exit(Duration::from_secs(5)).await;
    let (_, stderr) = server.output();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("WARNING") && stderr.contains("JWT_PRIVATE_KEY_FILE"),
        "the development key warning is missing: {stderr}"
    );
    assert!(!stderr.contains(secret.trim()), "the secret is logged");

    // The data survives a restart: same secret, same users.
    let mut server = Server::start(&sandbox, &[], &[("BCRYPT_COST", "4")]);
    server.wait_until_live(&http).await;
    let res = http
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({"username": "first", "password": STRONG_PASSWORD}))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 200);
    assert_eq!(
        std::fs::read_to_string(&secret_file).expect("secret"),
        secret,
        "the development secret is reused"
    );
    server.sigterm();
    assert_eq!(
        server.wait_exit(Duration::from_secs(5)).await.code(),
        Some(0)
    );
}

/// SIGINT (Ctrl-C) stops the server as cleanly as SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_also_exits_zero() {
    let sandbox = Sandbox::new();
    let mut server = Server::start(&sandbox, &["serve"], &[("JWT_SECRET_KEY", SECRET)]);
    server.wait_until_live(&client()).await;
    let status = Command::new("kill")
        .args(["-INT", &server.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    assert_eq!(
        server.wait_exit(Duration::from_secs(5)).await.code(),
        Some(0)
    );
    assert!(
        !Path::new(&sandbox.path("data/jwt_secret")).exists(),
        "a configured secret needs no generated one"
    );
}

/// A misspelt variable is logged once the logger is up, naming the setting meant.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_logs_misspelt_variables_at_start() {
    let sandbox = Sandbox::new();
    let mut server = Server::start(
        &sandbox,
        &["serve"],
        &[("JWT_SECRET_KEY", SECRET), ("RATE_LIMIT_LOGN", "3")],
    );
    server.wait_until_live(&client()).await;
    server.sigterm();
    assert_eq!(
        server.wait_exit(Duration::from_secs(5)).await.code(),
        Some(0)
    );
    let (stdout, stderr) = server.output();
    let line = stdout
        .lines()
        .find(|l| l.contains("RATE_LIMIT_LOGN"))
        .unwrap_or_else(|| panic!("no warning about RATE_LIMIT_LOGN:\n{stdout}\n{stderr}"));
    assert!(line.contains("WARN"), "{line}");
    assert!(line.contains("did you mean RATE_LIMIT_LOGIN?"), "{line}");
}
