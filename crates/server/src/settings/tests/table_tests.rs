//! The table machinery on a demonstration table with what wave 2 needs and the real table
//! does not have yet: optional URLs, validated secrets, lists of enums, millisecond
//! durations, per-environment defaults and pattern families.

use std::collections::HashMap;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use super::super::docs;
use super::super::error::SettingsError;
use super::super::layers;
use super::super::typos::{self, distance};
use super::super::values::{Origin, Raw, Values};

mod demo {
    use std::time::Duration;

    use secrecy::SecretString;

    use crate::settings::table::{declare_settings, spec, Kind, Section, TimeUnit};

    const DEMO: Section = Section {
        title: "Demo",
        note: "A section of its own.",
    };
    const OAUTH: Section = Section {
        title: "OpenID Connect",
        note: "",
    };

    fn is_hex64(text: &str) -> bool {
        text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit())
    }

    declare_settings! {
        /// Public URL of the service.
        DEMO_PUBLIC_URL: Option<String> = spec(&DEMO, Kind::Url(&["https://"]))
            .example("https://tutor.example.com");
        /// Encryption key.
        DEMO_KEY: Option<SecretString> = spec(
            &DEMO,
            Kind::Custom { expected: "64 hex characters", check: is_hex64 },
        )
        .secret();
        /// Enabled features.
        DEMO_FEATURES: Vec<String> = spec(&DEMO, Kind::List(&Kind::Enum(&["mail", "oauth"])))
            .default("mail");
        /// Wait between attempts.
        DEMO_WAIT_MS: Duration = spec(
            &DEMO,
            Kind::Duration { unit: TimeUnit::Millis, min: 10, max: 1_000 },
        )
        .default("100");
        /// Speed or safety.
        DEMO_MODE: String = spec(&DEMO, Kind::Enum(&["fast", "safe"])).per_env("safe", "fast");
        /// Issuer URL of the OpenID Connect provider NAME.
        OIDC_ISSUER: String = spec(&OAUTH, Kind::Url(&["https://"]))
            .family("OAUTH_OIDC_", "_ISSUER")
            .example("https://accounts.example.com");
        /// Client secret at the OpenID Connect provider NAME.
        OIDC_CLIENT_SECRET: SecretString = spec(&OAUTH, Kind::Text)
            .family("OAUTH_OIDC_", "_CLIENT_SECRET")
            .secret();
    }
}

fn raw(pairs: &[(&str, &str)]) -> Raw {
    let mut raw = Raw::default();
    for (k, v) in pairs {
        raw.insert((*k).to_owned(), (*v).to_owned(), Origin::Environment);
    }
    raw
}

fn parse(pairs: &[(&str, &str)], production: bool) -> (Values, Vec<SettingsError>) {
    let mut problems = Vec::new();
    let values = Values::parse(demo::TABLE, &raw(pairs), production, &mut problems);
    (values, problems)
}

#[test]
fn names_come_from_the_constants_and_docs_from_their_comments() {
    let names: Vec<String> = demo::TABLE.iter().map(|s| s.display_name()).collect();
    assert_eq!(
        names,
        [
            "DEMO_PUBLIC_URL",
            "DEMO_KEY",
            "DEMO_FEATURES",
            "DEMO_WAIT_MS",
            "DEMO_MODE",
            "OAUTH_OIDC_<NAME>_ISSUER",
            "OAUTH_OIDC_<NAME>_CLIENT_SECRET",
        ]
    );
    assert_eq!(demo::DEMO_WAIT_MS.spec.doc_text(), "Wait between attempts.");
}

#[test]
fn defaults_optional_values_lists_durations_and_per_env_defaults() {
    let (values, problems) = parse(&[], false);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(values.get(&demo::DEMO_PUBLIC_URL), Some(None));
    assert!(matches!(values.get(&demo::DEMO_KEY), Some(None)));
    assert_eq!(
        values.get(&demo::DEMO_FEATURES),
        Some(vec!["mail".to_owned()])
    );
    assert_eq!(
        values.get(&demo::DEMO_WAIT_MS),
        Some(Duration::from_millis(100))
    );
    assert_eq!(values.get(&demo::DEMO_MODE).as_deref(), Some("fast"));
    let (values, _) = parse(&[], true);
    assert_eq!(values.get(&demo::DEMO_MODE).as_deref(), Some("safe"));

    let key = "ab".repeat(32);
    let (values, problems) = parse(
        &[
            ("DEMO_PUBLIC_URL", "https://tutor.example.com"),
            ("DEMO_KEY", &key),
            ("DEMO_FEATURES", "oauth, mail"),
            ("DEMO_WAIT_MS", "1000"),
        ],
        false,
    );
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(
        values.get(&demo::DEMO_PUBLIC_URL),
        Some(Some("https://tutor.example.com".to_owned()))
    );
    let secret: Option<SecretString> = values.get(&demo::DEMO_KEY).flatten();
    assert_eq!(secret.unwrap().expose_secret(), key);
    assert_eq!(
        values.get(&demo::DEMO_FEATURES),
        Some(vec!["oauth".to_owned(), "mail".to_owned()])
    );
    assert_eq!(
        values.get(&demo::DEMO_WAIT_MS),
        Some(Duration::from_secs(1))
    );
}

#[test]
fn every_invalid_value_is_reported_and_secrets_never_echoed() {
    let (values, problems) = parse(
        &[
            ("DEMO_PUBLIC_URL", "http://plain.example"),
            ("DEMO_KEY", "not-hex-but-a-secret-value"),
            ("DEMO_FEATURES", "mail,sms"),
            ("DEMO_WAIT_MS", "5"),
            ("DEMO_MODE", "reckless"),
        ],
        false,
    );
    let text = SettingsError::from_problems(problems).unwrap().to_string();
    assert!(text.starts_with("5 configuration problems:"), "{text}");
    for line in [
        r#"DEMO_PUBLIC_URL: expected a URL starting with https://, got "http://plain.example""#,
        "DEMO_KEY: expected 64 hex characters, got a value that is not shown (secret)",
        r#"DEMO_FEATURES: expected a comma-separated list, each one of mail, oauth, got "sms""#,
        r#"DEMO_WAIT_MS: expected milliseconds 10..=1000, got "5""#,
        r#"DEMO_MODE: expected one of fast, safe, got "reckless""#,
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    assert!(!text.contains("not-hex-but-a-secret-value"));
    // Invalid values are not read.
    assert_eq!(values.get(&demo::DEMO_MODE), None);
}

#[test]
fn families_gather_every_member_and_check_each() {
    let (values, problems) = parse(
        &[
            ("OAUTH_OIDC_ACME_ISSUER", "https://id.acme.example"),
            ("OAUTH_OIDC_MY_IDP_ISSUER", "https://idp.example"),
            ("OAUTH_OIDC_ACME_CLIENT_SECRET", "s3cret"),
            ("OAUTH_OIDC_BAD_ISSUER", "ftp://nope"),
            // Not members: empty, lower-case or underscore-edged names.
            ("OAUTH_OIDC__ISSUER", "https://x"),
            ("OAUTH_OIDC_acme_ISSUER", "https://x"),
            ("OAUTH_OIDC__X_ISSUER", "https://x"),
        ],
        false,
    );
    let issuers = values.family(&demo::OIDC_ISSUER);
    assert_eq!(
        issuers,
        [
            ("ACME".to_owned(), "https://id.acme.example".to_owned()),
            ("MY_IDP".to_owned(), "https://idp.example".to_owned()),
        ]
    );
    let secrets = values.family(&demo::OIDC_CLIENT_SECRET);
    assert_eq!(secrets.len(), 1);
    assert_eq!(secrets[0].0, "ACME");
    assert_eq!(secrets[0].1.expose_secret(), "s3cret");
    let vars: Vec<Option<&str>> = problems.iter().map(|p| p.var()).collect();
    assert_eq!(vars, [Some("OAUTH_OIDC_BAD_ISSUER")], "{problems:?}");
    // Shown masked, under their concrete names.
    let shown: HashMap<&str, String> = values.entries().map(|(n, e)| (n, e.shown())).collect();
    assert_eq!(shown["OAUTH_OIDC_ACME_CLIENT_SECRET"], "****** (6 bytes)");
    assert_eq!(shown["OAUTH_OIDC_ACME_ISSUER"], "https://id.acme.example");
}

#[test]
fn family_members_are_taken_from_the_environment_and_the_file() {
    let dir = std::env::temp_dir().join(format!("ainative-layers-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("development.toml"),
        "oauth_oidc_file_issuer = \"https://file.example\"\ndemo_wait_ms = 20\n",
    )
    .unwrap();
    let env: HashMap<String, String> = [
        ("OAUTH_OIDC_ENV_ISSUER", "https://env.example"),
        ("DEMO_WAIT_MS", "30"),
        ("UNRELATED", "x"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let (mut warnings, mut problems) = (Vec::new(), Vec::new());
    let raw = layers::layer(&env, &dir, demo::TABLE, &mut warnings, &mut problems).unwrap();
    assert!(
        warnings.is_empty() && problems.is_empty(),
        "{warnings:?} {problems:?}"
    );
    let (values, problems) = {
        let mut problems = Vec::new();
        (
            Values::parse(demo::TABLE, &raw, false, &mut problems),
            problems,
        )
    };
    assert!(problems.is_empty(), "{problems:?}");
    let names: Vec<String> = values
        .family(&demo::OIDC_ISSUER)
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(names, ["ENV", "FILE"]);
    assert_eq!(
        values.get(&demo::DEMO_WAIT_MS),
        Some(Duration::from_millis(30))
    );
}

#[test]
fn misspelt_family_members_are_warned_about() {
    let warnings = typos::misspelt(
        [
            "OAUTH_OIDC_ACME_ISSEUR",
            "OAUTH_OIDC_ACME_ISSUER",
            "OAUTH_OIDC_ACME_CLIENT_SECERT",
            "DEMO_WAIT_M",
        ]
        .into_iter(),
        demo::TABLE,
    );
    let pairs: Vec<(&str, Option<&str>)> = warnings
        .iter()
        .map(|w| (w.var.as_str(), w.suggestion.as_deref()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("OAUTH_OIDC_ACME_ISSEUR", Some("OAUTH_OIDC_ACME_ISSUER")),
            (
                "OAUTH_OIDC_ACME_CLIENT_SECERT",
                Some("OAUTH_OIDC_ACME_CLIENT_SECRET")
            ),
            ("DEMO_WAIT_M", Some("DEMO_WAIT_MS")),
        ]
    );
}

#[test]
fn generated_docs_list_families_secrets_and_defaults() {
    let env = docs::env_example(demo::TABLE);
    for line in [
        "# --- Demo ",
        "# A section of its own.",
        "# DEMO_PUBLIC_URL=https://tutor.example.com",
        "# DEMO_KEY=",
        "DEMO_FEATURES=mail",
        "# Speed or safety. Accepted: one of fast, safe. Default: fast; safe in production.",
        "# DEMO_MODE=fast",
        "# OAUTH_OIDC_<NAME>_ISSUER=https://accounts.example.com",
        "# OAUTH_OIDC_<NAME>_CLIENT_SECRET=",
    ] {
        assert!(env.contains(line), "missing {line:?} in\n{env}");
    }
    assert!(env.lines().all(|l| l.len() <= 96), "{env}");
    let md = docs::markdown(demo::TABLE);
    assert!(md.contains("**OpenID Connect**"), "{md}");
    assert!(
        md.contains("| `OAUTH_OIDC_<NAME>_CLIENT_SECRET` | unset | text | yes | Client secret at the OpenID Connect provider NAME. |"),
        "{md}"
    );
    assert!(
        md.contains("| `DEMO_MODE` | `fast`; `safe` in production |"),
        "{md}"
    );
}

#[test]
fn splicing_keeps_the_prose_around_the_markers() {
    let doc = format!("intro\n{}\nold table\n{}\noutro\n", docs::BEGIN, docs::END);
    let spliced = docs::splice(&doc, "NEW\n").unwrap();
    assert_eq!(
        spliced,
        format!("intro\n{}\nNEW\n{}\noutro\n", docs::BEGIN, docs::END)
    );
    assert_eq!(
        docs::splice(&spliced, "NEW\n").unwrap(),
        spliced,
        "idempotent"
    );
    assert!(docs::splice("no markers", "x").is_none());
}

#[test]
fn edit_distance_counts_swaps_as_one() {
    assert_eq!(distance("APP_PORT", "APP_PORT"), 0);
    assert_eq!(distance("APP_PROT", "APP_PORT"), 1);
    assert_eq!(distance("JTW", "JWT"), 1);
    assert_eq!(distance("LOG_LEVL", "LOG_LEVEL"), 1);
    assert_eq!(distance("CACHE", "CARGO"), 3);
    assert_eq!(distance("", "ABC"), 3);
}
