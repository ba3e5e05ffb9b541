//! Misspelt variables: warned about with the likely name; other programs' never.

use std::collections::HashMap;

use super::resolve;

#[test]
fn misspelt_variables_are_warned_about_with_the_likely_name() {
    let (result, warnings) = resolve(&[
        ("APP_PROT", "9000"),
        ("DATABSE_URL", "postgres://x/y"),
        ("JTW_ISSUER", "me"),
        ("app_port", "1"),
        ("JWT_SECRET", "x"),
        ("CORS_ORIGIN", "https://a.example"),
        ("OTEL_EXPORTER_OTLP_ENDPOINTS", "http://x"),
        ("RATE_LIMIT_FREE_TEIR", "5"),
        ("LOG_LEVL", "debug"),
    ]);
    let settings = result.unwrap();
    assert_eq!(settings.warnings, warnings);
    let found: HashMap<&str, Option<&str>> = warnings
        .iter()
        .map(|w| (w.var.as_str(), w.suggestion.as_deref()))
        .collect();
    for (typo, meant) in [
        ("APP_PROT", "APP_PORT"),
        ("DATABSE_URL", "DATABASE_URL"),
        ("JTW_ISSUER", "JWT_ISSUER"),
        ("app_port", "APP_PORT"),
        ("JWT_SECRET", "JWT_SECRET_KEY"),
        ("CORS_ORIGIN", "CORS_ORIGINS"),
        (
            "OTEL_EXPORTER_OTLP_ENDPOINTS",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
        ),
        ("RATE_LIMIT_FREE_TEIR", "RATE_LIMIT_FREE_TIER"),
        ("LOG_LEVL", "LOG_LEVEL"),
    ] {
        assert_eq!(found.get(typo), Some(&Some(meant)), "{typo}: {warnings:?}");
        let warning = warnings.iter().find(|w| w.var == typo).unwrap();
        assert!(warning
            .to_string()
            .contains(&format!("did you mean {meant}?")));
    }
    assert_eq!(warnings.len(), 9, "{warnings:?}");
    // Ignored, not applied.
    assert_eq!(settings.port, 8000);
}

#[test]
fn other_programs_variables_are_never_warned_about() {
    let (result, warnings) = resolve(&[
        ("PATH", "/usr/bin"),
        ("HOME", "/root"),
        ("RUST_LOG", "debug"),
        ("RUST_BACKTRACE", "1"),
        ("CARGO_PKG_NAME", "x"),
        ("CARGO_TARGET_DIR", "/t"),
        ("CARGO_HOME", "/c"),
        ("TEST_DATABASE_URL", "postgres://x/y"),
        ("PGHOST", "localhost"),
        ("LANG", "C.UTF-8"),
        ("LC_ALL", "C"),
        ("LOGNAME", "root"),
        ("HOSTNAME", "box"),
        ("OTEL_SERVICE_NAME", "x"),
        ("OTEL_RESOURCE_ATTRIBUTES", "a=b"),
        ("DBUS_SESSION_BUS_ADDRESS", "unix:x"),
        ("REDIS_HOST", "cache"),
        ("APP_NAME", "tutor"),
        ("JAVA_HOME", "/j"),
        ("ADMIN_EMAIL", "a@b.c"),
    ]);
    result.unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
}
