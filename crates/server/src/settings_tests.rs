use std::collections::HashMap;
use std::path::PathBuf;

use super::*;

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ainative-settings-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn load(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
    let env: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let dir = temp_dir();
    Settings::from_layers(env, &dir.join("config"), &dir.join("data"))
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
    assert!(matches!(s.jwt.source, SecretSource::DevelopmentFile(_)));
    assert!(s.jwt.secret.expose_secret().len() >= 32);
    assert_eq!(s.rate_limits.admin, 0);
    assert_eq!(s.log_format, LogFormat::Pretty);
}

#[test]
fn the_development_secret_is_kept_across_starts() {
    let dir = temp_dir();
    let a = Settings::from_layers(HashMap::new(), &dir, &dir).unwrap();
    let b = Settings::from_layers(HashMap::new(), &dir, &dir).unwrap();
    assert_eq!(a.jwt.secret.expose_secret(), b.jwt.secret.expose_secret());
}

#[test]
fn production_refuses_missing_or_short_secrets_and_sqlite() {
    let err = load(&[
        ("APP_ENV", "production"),
        ("DATABASE_URL", "postgres://db/x"),
    ])
    .unwrap_err();
    assert!(err.to_string().starts_with("JWT_SECRET_KEY"), "{err}");
    let err = load(&[
        ("APP_ENV", "production"),
        ("JWT_SECRET_KEY", "short"),
        ("DATABASE_URL", "postgres://db/x"),
    ])
    .unwrap_err();
    assert!(err.to_string().starts_with("JWT_SECRET_KEY"), "{err}");
    let err = load(&[("APP_ENV", "production"), ("JWT_SECRET_KEY", SECRET)]).unwrap_err();
    assert!(err.to_string().starts_with("DATABASE_URL"), "{err}");
    let ok = load(&[
        ("APP_ENV", "production"),
        ("JWT_SECRET_KEY", SECRET),
        ("ALLOW_SQLITE_IN_PRODUCTION", "true"),
    ])
    .unwrap();
    assert!(!ok.auto_migrate, "production does not migrate by default");
    assert_eq!(ok.log_format, LogFormat::Json);
}

#[test]
fn invalid_values_name_the_variable() {
    for (var, value) in [
        ("APP_PORT", "eighty"),
        ("APP_ENV", "staging"),
        ("BCRYPT_COST", "3"),
        ("DB_POOL_SIZE", "0"),
        ("DB_POOL_PRE_PING", "maybe"),
        ("TRUSTED_PROXIES", "10.0.0.0/33"),
        ("CORS_ORIGINS", "*"),
        ("JWT_ALGORITHM", "none"),
        ("DATABASE_URL", "mysql://x"),
        ("REDIS_URL", "http://x"),
        ("METRICS_ADDR", "nowhere"),
        ("LOG_FORMAT", "xml"),
    ] {
        let err = load(&[(var, value)]).unwrap_err();
        assert!(err.to_string().starts_with(var), "{var}: {err}");
    }
}

#[test]
fn the_environment_file_is_layered_under_variables() {
    let dir = temp_dir();
    std::fs::write(dir.join("test.toml"), "app_port = 9001\nbcrypt_cost = 5\n").unwrap();
    let env: HashMap<String, String> = [
        ("APP_ENV", "test"),
        ("APP_PORT", "9002"),
        ("JWT_SECRET_KEY", SECRET),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let s = Settings::from_layers(env, &dir, &dir).unwrap();
    assert_eq!(s.port, 9002, "environment wins over the file");
    assert_eq!(s.bcrypt_cost, 5, "the file wins over defaults");
}

#[test]
fn describe_masks_secrets() {
    let s = load(&[
        ("JWT_SECRET_KEY", SECRET),
        ("DATABASE_URL", "postgres://app:hunter2@db:5432/ainative"),
        ("REDIS_URL", "redis://:redispass@cache:6379"),
        ("LLM_API_KEY", "sk-secret"),
    ])
    .unwrap();
    let text = s.describe();
    for secret in [SECRET, "hunter2", "redispass", "sk-secret"] {
        assert!(!text.contains(secret), "{secret} leaked");
    }
    assert!(text.contains("DATABASE_URL = postgres://app:***@db:5432/ainative"));
    assert!(
        !format!("{s:?}").contains("hunter2"),
        "Debug must mask secrets"
    );
    for var in VARIABLES {
        assert!(
            text.contains(&format!("{var} = ")),
            "{var} missing from check-config"
        );
    }
}

#[test]
fn url_masking() {
    assert_eq!(mask_url("postgres://u:p@h/db"), "postgres://u:***@h/db");
    assert_eq!(mask_url("postgres://u@h/db"), "postgres://u@h/db");
    assert_eq!(mask_url("sqlite://data/x.db"), "sqlite://data/x.db");
    assert_eq!(mask_url("redis://:p@h:6379"), "redis://:***@h:6379");
}
