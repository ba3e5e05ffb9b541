use std::collections::HashMap;
use std::path::PathBuf;

use super::table::{Fallback, Kind, Name};
use super::*;

mod docs_tests;
mod table_tests;
mod typo_tests;

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ainative-settings-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn env_of(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn load(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
    let dir = temp_dir();
    Settings::from_layers(env_of(pairs), &dir.join("config"), &dir.join("data"))
}

fn resolve(pairs: &[(&str, &str)]) -> (Result<Settings, SettingsError>, Vec<ConfigWarning>) {
    let dir = temp_dir();
    Settings::resolve(env_of(pairs), &dir.join("config"), &dir.join("data"))
}

/// The variables named by an error, in order.
fn named(err: &SettingsError) -> Vec<&str> {
    err.problems().iter().filter_map(|p| p.var()).collect()
}

const SECRET: &str = "0123456789abcdef0123456789abcdef";

#[test]
fn embedded_defaults_with_a_generated_secret() {
    let s = load(&[]).unwrap();
    assert_eq!(s.env, AppEnv::Development);
    assert_eq!((s.host.as_str(), s.port), ("127.0.0.1", 8000));
    assert!(s.database.is_sqlite());
    assert!(s.auto_migrate);
    assert!(s.redis.is_none());
    // New installs sign with EdDSA, a key generated into the data directory.
    assert_eq!(s.jwt.algorithm, ainative_auth::SigningAlgorithm::EdDsa);
    assert!(
        matches!(&s.jwt.source, SecretSource::DevelopmentFile(p) if p.ends_with("jwt_eddsa.pem")),
        "{:?}",
        s.jwt.source
    );
    let key = s.jwt.signing_key.as_ref().expect("a generated key");
    assert_eq!(key.algorithm(), ainative_auth::SigningAlgorithm::EdDsa);
    #[cfg(unix)]
    if let SecretSource::DevelopmentFile(path) = &s.jwt.source {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the key file is private");
    }
    assert_eq!(s.rate_limits.admin, 0);
    assert_eq!(s.log_format, LogFormat::Pretty);
    assert_eq!(s.jwt.access_ttl, Duration::from_secs(30 * 60));
    assert_eq!(s.jwt.refresh_ttl, Duration::from_secs(7 * 86_400));
    assert!(s.admin_password.is_none());
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[test]
fn the_development_secret_is_kept_across_starts() {
    let dir = temp_dir();
    let hs256 = || env_of(&[("JWT_ALGORITHM", "HS256")]);
    let a = Settings::from_layers(hs256(), &dir, &dir).unwrap();
    let b = Settings::from_layers(hs256(), &dir, &dir).unwrap();
    assert!(a.jwt.secret.expose_secret().len() >= 32);
    assert_eq!(a.jwt.secret.expose_secret(), b.jwt.secret.expose_secret());
    let a = Settings::from_layers(HashMap::new(), &dir, &dir).unwrap();
    let b = Settings::from_layers(HashMap::new(), &dir, &dir).unwrap();
    let kid = |s: &Settings| s.jwt.signing_key.as_ref().unwrap().kid().to_owned();
    assert_eq!(kid(&a), kid(&b), "the development key is kept");
}

#[test]
fn production_refuses_missing_or_short_secrets_and_sqlite() {
    let err = load(&[
        ("APP_ENV", "production"),
        ("JWT_ALGORITHM", "HS256"),
        ("API_KEY_PEPPER", SECRET),
        ("DATABASE_URL", "postgres://db/x"),
        ("CREDENTIALS_ENCRYPTION_KEY", CREDENTIALS_KEY),
    ])
    .unwrap_err();
    assert!(err.to_string().starts_with("JWT_SECRET_KEY"), "{err}");
    let err = load(&[
        ("APP_ENV", "production"),
        ("JWT_ALGORITHM", "HS256"),
        ("JWT_SECRET_KEY", "short"),
        ("API_KEY_PEPPER", SECRET),
        ("DATABASE_URL", "postgres://db/x"),
        ("CREDENTIALS_ENCRYPTION_KEY", CREDENTIALS_KEY),
    ])
    .unwrap_err();
    assert!(err.to_string().starts_with("JWT_SECRET_KEY"), "{err}");
    assert!(
        !err.to_string().contains("short"),
        "the secret is echoed: {err}"
    );
    let err = load(&[
        ("APP_ENV", "production"),
        ("JWT_ALGORITHM", "HS256"),
        ("JWT_SECRET_KEY", SECRET),
        ("CREDENTIALS_ENCRYPTION_KEY", CREDENTIALS_KEY),
        ("API_KEY_PEPPER", SECRET),
    ])
    .unwrap_err();
    assert!(err.to_string().starts_with("DATABASE_URL"), "{err}");
    let ok = load(&[
        ("APP_ENV", "production"),
        ("JWT_ALGORITHM", "HS256"),
        ("JWT_SECRET_KEY", SECRET),
        ("CREDENTIALS_ENCRYPTION_KEY", CREDENTIALS_KEY),
        ("API_KEY_PEPPER", SECRET),
        ("ALLOW_SQLITE_IN_PRODUCTION", "true"),
    ])
    .unwrap();
    assert!(!ok.auto_migrate, "production does not migrate by default");
    assert_eq!(ok.log_format, LogFormat::Json);
}

/// Base64 of 32 bytes.
const CREDENTIALS_KEY: &str = "Y3JlZGVudGlhbHMta2V5LWZvci10ZXN0cy0wMTIzNDU=";

#[test]
fn credential_keys_are_checked_and_generated_outside_production() {
    let err = load(&[("CREDENTIALS_ENCRYPTION_KEY", "c2hvcnQ=")]).unwrap_err();
    assert_eq!(named(&err), ["CREDENTIALS_ENCRYPTION_KEY"], "{err}");
    assert!(
        !err.to_string().contains("c2hvcnQ="),
        "the key is echoed: {err}"
    );
    let err = load(&[
        ("JWT_SECRET_KEY", CREDENTIALS_KEY),
        ("CREDENTIALS_ENCRYPTION_KEY", CREDENTIALS_KEY),
    ])
    .unwrap_err();
    assert!(
        err.to_string().contains("must not be the JWT secret"),
        "{err}"
    );
    let err = load(&[(
        "CREDENTIALS_PREVIOUS_KEYS",
        &format!("{CREDENTIALS_KEY},bad"),
    )])
    .unwrap_err();
    assert_eq!(named(&err), ["CREDENTIALS_PREVIOUS_KEYS"], "{err}");
    assert!(!err.to_string().contains(CREDENTIALS_KEY), "{err}");

    let dir = temp_dir();
    let a = Settings::from_layers(HashMap::new(), &dir, &dir).unwrap();
    let b = Settings::from_layers(HashMap::new(), &dir, &dir).unwrap();
    assert_eq!(
        a.credentials.key.expose_secret(),
        b.credentials.key.expose_secret()
    );
    assert!(matches!(
        a.credentials.source,
        SecretSource::DevelopmentFile(_)
    ));
    let shown = a.describe();
    assert!(
        !shown.contains(a.credentials.key.expose_secret()),
        "{shown}"
    );
    let line = shown
        .lines()
        .find(|l| l.starts_with("CREDENTIALS_ENCRYPTION_KEY = "))
        .unwrap();
    assert!(
        line.contains("generated, kept in") && line.contains("credentials_key"),
        "{line}"
    );
}

#[test]
fn production_without_secret_on_sqlite_names_both_at_once() {
    let err = load(&[("APP_ENV", "production")]).unwrap_err();
    assert_eq!(
        named(&err),
        [
            "DATABASE_URL",
            "JWT_PRIVATE_KEY_FILE",
            "CREDENTIALS_ENCRYPTION_KEY",
            "API_KEY_PEPPER"
        ],
        "{err}"
    );
    assert!(err.to_string().contains("ainative keys generate"), "{err}");
    let err = load(&[
        ("APP_ENV", "production"),
        ("JWT_ALGORITHM", "HS256"),
        ("API_KEY_PEPPER", SECRET),
        ("CREDENTIALS_ENCRYPTION_KEY", CREDENTIALS_KEY),
    ])
    .unwrap_err();
    assert_eq!(named(&err), ["DATABASE_URL", "JWT_SECRET_KEY"], "{err}");
    let text = err.to_string();
    assert!(text.starts_with("2 configuration problems:"), "{text}");
    assert!(
        text.contains("\n  DATABASE_URL: SQLite is refused"),
        "{text}"
    );
    assert!(text.contains("\n  JWT_SECRET_KEY: is required"), "{text}");
}

#[test]
fn every_problem_is_reported_with_the_refusals() {
    let err = load(&[
        ("APP_ENV", "production"),
        ("APP_PORT", "eighty"),
        ("BCRYPT_COST", "3"),
        ("TRUSTED_PROXIES", "10.0.0.0/8, 10.0.0.0/33"),
        ("DB_MIN_IDLE", "20"),
        ("LLM_PROVIDER", "openai"),
        ("REDIS_URL", "http://user:hunter2@cache"),
    ])
    .unwrap_err();
    assert_eq!(
        named(&err),
        [
            "APP_PORT",
            "REDIS_URL",
            "BCRYPT_COST",
            "TRUSTED_PROXIES",
            "DB_MIN_IDLE",
            "DATABASE_URL",
            "JWT_PRIVATE_KEY_FILE",
            "CREDENTIALS_ENCRYPTION_KEY",
            "API_KEY_PEPPER",
            "LLM_BASE_URL",
            "LLM_MODEL",
        ],
        "{err}"
    );
    let text = err.to_string();
    for line in [
        r#"APP_PORT: expected an integer 0..=65535, got "eighty""#,
        r#"BCRYPT_COST: expected an integer 4..=31, got "3""#,
        r#"TRUSTED_PROXIES: expected a comma-separated list, each a CIDR block or an IP address (e.g. 10.0.0.0/8), got "10.0.0.0/33""#,
        "DB_MIN_IDLE: must not exceed DB_POOL_SIZE (10), got 20",
        r#"REDIS_URL: expected a URL starting with redis://, got "http://user:***@cache""#,
        "LLM_BASE_URL: is required when LLM_PROVIDER=openai",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    assert!(!text.contains("hunter2"), "URL password echoed: {text}");
}

#[test]
fn invalid_values_name_the_variable_and_what_is_expected() {
    for (var, value, expected) in [
        ("APP_PORT", "eighty", "an integer 0..=65535"),
        ("APP_PORT", "70000", "an integer 0..=65535"),
        ("APP_ENV", "staging", "one of development, test, production"),
        ("BCRYPT_COST", "3", "an integer 4..=31"),
        ("DB_POOL_SIZE", "0", "an integer 1..=1000"),
        ("DB_POOL_PRE_PING", "maybe", "a boolean"),
        ("DB_POOL_TIMEOUT_SECS", "0", "seconds 1..=3600"),
        ("DB_POOL_TIMEOUT_SECS", "-1", "seconds 1..=3600"),
        (
            "SHUTDOWN_TIMEOUT_SECS",
            "99999999999999999999",
            "seconds 0..=3600",
        ),
        ("REDIS_TIMEOUT_MS", "0", "milliseconds 1..=60000"),
        (
            "JWT_ACCESS_TOKEN_EXPIRE_MINUTES",
            "1441",
            "minutes 1..=1440",
        ),
        ("JWT_REFRESH_TOKEN_EXPIRE_DAYS", "0", "days 1..=365"),
        ("TRUSTED_PROXIES", "10.0.0.0/33", "CIDR block"),
        ("CORS_ORIGINS", "*", "http:// or https://"),
        (
            "CORS_ORIGINS",
            "https://ok.example,ftp://x",
            "http:// or https://",
        ),
        ("JWT_ALGORITHM", "none", "one of HS256, EdDSA, ES256, RS256"),
        (
            "DATABASE_URL",
            "mysql://x",
            "postgres://, postgresql:// or sqlite:",
        ),
        ("REDIS_URL", "rediss://x", "redis://"),
        ("METRICS_ADDR", "nowhere", "socket address"),
        ("LOG_FORMAT", "xml", "one of pretty, json"),
        ("LOG_LEVEL", "info,[[[", "tracing filter"),
        ("LLM_PROVIDER", "gpt", "one of offline, openai"),
        ("LLM_BASE_URL", "localhost:11434", "http:// or https://"),
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "localhost:4317",
            "http:// or https://",
        ),
        ("MAX_BODY_BYTES", "10", "an integer 1024..=1073741824"),
        ("RATE_LIMIT_FREE_TIER", "-1", "an integer >= 0"),
        ("RATE_LIMIT_LOGIN", "0", "an integer 1..=10000"),
        ("PASSWORD_MIN_LENGTH", "73", "an integer 1..=72"),
    ] {
        let err = load(&[(var, value)]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("{var}: expected ")),
            "{var}: {text}"
        );
        assert!(text.contains(expected), "{var}={value}: {text}");
        assert_eq!(named(&err), [var]);
    }
}

#[test]
fn values_are_trimmed_and_empty_means_unset() {
    let s = load(&[
        ("APP_PORT", " 8123 "),
        ("TRUSTED_PROXIES", " 10.0.0.0/8 , ,192.168.1.1 "),
        ("CORS_ORIGINS", ""),
        ("LLM_MODEL", "   "),
        ("DB_POOL_PRE_PING", "OFF"),
    ])
    .unwrap();
    assert_eq!(s.port, 8123);
    assert_eq!(
        s.trusted_proxies
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["10.0.0.0/8", "192.168.1.1/32"]
    );
    assert!(s.cors_origins.is_empty());
    assert!(s.llm.model.is_none());
    assert!(!s.database.pre_ping);
}

#[test]
fn redis_is_configured_only_with_a_url() {
    let s = load(&[("REDIS_POOL_SIZE", "4")]).unwrap();
    assert!(s.redis.is_none());
    let s = load(&[
        ("REDIS_URL", "redis://cache:6379/2"),
        ("REDIS_POOL_SIZE", "4"),
        ("REDIS_TIMEOUT_MS", "1500"),
        ("REDIS_KEY_PREFIX", "x:"),
    ])
    .unwrap();
    let redis = s.redis.unwrap();
    assert_eq!(redis.url.expose_secret(), "redis://cache:6379/2");
    assert_eq!(redis.pool_size, 4);
    assert_eq!(redis.timeout, Duration::from_millis(1500));
    assert_eq!(redis.key_prefix, "x:");
}

#[test]
fn a_short_secret_outside_production_is_a_warning() {
    let s = load(&[("JWT_SECRET_KEY", "short")]).unwrap();
    assert_eq!(s.jwt.source, SecretSource::Configured);
    let warning = s
        .warnings
        .iter()
        .find(|w| w.var == "JWT_SECRET_KEY")
        .expect("warned");
    assert!(warning.message.contains("shorter than 32 bytes"));
    assert!(!warning.to_string().contains("short;"));
}

#[test]
fn openai_needs_its_base_url_and_model() {
    let err = load(&[("LLM_PROVIDER", "openai")]).unwrap_err();
    assert_eq!(named(&err), ["LLM_BASE_URL", "LLM_MODEL"]);
    let s = load(&[
        ("LLM_PROVIDER", "openai"),
        ("LLM_BASE_URL", "http://127.0.0.1:11434/v1"),
        ("LLM_MODEL", "llama3.1"),
        ("LLM_API_KEY", "sk-x"),
    ])
    .unwrap();
    assert_eq!(s.llm.model.as_deref(), Some("llama3.1"));
    assert_eq!(s.llm.api_key.unwrap().expose_secret(), "sk-x");
}

#[test]
fn the_environment_file_is_layered_under_variables() {
    let dir = temp_dir();
    std::fs::write(
        dir.join("test.toml"),
        "app_port = 9001\nbcrypt_cost = 5\ncors_origins = [\"https://a.example\", \"https://b.example\"]\n",
    )
    .unwrap();
    let env = env_of(&[
        ("APP_ENV", "test"),
        ("APP_PORT", "9002"),
        ("JWT_SECRET_KEY", SECRET),
    ]);
    let s = Settings::from_layers(env, &dir, &dir).unwrap();
    assert_eq!(s.port, 9002, "environment wins over the file");
    assert_eq!(s.bcrypt_cost, 5, "the file wins over defaults");
    assert_eq!(s.cors_origins, ["https://a.example", "https://b.example"]);
    let described = s.describe();
    let line = |var: &str| {
        described
            .lines()
            .find(|l| l.starts_with(&format!("{var} = ")))
            .unwrap_or_else(|| panic!("{var} missing:\n{described}"))
            .to_owned()
    };
    assert!(line("APP_PORT").ends_with("# environment"), "{described}");
    assert!(line("BCRYPT_COST").ends_with("test.toml"), "{described}");
    assert!(line("APP_HOST").ends_with("# default"), "{described}");
}

#[test]
fn the_file_is_checked_like_the_environment() {
    let dir = temp_dir();
    std::fs::write(
        dir.join("test.toml"),
        "app_port = \"eighty\"\nbcrypt_cost = 3\napp_prot = 1\n[nested]\nx = 1\n",
    )
    .unwrap();
    let (result, warnings) = Settings::resolve(env_of(&[("APP_ENV", "test")]), &dir, &dir);
    let err = result.unwrap_err();
    let mut vars = named(&err);
    vars.sort_unstable();
    assert_eq!(vars, ["APP_PORT", "BCRYPT_COST"], "{err}");
    let names: Vec<&str> = warnings.iter().map(|w| w.var.as_str()).collect();
    assert_eq!(names, ["app_prot", "nested"], "{warnings:?}");
    assert!(
        warnings[0].message.contains("did you mean app_port?"),
        "{warnings:?}"
    );
}

#[test]
fn an_unknown_app_env_chooses_no_file() {
    let dir = temp_dir();
    std::fs::write(dir.join("staging.toml"), "app_port = 1\n").unwrap();
    let err = Settings::from_layers(env_of(&[("APP_ENV", "staging")]), &dir, &dir).unwrap_err();
    assert_eq!(named(&err), ["APP_ENV"]);
}

#[test]
fn describe_masks_secrets_and_shows_every_variable() {
    let s = load(&[
        ("JWT_SECRET_KEY", SECRET),
        ("DATABASE_URL", "postgres://app:hunter2@db:5432/ainative"),
        ("REDIS_URL", "redis://:redispass@cache:6379"),
        ("LLM_API_KEY", "sk-secret"),
        ("ADMIN_PASSWORD", "Admin-pass-9"),
    ])
    .unwrap();
    let text = s.describe();
    for secret in [SECRET, "hunter2", "redispass", "sk-secret", "Admin-pass-9"] {
        assert!(!text.contains(secret), "{secret} leaked:\n{text}");
        assert!(!format!("{s:?}").contains(secret), "Debug leaks {secret}");
    }
    assert!(text.contains("DATABASE_URL = postgres://app:***@db:5432/ainative"));
    assert!(
        text.contains("JWT_SECRET_KEY = ****** (32 bytes)"),
        "{text}"
    );
    assert!(text.contains("LLM_API_KEY = ****** (9 bytes)"), "{text}");
    for spec in vars::TABLE {
        let Name::Single(var) = spec.name else {
            continue;
        };
        assert!(
            text.lines().any(|l| l.starts_with(&format!("{var} = "))),
            "{var} missing from check-config:\n{text}"
        );
    }
}

#[test]
fn a_generated_secret_is_shown_with_its_file() {
    for (env, var, file) in [
        (
            &[("JWT_ALGORITHM", "HS256")][..],
            "JWT_SECRET_KEY",
            "jwt_secret",
        ),
        (&[], "JWT_PRIVATE_KEY_FILE", "jwt_eddsa.pem"),
        (&[], "API_KEY_PEPPER", "api_key_pepper"),
    ] {
        let text = load(env).unwrap().describe();
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{var} = ")))
            .unwrap();
        assert!(line.contains("******"), "{line}");
        assert!(
            line.contains("generated, kept in") && line.contains(file),
            "{line}"
        );
    }
}

#[test]
fn every_declared_variable_is_read_into_settings() {
    let mut problems = Vec::new();
    let mut values =
        values::Values::parse(vars::TABLE, &values::Raw::default(), false, &mut problems);
    assert!(problems.is_empty(), "{problems:?}");
    build::assemble(&mut values, &temp_dir(), Vec::new()).unwrap();
    assert!(
        values.unread().is_empty(),
        "declared but never read into Settings: {:?}",
        values.unread()
    );
}

#[test]
fn every_row_is_well_formed() {
    let mut seen = std::collections::BTreeSet::new();
    for spec in vars::TABLE {
        let name = spec.display_name();
        assert!(seen.insert(name.clone()), "{name} declared twice");
        assert!(
            name.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || "_<>".contains(c)),
            "{name}"
        );
        assert!(!spec.doc_text().is_empty(), "{name} has no doc");
        if let Fallback::Value(text) = spec.fallback {
            assert!(
                values::parse(&spec.kind, text).is_some(),
                "{name}: default {text:?} is not {}",
                values::expected(&spec.kind)
            );
        }
        if let Some(example) = spec.example {
            assert!(
                values::parse(&spec.kind, example).is_some(),
                "{name}: example"
            );
        }
        assert!(
            !(spec.secret && matches!(spec.kind, Kind::Url(_))),
            "{name}: URLs are masked, not secret"
        );
    }
}

#[test]
fn every_bound_of_every_range_fits_its_type() {
    // A range wider than the Rust type read from it would fail at start, not at validation.
    for spec in vars::TABLE {
        let Name::Single(var) = spec.name else {
            continue;
        };
        let bounds = match spec.kind {
            Kind::Int { min, max } => [min.to_string(), max.to_string()],
            Kind::Duration { min, max, .. } => [min.to_string(), max.to_string()],
            _ => continue,
        };
        for bound in bounds {
            let mut env = vec![(var, bound.as_str()), ("JWT_SECRET_KEY", SECRET)];
            if var == "DB_MIN_IDLE" {
                env.push(("DB_POOL_SIZE", "1000"));
            }
            if let Err(err) = load(&env) {
                panic!("{var}={bound}: {err}");
            }
        }
    }
}

#[test]
fn url_masking() {
    assert_eq!(mask_url("postgres://u:p@h/db"), "postgres://u:***@h/db");
    assert_eq!(mask_url("postgres://u@h/db"), "postgres://u@h/db");
    assert_eq!(mask_url("sqlite://data/x.db"), "sqlite://data/x.db");
    assert_eq!(mask_url("redis://:p@h:6379"), "redis://:***@h:6379");
}

#[test]
fn configured_key_files_sign_and_previous_ones_verify() {
    use ainative_auth::{PrivateKey, SigningAlgorithm};
    let dir = temp_dir();
    let write = |name: &str, alg| {
        let key = PrivateKey::generate(alg).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, key.to_pem().expose_secret()).unwrap();
        (key, path.display().to_string())
    };
    let (current, current_file) = write("current.pem", SigningAlgorithm::Es256);
    let (old, old_file) = write("old.pem", SigningAlgorithm::EdDsa);
    let s = load(&[
        ("APP_ENV", "production"),
        ("ALLOW_SQLITE_IN_PRODUCTION", "true"),
        ("API_KEY_PEPPER", SECRET),
        ("CREDENTIALS_ENCRYPTION_KEY", CREDENTIALS_KEY),
        ("JWT_ALGORITHM", "ES256"),
        ("JWT_PRIVATE_KEY_FILE", &current_file),
        ("JWT_PREVIOUS_KEY_FILES", &old_file),
    ])
    .unwrap();
    assert_eq!(s.jwt.signing_key.as_ref().unwrap().kid(), current.kid());
    assert_eq!(s.jwt.previous_keys.len(), 1);
    assert_eq!(s.jwt.previous_keys[0].kid(), old.kid());
    assert_eq!(s.jwt.source, SecretSource::Configured);
    assert!(!s.describe().contains("BEGIN PRIVATE KEY"));
    // The key type must match the algorithm; unreadable files are named.
    let err = load(&[
        ("JWT_ALGORITHM", "EdDSA"),
        ("JWT_PRIVATE_KEY_FILE", &current_file),
    ])
    .unwrap_err();
    assert_eq!(named(&err), ["JWT_PRIVATE_KEY_FILE"], "{err}");
    assert!(err.to_string().contains("ES256"), "{err}");
    let err = load(&[("JWT_PREVIOUS_KEY_FILES", "/nonexistent/key.pem")]).unwrap_err();
    assert_eq!(named(&err), ["JWT_PREVIOUS_KEY_FILES"], "{err}");
}

#[test]
fn one_public_base_url_serves_mail_links_and_oauth_callbacks() {
    let s = load(&[("PUBLIC_BASE_URL", "https://tutor.example.com/")]).unwrap();
    assert_eq!(s.mail.public_base_url, "https://tutor.example.com");
    assert_eq!(s.oauth.public_base_url, "https://tutor.example.com");
    // The removed variable stops start-up, naming its replacement, and is no typo warning.
    let (result, warnings) = resolve(&[("OAUTH_PUBLIC_BASE_URL", "https://api.example.com")]);
    let err = result.unwrap_err();
    assert_eq!(named(&err), vec!["OAUTH_PUBLIC_BASE_URL"]);
    assert!(err.to_string().contains("set PUBLIC_BASE_URL"), "{err}");
    assert!(
        warnings.iter().all(|w| w.var != "OAUTH_PUBLIC_BASE_URL"),
        "{warnings:?}"
    );
}
