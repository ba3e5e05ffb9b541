//! What the in-process benchmarks share: the embedded default they run on.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;

use ainative_server::Settings;

/// The client address of every in-process request (the limiter keys on it).
pub fn peer() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 40_000))
}

/// The embedded default in `dir`, with limits high enough that nothing is refused (every
/// request is still checked and counted) and the cheapest bcrypt cost; `overrides` replace
/// or add variables.
pub fn embedded_settings(dir: &Path, overrides: &[(&str, &str)]) -> Settings {
    let mut env: HashMap<String, String> = [
        (
            "DATABASE_URL",
            format!("sqlite://{}/bench.db", dir.display()),
        ),
        // Mails of the log transport go to the temporary directory, not the repository.
        ("MAIL_OUTBOX_DIR", dir.join("outbox").display().to_string()),
        ("BCRYPT_COST", "4".to_owned()),
        (
            "JWT_SECRET_KEY",
            "in-process-benchmark-secret-of-forty-bytes".to_owned(),
        ),
        ("RATE_LIMIT_ANONYMOUS", "100000000".to_owned()),
        ("RATE_LIMIT_FREE_TIER", "100000000".to_owned()),
        ("LOG_LEVEL", "info".to_owned()),
        ("LOG_FORMAT", "pretty".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (key, value) in overrides {
        env.insert((*key).to_owned(), (*value).to_owned());
    }
    Settings::from_layers(env, &dir.join("config"), &dir.join("data")).expect("settings")
}
