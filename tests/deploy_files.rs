//! Checks of the deployment and monitoring files (`deploy/`, `.github/workflows/`), run with
//! the normal test suite: every YAML file parses, the compose files and Kubernetes manifests
//! hold together, Prometheus accepts its configuration and rules (`promtool`, required), the
//! alert rules pass their unit tests, and dashboards and alerts use only metrics the service
//! exports. Needs no Docker engine. `promtool` and `amtool` are required (`.ci/run` installs
//! them). `docker compose config` and `kubectl kustomize` run when those commands exist; when
//! they do not, those two tests are reported as *ignored* (the probe is `tests/build.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as Json;
use serde_norway::Value as Yaml;

/// Every series `/metrics` exports (SPEC §7, `crates/http-api/src/metrics.rs`, the process
/// collector). Dashboards and alerts may use nothing else (plus Prometheus' own `up`).
const EXPORTED_METRICS: &[&str] = &[
    "http_requests_total",
    "http_request_duration_seconds",
    "http_requests_in_flight",
    "http_errors_total",
    "http_request_overhead_seconds",
    "db_pool_connections",
    "db_query_duration_seconds",
    "cache_requests_total",
    "rate_limit_rejections_total",
    "auth_failures_total",
    "llm_requests_total",
    "llm_request_duration_seconds",
    "llm_tokens_total",
    "cognitive_traces_created_total",
    "gateway_overhead_seconds",
    "risks_detected_total",
    "shared_state_degraded",
    "shared_state_fallbacks_total",
    "process_resident_memory_bytes",
    "process_start_time_seconds",
];

/// The histograms among [`EXPORTED_METRICS`]: they also expose `_bucket`, `_sum` and `_count`.
const HISTOGRAMS: &[&str] = &[
    "http_request_duration_seconds",
    "http_request_overhead_seconds",
    "db_query_duration_seconds",
    "llm_request_duration_seconds",
    "gateway_overhead_seconds",
];

/// Alerts that must exist, each with a runbook section in docs/operations.md.
const REQUIRED_ALERTS: &[&str] = &[
    "HighErrorRate",
    "HighLatencyP99",
    "DbPoolSaturated",
    "RedisDegraded",
    "LlmFailures",
    "InstanceDown",
];

const PROMTOOL_MISSING: &str = "promtool is required by the deployment checks but is not on PATH; \
     install it with `apt-get install prometheus` (Debian/Ubuntu package `prometheus`)";

const AMTOOL_MISSING: &str = "amtool is required by the deployment checks but is not on PATH; \
     install it with `apt-get install prometheus-alertmanager`";

// ---------------------------------------------------------------------------------------------
// Helpers

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

fn deploy() -> PathBuf {
    root().join("deploy")
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn rel(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Every document of a (possibly multi-document) YAML file.
fn yaml_docs(path: &Path) -> Vec<Yaml> {
    use serde::Deserialize as _;
    let text = read(path);
    let mut docs = Vec::new();
    for document in serde_norway::Deserializer::from_str(&text) {
        let value = Yaml::deserialize(document)
            .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", rel(path)));
        if !value.is_null() {
            docs.push(value);
        }
    }
    docs
}

/// The single document of a YAML file.
fn yaml(path: &Path) -> Yaml {
    let mut docs = yaml_docs(path);
    assert_eq!(
        docs.len(),
        1,
        "{} should hold exactly one YAML document",
        rel(path)
    );
    docs.remove(0)
}

fn json(path: &Path) -> Json {
    serde_json::from_str(&read(path))
        .unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", rel(path)))
}

/// Files under `dir` (recursively) whose names end with one of `extensions`, sorted.
fn files_under(dir: &Path, extensions: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        let Ok(entries) = fs::read_dir(&current) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
                if extensions
                    .iter()
                    .any(|ext| name.ends_with(&format!(".{ext}")))
                {
                    out.push(path);
                }
            }
        }
    }
    out.sort();
    out
}

/// `value[key]` as a string, if it is one.
fn s<'a>(value: &'a Yaml, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Yaml::as_str)
}

/// Follows a path of mapping keys.
fn at<'a>(value: &'a Yaml, path: &[&str]) -> Option<&'a Yaml> {
    path.iter().try_fold(value, |v, key| v.get(*key))
}

fn mapping_keys(value: Option<&Yaml>) -> BTreeSet<String> {
    value
        .and_then(Yaml::as_mapping)
        .map(|m| {
            m.keys()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The full path of `program` if it is on PATH.
fn find_program(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// Runs a command; returns whether it succeeded and its combined output.
fn run(command: &mut Command) -> (bool, String) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

fn promtool() -> PathBuf {
    find_program("promtool").unwrap_or_else(|| panic!("{PROMTOOL_MISSING}"))
}

/// A fresh scratch directory under the system temporary directory.
fn scratch_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let dir = std::env::temp_dir().join(format!(
        "ainative-deploy-{tag}-{}-{nanos}",
        std::process::id()
    ));
    fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

// ---------------------------------------------------------------------------------------------
// Metric names in PromQL

/// Identifiers in a PromQL expression that look like metric names: outside string literals
/// and Grafana variables, containing a metric-ish suffix, or exactly `up`.
fn metric_names(expr: &str) -> BTreeSet<String> {
    // Drop string literals (label values, regexes), keeping the rest.
    let mut code = String::with_capacity(expr.len());
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in expr.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                    code.push(' ');
                }
            }
            None if c == '"' || c == '\'' || c == '`' => quote = Some(c),
            None => code.push(c),
        }
    }

    let markers = [
        "_total",
        "_seconds",
        "_bytes",
        "_connections",
        "_in_flight",
        "_degraded",
        "_bucket",
        "_count",
        "_sum",
    ];
    let mut names = BTreeSet::new();
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let after_dollar = start > 0 && chars[start - 1] == '$';
            let after_digit = start > 0 && chars[start - 1].is_ascii_digit();
            if !after_dollar
                && !after_digit
                && (word == "up" || markers.iter().any(|m| word.contains(m)))
            {
                names.insert(word);
            }
        } else {
            i += 1;
        }
    }
    names
}

/// The exported metric a series name belongs to (histogram suffixes removed), if any.
fn exported_base(name: &str) -> Option<&'static str> {
    if name == "up" {
        return Some("up");
    }
    if let Some(found) = EXPORTED_METRICS.iter().find(|m| **m == name) {
        return Some(found);
    }
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = name.strip_suffix(suffix) {
            if let Some(found) = HISTOGRAMS.iter().find(|h| **h == base) {
                return Some(found);
            }
        }
    }
    None
}

fn unknown_metrics(expr: &str) -> Vec<String> {
    metric_names(expr)
        .into_iter()
        .filter(|name| exported_base(name).is_none())
        .collect()
}

#[test]
fn metric_name_extraction_finds_metrics_and_ignores_the_rest() {
    let expr = r#"histogram_quantile(0.99, sum by (le, route) (rate(http_request_duration_seconds_bucket{job="ainative", instance=~"$instance", route!~".*_total"}[$__rate_interval]))) / on() up"#;
    let names = metric_names(expr);
    assert_eq!(
        names,
        BTreeSet::from([
            "http_request_duration_seconds_bucket".to_owned(),
            "up".to_owned()
        ])
    );
    assert!(unknown_metrics(expr).is_empty());
    assert_eq!(
        unknown_metrics("sum(rate(http_request_total[5m])) + process_cpu_seconds_total"),
        vec![
            "http_request_total".to_owned(),
            "process_cpu_seconds_total".to_owned()
        ]
    );
    // Histogram suffixes only on histograms.
    assert_eq!(
        unknown_metrics("rate(http_requests_total_count[1m])"),
        vec!["http_requests_total_count".to_owned()]
    );
    assert!(unknown_metrics("rate(llm_request_duration_seconds_sum[1m])").is_empty());
}

// ---------------------------------------------------------------------------------------------
// YAML everywhere

#[test]
fn every_yaml_file_under_deploy_and_github_parses() {
    let mut files = files_under(&deploy(), &["yml", "yaml"]);
    files.extend(files_under(&root().join(".github"), &["yml", "yaml"]));
    assert!(
        files.len() >= 15,
        "expected the deploy and workflow YAML files, found {files:?}"
    );
    for file in files {
        let docs = yaml_docs(&file);
        assert!(!docs.is_empty(), "{} holds no YAML document", rel(&file));
        for doc in &docs {
            assert!(
                doc.is_mapping(),
                "{}: every document should be a mapping",
                rel(&file)
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Docker

#[test]
fn dockerfile_is_multi_stage_non_root_and_health_checked() {
    let text = read(&deploy().join("Dockerfile"));
    let instructions: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    let has = |prefix: &str| instructions.iter().any(|l| l.starts_with(prefix));
    assert!(
        has("FROM rust:${RUST_VERSION}-bookworm AS builder"),
        "builder stage on rust:<version>-bookworm"
    );
    assert!(
        has("FROM debian:bookworm-slim AS runtime"),
        "runtime stage on debian:bookworm-slim"
    );
    assert!(
        text.contains("cargo build --release --locked -p ainative-server"),
        "release build of the binary"
    );
    assert!(
        text.contains("ca-certificates"),
        "runtime installs ca-certificates"
    );
    assert!(has("USER 10001"), "runs as a non-root user");
    assert!(has("EXPOSE 8000 9100"));
    assert!(
        text.contains("HEALTHCHECK") && text.contains("/api/v1/health/live"),
        "HEALTHCHECK on /health/live"
    );
    assert!(text.contains("APP_HOST=0.0.0.0") && text.contains("APP_ENV=production"));
    assert!(has(r#"ENTRYPOINT ["ainative"]"#));
    assert!(has(r#"CMD ["serve"]"#));
    // The runtime stage is the last one, so `docker build` without --target yields it.
    let last_from = instructions
        .iter()
        .rev()
        .find(|l| l.starts_with("FROM "))
        .expect("FROM");
    assert!(
        last_from.ends_with("AS runtime"),
        "the last stage should be the runtime: {last_from}"
    );

    let ignore = read(&root().join(".dockerignore"));
    let entries: BTreeSet<&str> = ignore.lines().map(str::trim).collect();
    for required in ["target", "data", ".git", ".env"] {
        assert!(
            entries.contains(required),
            ".dockerignore should exclude {required}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Compose

fn compose_files() -> (Yaml, Yaml) {
    (
        yaml(&deploy().join("docker-compose.yml")),
        yaml(&deploy().join("docker-compose.monitoring.yml")),
    )
}

fn services(file: &Yaml) -> BTreeMap<String, Yaml> {
    file.get("services")
        .and_then(Yaml::as_mapping)
        .expect("compose file has services")
        .iter()
        .map(|(k, v)| (k.as_str().expect("service name").to_owned(), v.clone()))
        .collect()
}

fn depends_on(service: &Yaml) -> Vec<String> {
    match service.get("depends_on") {
        Some(Yaml::Sequence(list)) => list
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Some(Yaml::Mapping(map)) => map
            .keys()
            .filter_map(|k| k.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

fn env_value<'a>(service: &'a Yaml, name: &str) -> Option<&'a str> {
    match service.get("environment") {
        Some(Yaml::Mapping(map)) => map.get(name).and_then(Yaml::as_str),
        Some(Yaml::Sequence(list)) => list.iter().filter_map(Yaml::as_str).find_map(|entry| {
            entry
                .strip_prefix(name)
                .and_then(|rest| rest.strip_prefix('='))
        }),
        _ => None,
    }
}

/// Checks one compose file's volumes: named volumes are declared (in this file or `declared`),
/// relative bind mounts point at files that exist.
fn check_volumes(file_name: &str, file: &Yaml, declared: &BTreeSet<String>) {
    for (name, service) in services(file) {
        let Some(volumes) = service.get("volumes").and_then(Yaml::as_sequence) else {
            continue;
        };
        for volume in volumes {
            let source = match volume {
                Yaml::String(short) => short.split(':').next().unwrap_or_default().to_owned(),
                Yaml::Mapping(_) => s(volume, "source").unwrap_or_default().to_owned(),
                other => panic!("{file_name}: {name}: unexpected volume entry {other:?}"),
            };
            if source.starts_with("./") || source.starts_with("../") {
                let path = deploy().join(&source);
                assert!(
                    path.exists(),
                    "{file_name}: {name} mounts {source}, which does not exist"
                );
            } else if source.starts_with('/') || source.starts_with('~') {
                // Host paths (the Docker socket for promtail).
            } else {
                assert!(
                    declared.contains(&source),
                    "{file_name}: {name} uses volume {source:?}, not declared under top-level volumes"
                );
            }
        }
    }
}

#[test]
fn compose_files_are_consistent() {
    let (base, monitoring) = compose_files();
    let base_services = services(&base);
    let monitoring_services = services(&monitoring);

    // The merged project (base + monitoring overlay): every service has an image or a build.
    let all: BTreeSet<String> = base_services
        .keys()
        .chain(monitoring_services.keys())
        .cloned()
        .collect();
    for name in &all {
        let has_source = [&base_services, &monitoring_services]
            .iter()
            .filter_map(|services| services.get(name))
            .any(|svc| svc.get("image").is_some() || svc.get("build").is_some());
        assert!(has_source, "service {name} has neither image nor build");
    }
    for (file, services, known) in [
        (
            "docker-compose.yml",
            &base_services,
            base_services.keys().cloned().collect::<BTreeSet<_>>(),
        ),
        (
            "docker-compose.monitoring.yml",
            &monitoring_services,
            all.clone(),
        ),
    ] {
        for (name, service) in services {
            for target in depends_on(service) {
                assert!(
                    known.contains(&target),
                    "{file}: {name} depends on unknown service {target}"
                );
            }
        }
    }

    for required in ["api", "postgres", "redis"] {
        let service = base_services
            .get(required)
            .unwrap_or_else(|| panic!("docker-compose.yml lacks {required}"));
        let test = at(service, &["healthcheck", "test"]);
        assert!(test.is_some(), "{required} needs a healthcheck");
    }

    let api = &base_services["api"];
    assert_eq!(
        at(api, &["build", "dockerfile"]).and_then(Yaml::as_str),
        Some("deploy/Dockerfile")
    );
    for dependency in ["postgres", "redis"] {
        assert_eq!(
            at(api, &["depends_on", dependency, "condition"]).and_then(Yaml::as_str),
            Some("service_healthy"),
            "api should wait for a healthy {dependency}"
        );
    }
    let jwt = env_value(api, "JWT_SECRET_KEY").expect("api sets JWT_SECRET_KEY");
    assert!(
        jwt.starts_with("${JWT_SECRET_KEY:?"),
        "JWT_SECRET_KEY must be required from the environment, got {jwt}"
    );
    assert!(env_value(api, "DATABASE_URL")
        .is_some_and(|u| u.starts_with("postgres://") && u.contains("@postgres:5432/")));
    assert_eq!(env_value(api, "REDIS_URL"), Some("redis://redis:6379"));
    assert_eq!(env_value(api, "METRICS_ADDR"), Some("0.0.0.0:9100"));
    assert_eq!(env_value(api, "AUTO_MIGRATE"), Some("true"));
    // The metrics port is not published.
    let published: Vec<String> = api
        .get("ports")
        .and_then(Yaml::as_sequence)
        .map(|ports| {
            ports
                .iter()
                .filter_map(|p| p.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        published.iter().all(|p| !p.ends_with(":9100")),
        "the metrics listener must not be published: {published:?}"
    );

    let mut declared = mapping_keys(base.get("volumes"));
    check_volumes("docker-compose.yml", &base, &declared);
    declared.extend(mapping_keys(monitoring.get("volumes")));
    check_volumes("docker-compose.monitoring.yml", &monitoring, &declared);

    // The monitoring overlay points the API at the collector, and the collector's config exists.
    assert_eq!(
        env_value(&monitoring_services["api"], "OTEL_EXPORTER_OTLP_ENDPOINT"),
        Some("http://otel-collector:4317")
    );
    for name in [
        "prometheus",
        "alertmanager",
        "grafana",
        "otel-collector",
        "jaeger",
        "loki",
    ] {
        assert!(
            monitoring_services.contains_key(name),
            "monitoring stack lacks {name}"
        );
    }
}

/// `docker compose` (plugin) or a v2 `docker-compose` (standalone), when either works here.
fn compose_command() -> Option<Vec<String>> {
    if find_program("docker").is_some() {
        let (ok, _) = run(Command::new("docker").args(["compose", "version"]));
        if ok {
            return Some(vec!["docker".into(), "compose".into()]);
        }
    }
    if find_program("docker-compose").is_some() {
        // Compose v1 (1.x) predates the Compose Specification these files use (`name:`, no
        // `version:`); only a v2 standalone binary can judge them.
        let (ok, out) = run(Command::new("docker-compose").arg("version"));
        if ok && !out.contains("version 1.") {
            return Some(vec!["docker-compose".into()]);
        }
    }
    None
}

#[test]
#[cfg_attr(
    not(has_compose),
    ignore = "no `docker compose` v2 on PATH when built (tests/build.rs); the structural checks \
              of compose_files_are_consistent still ran"
)]
fn compose_config_is_accepted_by_docker_compose() {
    let compose = compose_command()
        .expect("`docker compose` (v2) was found when the tests were built, but does not answer");
    let deploy = deploy();
    for files in [
        vec!["docker-compose.yml"],
        vec!["docker-compose.yml", "docker-compose.monitoring.yml"],
    ] {
        let mut command = Command::new(&compose[0]);
        command.args(&compose[1..]).current_dir(&deploy);
        for file in &files {
            command.args(["-f", file]);
        }
        command
            .args(["config", "-q"])
            .env(
                "JWT_SECRET_KEY",
                "test-only-secret-that-is-at-least-32-bytes-long",
            )
            .env(
                "API_KEY_PEPPER",
                "test-only-pepper-that-is-at-least-32-bytes-long",
            );
        let (ok, output) = run(&mut command);
        assert!(
            ok,
            "{} config -q failed for {files:?}:\n{output}",
            compose.join(" ")
        );
    }
    // Without JWT_SECRET_KEY the project refuses to render.
    let mut command = Command::new(&compose[0]);
    command
        .args(&compose[1..])
        .current_dir(&deploy)
        .args(["-f", "docker-compose.yml", "config", "-q"])
        .env_remove("JWT_SECRET_KEY");
    let (ok, _) = run(&mut command);
    assert!(!ok, "compose should refuse to start without JWT_SECRET_KEY");
}

// ---------------------------------------------------------------------------------------------
// Prometheus, Alertmanager

#[test]
fn prometheus_config_and_rules_pass_promtool() {
    let promtool = promtool();
    let dir = deploy().join("prometheus");
    for args in [
        vec!["check", "config", "prometheus.yml"],
        vec!["check", "rules", "alerts.yml"],
        vec!["test", "rules", "alerts_test.yml"],
    ] {
        let (ok, output) = run(Command::new(&promtool).args(&args).current_dir(&dir));
        assert!(ok, "promtool {} failed:\n{output}", args.join(" "));
    }
}

#[test]
fn prometheus_scrapes_the_metrics_listener() {
    let config = yaml(&deploy().join("prometheus/prometheus.yml"));
    let jobs = config
        .get("scrape_configs")
        .and_then(Yaml::as_sequence)
        .expect("scrape_configs");
    let job = jobs
        .iter()
        .find(|j| s(j, "job_name") == Some("ainative"))
        .expect("a scrape job named ainative (the alerts select job=\"ainative\")");
    let targets: Vec<&str> = job
        .get("static_configs")
        .and_then(Yaml::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("targets").and_then(Yaml::as_sequence))
        .flatten()
        .filter_map(Yaml::as_str)
        .collect();
    assert_eq!(targets, vec!["api:9100"]);
    let rule_files = config
        .get("rule_files")
        .and_then(Yaml::as_sequence)
        .expect("rule_files");
    for file in rule_files.iter().filter_map(Yaml::as_str) {
        assert!(
            deploy().join("prometheus").join(file).is_file(),
            "rule file {file} does not exist"
        );
    }
}

/// The GitHub-style anchor of a Markdown heading.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            'a'..='z' | '0'..='9' | '-' | '_' => Some(c),
            ' ' => Some('-'),
            _ => None,
        })
        .collect()
}

#[test]
fn alerts_are_complete_use_exported_metrics_and_have_runbooks() {
    let rules = yaml(&deploy().join("prometheus/alerts.yml"));
    let operations = read(&root().join("docs/operations.md"));
    let anchors: BTreeSet<String> = operations
        .lines()
        .filter_map(|l| l.strip_prefix("### "))
        .map(slug)
        .collect();
    assert!(
        operations.lines().any(|l| l.trim() == "## Runbooks"),
        "docs/operations.md should have a \"## Runbooks\" section"
    );

    let mut seen = BTreeSet::new();
    for group in rules
        .get("groups")
        .and_then(Yaml::as_sequence)
        .expect("groups")
    {
        for rule in group
            .get("rules")
            .and_then(Yaml::as_sequence)
            .expect("rules")
        {
            let expr = s(rule, "expr").expect("expr");
            let name = s(rule, "alert")
                .or_else(|| s(rule, "record"))
                .expect("alert or record")
                .to_owned();
            let unknown = unknown_metrics(expr);
            assert!(
                unknown.is_empty(),
                "rule {name} uses metrics the service does not export: {unknown:?}"
            );
            if s(rule, "alert").is_none() {
                continue;
            }
            for key in ["summary", "description", "runbook_url"] {
                assert!(
                    at(rule, &["annotations", key])
                        .and_then(Yaml::as_str)
                        .is_some_and(|v| !v.trim().is_empty()),
                    "alert {name} lacks annotation {key}"
                );
            }
            assert!(
                at(rule, &["labels", "severity"]).is_some(),
                "alert {name} lacks a severity label"
            );
            let url = at(rule, &["annotations", "runbook_url"])
                .and_then(Yaml::as_str)
                .unwrap_or_default();
            let (doc, anchor) = url
                .split_once('#')
                .unwrap_or_else(|| panic!("alert {name}: runbook_url {url} has no anchor"));
            assert!(
                doc.ends_with("docs/operations.md"),
                "alert {name}: runbook_url should point to docs/operations.md, got {url}"
            );
            assert_eq!(
                anchor,
                slug(&name),
                "alert {name}: the anchor should be the alert's heading"
            );
            assert!(
                anchors.contains(anchor),
                "docs/operations.md has no \"### {name}\" runbook (anchor #{anchor})"
            );
            seen.insert(name);
        }
    }
    for required in REQUIRED_ALERTS {
        assert!(
            seen.contains(*required),
            "alerts.yml lacks alert {required}"
        );
    }
}

#[test]
fn alertmanager_config_is_valid() {
    let config = yaml(&deploy().join("alertmanager/alertmanager.yml"));
    let receivers: BTreeSet<String> = config
        .get("receivers")
        .and_then(Yaml::as_sequence)
        .expect("receivers")
        .iter()
        .filter_map(|r| s(r, "name").map(str::to_owned))
        .collect();
    let default = at(&config, &["route", "receiver"])
        .and_then(Yaml::as_str)
        .expect("route.receiver");
    assert!(receivers.contains(default));
    for route in at(&config, &["route", "routes"])
        .and_then(Yaml::as_sequence)
        .into_iter()
        .flatten()
    {
        let receiver = s(route, "receiver").expect("route receiver");
        assert!(
            receivers.contains(receiver),
            "route to unknown receiver {receiver}"
        );
    }
    let amtool = find_program("amtool").unwrap_or_else(|| panic!("{AMTOOL_MISSING}"));
    let path = deploy().join("alertmanager/alertmanager.yml");
    let (ok, output) = run(Command::new(amtool).arg("check-config").arg(&path));
    assert!(ok, "amtool check-config failed:\n{output}");
}

// ---------------------------------------------------------------------------------------------
// Grafana

fn dashboards() -> Vec<(PathBuf, Json)> {
    let files = files_under(&deploy().join("grafana/dashboards"), &["json"]);
    assert!(
        !files.is_empty(),
        "no dashboards under deploy/grafana/dashboards"
    );
    files
        .into_iter()
        .map(|f| {
            let j = json(&f);
            (f, j)
        })
        .collect()
}

/// Every value of a key named `key`, anywhere in `value`.
fn collect_strings<'a>(value: &'a Json, key: &str, out: &mut Vec<&'a str>) {
    match value {
        Json::Object(map) => {
            for (k, v) in map {
                if k == key {
                    if let Some(text) = v.as_str() {
                        out.push(text);
                    }
                }
                collect_strings(v, key, out);
            }
        }
        Json::Array(items) => items.iter().for_each(|v| collect_strings(v, key, out)),
        _ => {}
    }
}

fn all_panels(dashboard: &Json) -> Vec<&Json> {
    let mut out = Vec::new();
    for panel in dashboard["panels"].as_array().into_iter().flatten() {
        out.push(panel);
        out.extend(panel["panels"].as_array().into_iter().flatten());
    }
    out
}

#[test]
fn dashboards_are_valid_and_use_only_exported_metrics() {
    let provisioned = yaml(&deploy().join("grafana/provisioning/datasources/datasources.yml"));
    let datasource_uids: BTreeSet<String> = provisioned
        .get("datasources")
        .and_then(Yaml::as_sequence)
        .expect("datasources")
        .iter()
        .filter_map(|d| s(d, "uid").map(str::to_owned))
        .collect();

    let mut uids = BTreeSet::new();
    let mut used = BTreeSet::new();
    for (file, dashboard) in dashboards() {
        let name = rel(&file);
        let uid = dashboard["uid"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: no uid"));
        assert!(uids.insert(uid.to_owned()), "{name}: uid {uid} used twice");
        assert!(
            dashboard["title"].as_str().is_some_and(|t| !t.is_empty()),
            "{name}: no title"
        );
        let schema = dashboard["schemaVersion"].as_u64().unwrap_or_default();
        assert!(
            (36..=41).contains(&schema),
            "{name}: schemaVersion {schema}, expected about 39"
        );

        let mut ids = BTreeSet::new();
        for panel in all_panels(&dashboard) {
            let id = panel["id"]
                .as_u64()
                .unwrap_or_else(|| panic!("{name}: a panel has no id"));
            assert!(ids.insert(id), "{name}: panel id {id} used twice");
            assert!(
                panel["gridPos"].is_object(),
                "{name}: panel {id} has no gridPos"
            );
            if panel["type"] == "row" {
                continue;
            }
            let targets = panel["targets"]
                .as_array()
                .unwrap_or_else(|| panic!("{name}: panel {id} has no targets"));
            assert!(!targets.is_empty(), "{name}: panel {id} has no targets");
            for target in targets {
                assert!(
                    target["expr"]
                        .as_str()
                        .is_some_and(|e| !e.trim().is_empty()),
                    "{name}: panel {id} has a target without expr"
                );
            }
        }

        let mut datasources = Vec::new();
        for panel in all_panels(&dashboard) {
            if let Some(uid) = panel["datasource"]["uid"].as_str() {
                datasources.push(uid);
            }
        }
        for ds in datasources {
            assert!(
                datasource_uids.contains(ds),
                "{name}: data source uid {ds} is not provisioned"
            );
        }

        let mut exprs = Vec::new();
        collect_strings(&dashboard, "expr", &mut exprs);
        collect_strings(&dashboard, "definition", &mut exprs);
        for expr in exprs {
            let unknown = unknown_metrics(expr);
            assert!(
                unknown.is_empty(),
                "{name}: {unknown:?} are not exported metrics, in: {expr}"
            );
            used.extend(metric_names(expr).iter().filter_map(|n| exported_base(n)));
        }
    }
    // Every exported series is on some dashboard.
    for metric in EXPORTED_METRICS {
        assert!(used.contains(metric), "no dashboard shows {metric}");
    }
}

#[test]
fn dashboard_queries_are_valid_promql() {
    let promtool = promtool();
    let mut rules = String::from("groups:\n  - name: dashboard-queries\n    rules:\n");
    let mut count = 0;
    for (file, dashboard) in dashboards() {
        let mut exprs = Vec::new();
        collect_strings(&dashboard, "expr", &mut exprs);
        for expr in exprs {
            // Grafana's variables, replaced by values of the kind Grafana substitutes.
            let promql = expr
                .replace("$__rate_interval", "1m")
                .replace("$__interval", "1m")
                .replace("$__range", "1h")
                .replace("$instance", ".*");
            count += 1;
            rules.push_str(&format!(
                "      - record: dashboard:query_{count}\n        # {}\n        expr: {}\n",
                rel(&file),
                serde_json::to_string(&promql).expect("string")
            ));
        }
    }
    let dir = scratch_dir("promql");
    let path = dir.join("dashboard_queries.yml");
    fs::write(&path, &rules).expect("write rules");
    let (ok, output) = run(Command::new(&promtool).args(["check", "rules"]).arg(&path));
    let _ = fs::remove_dir_all(&dir);
    assert!(ok, "a dashboard query is not valid PromQL:\n{output}");
    assert!(
        count > 20,
        "expected the dashboards' queries, found {count}"
    );
}

#[test]
fn grafana_provisioning_matches_the_compose_mounts() {
    let datasources = yaml(&deploy().join("grafana/provisioning/datasources/datasources.yml"));
    let types: BTreeSet<String> = datasources
        .get("datasources")
        .and_then(Yaml::as_sequence)
        .expect("datasources")
        .iter()
        .filter_map(|d| s(d, "type").map(str::to_owned))
        .collect();
    for required in ["prometheus", "loki", "jaeger"] {
        assert!(types.contains(required), "no {required} data source");
    }

    let providers = yaml(&deploy().join("grafana/provisioning/dashboards/dashboards.yml"));
    let path = providers
        .get("providers")
        .and_then(Yaml::as_sequence)
        .and_then(|p| p.first())
        .and_then(|p| at(p, &["options", "path"]))
        .and_then(Yaml::as_str)
        .expect("providers[0].options.path")
        .to_owned();
    let (_, monitoring) = compose_files();
    let grafana = &services(&monitoring)["grafana"];
    let mounts: Vec<&str> = grafana
        .get("volumes")
        .and_then(Yaml::as_sequence)
        .expect("volumes")
        .iter()
        .filter_map(Yaml::as_str)
        .collect();
    assert!(
        mounts
            .iter()
            .any(|m| m.starts_with("./grafana/dashboards:") && m.contains(&format!(":{path}"))),
        "grafana should mount ./grafana/dashboards at {path}: {mounts:?}"
    );
    assert!(mounts
        .iter()
        .any(|m| m.starts_with("./grafana/provisioning:/etc/grafana/provisioning")));
}

// ---------------------------------------------------------------------------------------------
// OpenTelemetry collector

#[test]
fn otel_collector_pipelines_reference_defined_components() {
    let config = yaml(&deploy().join("otel/collector.yml"));
    let receivers = mapping_keys(config.get("receivers"));
    let processors = mapping_keys(config.get("processors"));
    let exporters = mapping_keys(config.get("exporters"));
    assert_eq!(
        at(
            &config,
            &["receivers", "otlp", "protocols", "grpc", "endpoint"]
        )
        .and_then(Yaml::as_str),
        Some("0.0.0.0:4317")
    );
    assert_eq!(
        at(
            &config,
            &["receivers", "otlp", "protocols", "http", "endpoint"]
        )
        .and_then(Yaml::as_str),
        Some("0.0.0.0:4318")
    );
    let pipelines = at(&config, &["service", "pipelines"])
        .and_then(Yaml::as_mapping)
        .expect("service.pipelines");
    assert!(pipelines.contains_key("traces"), "a traces pipeline");
    for (name, pipeline) in pipelines {
        let name = name.as_str().unwrap_or_default();
        for (kind, defined) in [
            ("receivers", &receivers),
            ("processors", &processors),
            ("exporters", &exporters),
        ] {
            for component in pipeline
                .get(kind)
                .and_then(Yaml::as_sequence)
                .into_iter()
                .flatten()
            {
                let component = component.as_str().unwrap_or_default();
                assert!(
                    defined.contains(component),
                    "pipeline {name} uses undefined {kind} {component}"
                );
            }
        }
    }
    let traces_to = at(&config, &["service", "pipelines", "traces", "exporters"])
        .and_then(Yaml::as_sequence)
        .expect("traces exporters");
    assert!(
        traces_to.iter().filter_map(Yaml::as_str).any(|e| at(
            &config,
            &["exporters", e, "endpoint"]
        )
        .and_then(Yaml::as_str)
            == Some("jaeger:4317")),
        "traces should be exported to jaeger:4317"
    );
}

// ---------------------------------------------------------------------------------------------
// Kubernetes

fn k8s_docs() -> Vec<(String, Yaml)> {
    let dir = deploy().join("k8s");
    let mut out = Vec::new();
    for file in files_under(&dir, &["yaml", "yml"]) {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        if name == "kustomization.yaml" {
            continue;
        }
        for doc in yaml_docs(&file) {
            out.push((name.clone(), doc));
        }
    }
    out
}

fn find_kind<'a>(docs: &'a [(String, Yaml)], kind: &str) -> &'a Yaml {
    docs.iter()
        .find(|(_, d)| s(d, "kind") == Some(kind))
        .map(|(_, d)| d)
        .unwrap_or_else(|| panic!("no {kind} in deploy/k8s"))
}

fn check_hardened_pod(what: &str, pod_spec: &Yaml) {
    assert_eq!(
        at(pod_spec, &["securityContext", "runAsNonRoot"]).and_then(Yaml::as_bool),
        Some(true),
        "{what}: runAsNonRoot"
    );
    for container in pod_spec
        .get("containers")
        .and_then(Yaml::as_sequence)
        .expect("containers")
    {
        let ctx = container
            .get("securityContext")
            .unwrap_or_else(|| panic!("{what}: container securityContext"));
        assert_eq!(
            ctx.get("readOnlyRootFilesystem").and_then(Yaml::as_bool),
            Some(true),
            "{what}: readOnlyRootFilesystem"
        );
        assert_eq!(
            ctx.get("allowPrivilegeEscalation").and_then(Yaml::as_bool),
            Some(false),
            "{what}: allowPrivilegeEscalation"
        );
        let drops: Vec<&str> = at(ctx, &["capabilities", "drop"])
            .and_then(Yaml::as_sequence)
            .into_iter()
            .flatten()
            .filter_map(Yaml::as_str)
            .collect();
        assert_eq!(drops, vec!["ALL"], "{what}: drop ALL capabilities");
        assert!(
            at(container, &["resources", "requests"]).is_some()
                && at(container, &["resources", "limits"]).is_some(),
            "{what}: resources"
        );
        let env_from: Vec<&str> = container
            .get("envFrom")
            .and_then(Yaml::as_sequence)
            .into_iter()
            .flatten()
            .filter_map(|e| {
                at(e, &["configMapRef", "name"])
                    .or_else(|| at(e, &["secretRef", "name"]))
                    .and_then(Yaml::as_str)
            })
            .collect();
        assert_eq!(
            env_from,
            vec!["ainative-config", "ainative-secrets"],
            "{what}: envFrom"
        );
    }
}

#[test]
fn kubernetes_manifests_are_complete_and_consistent() {
    let docs = k8s_docs();
    for (file, doc) in &docs {
        assert!(
            s(doc, "apiVersion").is_some(),
            "{file}: a document without apiVersion"
        );
        assert!(s(doc, "kind").is_some(), "{file}: a document without kind");
        assert!(
            at(doc, &["metadata", "name"])
                .and_then(Yaml::as_str)
                .is_some(),
            "{file}: a document without metadata.name"
        );
    }

    // kustomization: lists every manifest but the placeholder Secret; listed files exist.
    let kustomization = yaml(&deploy().join("k8s/kustomization.yaml"));
    let resources: BTreeSet<String> = kustomization
        .get("resources")
        .and_then(Yaml::as_sequence)
        .expect("resources")
        .iter()
        .filter_map(|r| r.as_str().map(str::to_owned))
        .collect();
    let on_disk: BTreeSet<String> = docs.iter().map(|(f, _)| f.clone()).collect();
    for resource in &resources {
        assert!(
            on_disk.contains(resource),
            "kustomization lists {resource}, which does not exist"
        );
    }
    for file in &on_disk {
        if file.contains("example") {
            assert!(
                !resources.contains(file),
                "{file} holds placeholders and must not be applied by kustomize"
            );
        } else {
            assert!(
                resources.contains(file),
                "{file} is not listed in kustomization.yaml"
            );
        }
    }
    let secret = find_kind(&docs, "Secret");
    assert_eq!(
        at(secret, &["metadata", "name"]).and_then(Yaml::as_str),
        Some("ainative-secrets")
    );
    let secret_text = read(&deploy().join("k8s/secret.example.yaml"));
    assert!(
        secret_text.contains("PLACEHOLDER") && secret_text.contains("CHANGE-ME"),
        "the example Secret should be clearly marked"
    );

    let config = find_kind(&docs, "ConfigMap");
    assert_eq!(
        at(config, &["data", "AUTO_MIGRATE"]).and_then(Yaml::as_str),
        Some("false")
    );
    assert_eq!(
        at(config, &["data", "APP_ENV"]).and_then(Yaml::as_str),
        Some("production")
    );
    assert_eq!(
        at(config, &["data", "METRICS_ADDR"]).and_then(Yaml::as_str),
        Some("0.0.0.0:9100")
    );
    let shutdown: u64 = at(config, &["data", "SHUTDOWN_TIMEOUT_SECS"])
        .and_then(Yaml::as_str)
        .unwrap_or("30")
        .parse()
        .expect("SHUTDOWN_TIMEOUT_SECS");
    for key in mapping_keys(config.get("data")) {
        assert!(
            !["JWT_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "LLM_API_KEY"].contains(&key.as_str()),
            "{key} is a secret and belongs in the Secret, not the ConfigMap"
        );
    }

    let deployment = find_kind(&docs, "Deployment");
    assert_eq!(
        at(deployment, &["spec", "replicas"]).and_then(Yaml::as_u64),
        Some(3)
    );
    let selector = at(deployment, &["spec", "selector", "matchLabels"])
        .and_then(Yaml::as_mapping)
        .expect("selector");
    let pod_labels = at(deployment, &["spec", "template", "metadata", "labels"])
        .and_then(Yaml::as_mapping)
        .expect("pod labels");
    for (k, v) in selector {
        assert_eq!(
            pod_labels.get(k),
            Some(v),
            "the selector must match the pod labels"
        );
    }
    let annotations =
        at(deployment, &["spec", "template", "metadata", "annotations"]).expect("pod annotations");
    assert_eq!(s(annotations, "prometheus.io/scrape"), Some("true"));
    assert_eq!(s(annotations, "prometheus.io/port"), Some("9100"));
    let pod = at(deployment, &["spec", "template", "spec"]).expect("pod spec");
    let grace = pod
        .get("terminationGracePeriodSeconds")
        .and_then(Yaml::as_u64)
        .expect("terminationGracePeriodSeconds");
    assert!(
        grace > shutdown,
        "terminationGracePeriodSeconds ({grace}) must exceed SHUTDOWN_TIMEOUT_SECS ({shutdown})"
    );
    check_hardened_pod("Deployment", pod);
    let container = &pod["containers"][0];
    for (probe, path) in [
        ("livenessProbe", "/api/v1/health/live"),
        ("readinessProbe", "/api/v1/health/ready"),
        ("startupProbe", "/api/v1/health/live"),
    ] {
        assert_eq!(
            at(container, &[probe, "httpGet", "path"]).and_then(Yaml::as_str),
            Some(path),
            "{probe}"
        );
    }
    let ports: BTreeSet<u64> = container["ports"]
        .as_sequence()
        .expect("ports")
        .iter()
        .filter_map(|p| p.get("containerPort").and_then(Yaml::as_u64))
        .collect();
    assert_eq!(ports, BTreeSet::from([8000, 9100]));

    let service = find_kind(&docs, "Service");
    for (k, v) in at(service, &["spec", "selector"])
        .and_then(Yaml::as_mapping)
        .expect("service selector")
    {
        assert_eq!(
            pod_labels.get(k),
            Some(v),
            "the Service selector must match the pods"
        );
    }

    let hpa = find_kind(&docs, "HorizontalPodAutoscaler");
    assert_eq!(s(hpa, "apiVersion"), Some("autoscaling/v2"));
    assert_eq!(
        at(hpa, &["spec", "scaleTargetRef", "name"]).and_then(Yaml::as_str),
        at(deployment, &["metadata", "name"]).and_then(Yaml::as_str)
    );
    let metric = &at(hpa, &["spec", "metrics"])
        .and_then(Yaml::as_sequence)
        .expect("metrics")[0];
    assert_eq!(
        at(metric, &["resource", "name"]).and_then(Yaml::as_str),
        Some("cpu")
    );

    let pdb = find_kind(&docs, "PodDisruptionBudget");
    assert_eq!(s(pdb, "apiVersion"), Some("policy/v1"));
    assert_eq!(
        at(pdb, &["spec", "minAvailable"]).and_then(Yaml::as_u64),
        Some(2)
    );
    for (k, v) in at(pdb, &["spec", "selector", "matchLabels"])
        .and_then(Yaml::as_mapping)
        .expect("pdb selector")
    {
        assert_eq!(
            pod_labels.get(k),
            Some(v),
            "the PodDisruptionBudget selector must match the pods"
        );
    }

    let job = find_kind(&docs, "Job");
    let job_pod = at(job, &["spec", "template", "spec"]).expect("job pod spec");
    let args: Vec<&str> = job_pod["containers"][0]["args"]
        .as_sequence()
        .expect("args")
        .iter()
        .filter_map(Yaml::as_str)
        .collect();
    assert_eq!(args, vec!["migrate", "up"]);
    check_hardened_pod("migration Job", job_pod);
}

#[test]
#[cfg_attr(
    not(has_kubectl),
    ignore = "no kubectl on PATH when built (tests/build.rs); the manifests were checked \
              structurally by kubernetes_manifests_are_complete_and_consistent"
)]
fn kustomize_builds() {
    let kubectl = find_program("kubectl")
        .expect("kubectl was found when the tests were built, but is not on PATH now");
    let (ok, output) = run(Command::new(kubectl)
        .arg("kustomize")
        .arg(deploy().join("k8s")));
    assert!(ok, "kubectl kustomize deploy/k8s failed:\n{output}");
    assert!(output.contains("kind: Deployment") && output.contains("namespace: ainative"));
    assert!(
        !output.contains("kind: Secret"),
        "kustomize must not render the placeholder Secret"
    );
}

// ---------------------------------------------------------------------------------------------
// GitHub Actions

fn jobs(workflow: &Yaml) -> BTreeMap<String, Yaml> {
    workflow
        .get("jobs")
        .and_then(Yaml::as_mapping)
        .expect("jobs")
        .iter()
        .map(|(k, v)| (k.as_str().expect("job id").to_owned(), v.clone()))
        .collect()
}

fn run_scripts(job: &Yaml) -> String {
    job.get("steps")
        .and_then(Yaml::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(|step| s(step, "run"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn uses(job: &Yaml) -> Vec<String> {
    job.get("steps")
        .and_then(Yaml::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(|step| s(step, "uses").map(str::to_owned))
        .collect()
}

#[test]
fn ci_workflow_runs_every_gate() {
    let workflow = yaml(&root().join(".github/workflows/ci.yml"));
    let on = workflow.get("on").expect("on");
    assert!(
        on.get("push").is_some() && on.get("pull_request").is_some(),
        "CI runs on push and pull_request"
    );
    let jobs = jobs(&workflow);
    for required in ["fmt", "clippy", "test", "audit", "coverage", "docker"] {
        assert!(jobs.contains_key(required), "ci.yml lacks job {required}");
    }
    assert!(run_scripts(&jobs["fmt"]).contains("cargo fmt --all -- --check"));
    assert!(run_scripts(&jobs["clippy"]).contains("-D warnings"));
    assert!(run_scripts(&jobs["test"]).contains("make test"));
    assert!(run_scripts(&jobs["coverage"]).contains("--fail-under-lines 70"));
    for job in ["test", "coverage"] {
        let services = mapping_keys(jobs[job].get("services"));
        assert_eq!(
            services,
            BTreeSet::from(["postgres".to_owned(), "redis".to_owned()]),
            "{job} services"
        );
        assert_eq!(
            at(&jobs[job], &["services", "postgres", "image"]).and_then(Yaml::as_str),
            Some("postgres:16")
        );
        assert_eq!(
            at(
                &jobs[job],
                &["services", "postgres", "env", "POSTGRES_HOST_AUTH_METHOD"]
            )
            .and_then(Yaml::as_str),
            Some("trust")
        );
        let scripts = run_scripts(&jobs[job]);
        assert!(
            scripts.contains("redis-server") && scripts.contains("prometheus"),
            "{job} installs redis-server and promtool"
        );
    }
    for job in ["clippy", "test", "coverage"] {
        assert!(
            uses(&jobs[job])
                .iter()
                .any(|u| u.starts_with("Swatinem/rust-cache@")),
            "{job} uses Swatinem/rust-cache"
        );
    }
    let docker = uses(&jobs["docker"]);
    assert!(docker
        .iter()
        .any(|u| u.starts_with("docker/build-push-action@")));
    let build = jobs["docker"]["steps"]
        .as_sequence()
        .expect("steps")
        .iter()
        .find(|s| {
            s.get("uses")
                .and_then(Yaml::as_str)
                .is_some_and(|u| u.starts_with("docker/build-push-action@"))
        })
        .expect("build step");
    assert_eq!(
        at(build, &["with", "push"]).and_then(Yaml::as_bool),
        Some(false)
    );
    assert_eq!(
        at(build, &["with", "file"]).and_then(Yaml::as_str),
        Some("deploy/Dockerfile")
    );
}

#[test]
fn cd_workflow_pushes_on_tags_and_deploys_to_staging() {
    let workflow = yaml(&root().join(".github/workflows/cd.yml"));
    let tags: Vec<&str> = at(&workflow, &["on", "push", "tags"])
        .and_then(Yaml::as_sequence)
        .expect("on.push.tags")
        .iter()
        .filter_map(Yaml::as_str)
        .collect();
    assert_eq!(tags, vec!["v*"]);
    let jobs = jobs(&workflow);
    let image = jobs
        .values()
        .find(|j| {
            uses(j)
                .iter()
                .any(|u| u.starts_with("docker/build-push-action@"))
        })
        .expect("an image job");
    assert!(uses(image)
        .iter()
        .any(|u| u.starts_with("docker/metadata-action@")));
    assert_eq!(
        at(image, &["permissions", "packages"]).and_then(Yaml::as_str),
        Some("write")
    );
    let deploy = jobs.get("deploy-staging").expect("deploy-staging job");
    assert_eq!(s(deploy, "environment"), Some("staging"));
    let scripts = run_scripts(deploy);
    assert!(scripts.contains("kubectl apply -k deploy/k8s"));
    assert!(scripts.contains("kustomize edit set image"));
    let text = read(&root().join(".github/workflows/cd.yml"));
    assert!(
        text.contains("secrets.KUBECONFIG"),
        "the deploy job reads the KUBECONFIG secret"
    );
}

#[test]
fn workflow_actions_are_pinned_to_versions() {
    for file in files_under(&root().join(".github/workflows"), &["yml", "yaml"]) {
        let workflow = yaml(&file);
        for (name, job) in jobs(&workflow) {
            for action in uses(&job) {
                let (_, version) = action
                    .split_once('@')
                    .unwrap_or_else(|| panic!("{}: {name}: {action} is not pinned", rel(&file)));
                assert!(
                    !version.is_empty() && version != "main" && version != "master",
                    "{}: {name}: {action} should be pinned",
                    rel(&file)
                );
            }
        }
    }
}
