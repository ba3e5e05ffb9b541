//! THE settings table: every variable the binary reads, declared once. Parsing, validation,
//! `check-config`, `.env.example` and docs/configuration.md are all driven from here
//! (regenerate the last two with `cargo run -q -- config-docs` after a change).

use std::net::SocketAddr;
use std::time::Duration;

use ipnet::IpNet;
use secrecy::SecretString;

use super::table::{declare_settings, spec, Kind, Section, TimeUnit, U32_MAX};
use super::{AppEnv, LogFormat};

const SERVICE: Section = Section {
    title: "Service",
    note: "",
};
const DATABASE: Section = Section {
    title: "Database",
    note: "",
};
const REDIS: Section = Section {
    title: "Redis",
    note: "Unset: rate limits, login throttling, the revocation mirror and the LLM cache are \
           in-process. Set: they live in Redis (shared by every instance) and fall back to \
           in-process while Redis is unreachable (health reports \"degraded\").",
};
const CACHE: Section = Section {
    title: "LLM response cache",
    note: "In Redis when REDIS_URL is set, else in-process.",
};
const TOKENS: Section = Section {
    title: "Tokens",
    note: "",
};
const PASSWORDS: Section = Section {
    title: "Passwords",
    note: "",
};
const RATE_LIMITS: Section = Section {
    title: "Rate limits",
    note: "Requests per minute, sliding window; 0 = unlimited.",
};
const HTTP: Section = Section {
    title: "HTTP",
    note: "",
};
const LLM: Section = Section {
    title: "LLM provider",
    note: "offline: the deterministic rule-based Socratic tutor (no model). openai: any \
           OpenAI-compatible /chat/completions endpoint (OpenAI, Ollama at \
           http://localhost:11434/v1, vLLM, llama.cpp).",
};
const MAIL: Section = Section {
    title: "Mail and account links",
    note:
        "Verification and password reset mails (SPEC §10.1). log: each mail is logged (recipient \
           masked) and, in development, written to MAIL_OUTBOX_DIR as an .eml file. smtp: sent \
           through SMTP_URL. Either way sending happens after the response, with retries.",
};
const OBSERVABILITY: Section = Section {
    title: "Observability",
    note: "",
};

const HTTP_URL: &[&str] = &["http://", "https://"];
const HTTP_URL_KIND: Kind = Kind::Url(HTTP_URL);
const PER_MINUTE: Kind = Kind::Int {
    min: 0,
    max: U32_MAX,
};

const fn int(min: i64, max: i64) -> Kind {
    Kind::Int { min, max }
}

const fn secs(min: u64, max: u64) -> Kind {
    Kind::Duration {
        unit: TimeUnit::Secs,
        min,
        max,
    }
}

/// A `tracing` filter directive such as `info` or `info,ainative_auth=debug`.
fn is_tracing_filter(text: &str) -> bool {
    tracing_subscriber::EnvFilter::try_new(text).is_ok()
}

declare_settings! {
    /// Deployment environment. production is strict: it refuses SQLite and a missing or short
    /// JWT secret, does not read .env, and changes the defaults of AUTO_MIGRATE and LOG_FORMAT.
    APP_ENV: AppEnv = spec(&SERVICE, Kind::Enum(AppEnv::NAMES)).default("development");
    /// Listen address of the HTTP API (host name or IP).
    APP_HOST: String = spec(&SERVICE, Kind::Text).default("127.0.0.1");
    /// Listen port of the HTTP API (0 = any free port).
    APP_PORT: u16 = spec(&SERVICE, int(0, 65_535)).default("8000");
    /// How long in-flight requests may finish after SIGTERM/SIGINT before the process exits.
    SHUTDOWN_TIMEOUT_SECS: Duration = spec(&SERVICE, secs(0, 3_600)).default("30");

    /// postgres://user:password@host:5432/db or sqlite://path (relative to the working
    /// directory; the file and its directory are created). The password is never shown.
    DATABASE_URL: SecretString = spec(
        &DATABASE,
        Kind::Url(&["postgres://", "postgresql://", "sqlite:"]),
    )
    .default("sqlite://data/ainative.db");
    /// Maximum pooled connections.
    DB_POOL_SIZE: u32 = spec(&DATABASE, int(1, 1_000)).default("10");
    /// Connections kept open; at most DB_POOL_SIZE.
    DB_MIN_IDLE: u32 = spec(&DATABASE, int(0, 1_000)).default("1");
    /// How long a request waits for a free connection; then it gets 503, never a hang.
    DB_POOL_TIMEOUT_SECS: Duration = spec(&DATABASE, secs(1, 3_600)).default("5");
    /// Maximum lifetime of a connection.
    DB_POOL_RECYCLE_SECS: Duration = spec(&DATABASE, secs(1, 604_800)).default("1800");
    /// Idle connections are closed after this.
    DB_IDLE_TIMEOUT_SECS: Duration = spec(&DATABASE, secs(1, 604_800)).default("600");
    /// Ping a PostgreSQL connection before use when it has been idle for a second or more
    /// (no effect on SQLite).
    DB_POOL_PRE_PING: bool = spec(&DATABASE, Kind::Bool).default("true");
    /// Apply pending migrations at start. In production run `ainative migrate up` instead
    /// (readiness answers 503 while migrations are pending).
    AUTO_MIGRATE: bool = spec(&DATABASE, Kind::Bool).per_env("false", "true");
    /// Let APP_ENV=production run on SQLite (refused otherwise).
    ALLOW_SQLITE_IN_PRODUCTION: bool = spec(&DATABASE, Kind::Bool).default("false");

    /// Redis server (redis:// only: no TLS in this release). Unset: everything is in-process.
    REDIS_URL: Option<SecretString> = spec(&REDIS, Kind::Url(&["redis://"]))
        .example("redis://127.0.0.1:6379");
    /// Maximum Redis connections.
    REDIS_POOL_SIZE: u32 = spec(&REDIS, int(1, 1_024)).default("16");
    /// Bound of every Redis command, connecting included, and of the health probe.
    REDIS_TIMEOUT_MS: Duration = spec(
        &REDIS,
        Kind::Duration { unit: TimeUnit::Millis, min: 1, max: 60_000 },
    )
    .default("250");
    /// Prefix of every Redis key, so deployments can share a Redis.
    REDIS_KEY_PREFIX: String = spec(&REDIS, Kind::Text).default("ainative:");

    /// Life of an LLM response cache entry; 0 caches nothing (identical concurrent requests
    /// are still coalesced).
    CACHE_TTL_SECS: Duration = spec(&CACHE, secs(0, 2_592_000)).default("3600");
    /// Entries of the in-process response cache (used without Redis and while Redis is
    /// down); the Redis cache is bounded by Redis's own maxmemory.
    CACHE_MAX_ENTRIES: u64 = spec(&CACHE, int(1, 10_000_000)).default("10000");

    /// HS256 signing secret, at least 32 bytes; required in production. Unset outside
    /// production: a secret is generated once into ./data/jwt_secret (mode 0600) with a
    /// warning.
    JWT_SECRET_KEY: Option<SecretString> = spec(&TOKENS, Kind::Text)
        .special("generated outside production")
        .secret()
        .example("change-me-to-at-least-32-random-bytes");
    /// Signing algorithm; only HS256 in this release.
    JWT_ALGORITHM: String = spec(&TOKENS, Kind::Enum(&["HS256"])).default("HS256");
    /// `iss` claim, issued and required.
    JWT_ISSUER: String = spec(&TOKENS, Kind::Text).default("ainative");
    /// `aud` claim, issued and required.
    JWT_AUDIENCE: String = spec(&TOKENS, Kind::Text).default("ainative-api");
    /// Life of an access token.
    JWT_ACCESS_TOKEN_EXPIRE_MINUTES: Duration = spec(
        &TOKENS,
        Kind::Duration { unit: TimeUnit::Minutes, min: 1, max: 1_440 },
    )
    .default("30");
    /// Absolute life of a session (refresh-token family); rotation never extends it.
    JWT_REFRESH_TOKEN_EXPIRE_DAYS: Duration = spec(
        &TOKENS,
        Kind::Duration { unit: TimeUnit::Days, min: 1, max: 365 },
    )
    .default("7");
    /// A retired refresh token presented again within this window gets a new access token
    /// (and the same refresh token) instead of revoking the session. 0 = no grace.
    REFRESH_REUSE_GRACE_SECS: Duration = spec(&TOKENS, secs(0, 3_600)).default("0");

    /// bcrypt work factor; each step doubles the work.
    BCRYPT_COST: u32 = spec(&PASSWORDS, int(4, 31)).default("12");
    /// Minimum password length in characters.
    PASSWORD_MIN_LENGTH: usize = spec(&PASSWORDS, int(1, 72)).default("8");
    /// Read by `ainative create-admin` only: the new administrator's password. Unset: the
    /// first line of standard input (preferred: keeps it out of files and the environment).
    ADMIN_PASSWORD: Option<SecretString> = spec(&PASSWORDS, Kind::Text).secret();

    /// Unauthenticated requests per minute, per client IP.
    RATE_LIMIT_ANONYMOUS: u32 = spec(&RATE_LIMITS, PER_MINUTE).default("60");
    /// Requests per minute of an authenticated user of the free tier.
    RATE_LIMIT_FREE_TIER: u32 = spec(&RATE_LIMITS, PER_MINUTE).default("120");
    /// Requests per minute of an authenticated user of the premium tier.
    RATE_LIMIT_PREMIUM_TIER: u32 = spec(&RATE_LIMITS, PER_MINUTE).default("1200");
    /// Requests per minute of an authenticated user of the admin tier.
    RATE_LIMIT_ADMIN_TIER: u32 = spec(&RATE_LIMITS, PER_MINUTE).default("0");
    /// Failed logins per 15 minutes, per account and per client IP (never off).
    RATE_LIMIT_LOGIN: u32 = spec(&RATE_LIMITS, int(1, 10_000)).default("10");

    /// Proxies whose X-Forwarded-For is believed. Empty = none.
    TRUSTED_PROXIES: Vec<IpNet> = spec(&HTTP, Kind::List(&Kind::Cidr)).default("");
    /// Origins allowed cross-origin access, e.g. https://app.example.com (no *). Empty = no
    /// cross-origin access.
    CORS_ORIGINS: Vec<String> = spec(&HTTP, Kind::List(&HTTP_URL_KIND)).default("");
    /// Larger request bodies get 413.
    MAX_BODY_BYTES: usize = spec(&HTTP, int(1_024, 1_073_741_824)).default("1048576");

    /// offline or openai (any OpenAI-compatible endpoint).
    LLM_PROVIDER: String = spec(&LLM, Kind::Enum(&["offline", "openai"])).default("offline");
    /// Endpoint of an OpenAI-compatible provider up to the API version (/chat/completions
    /// is appended); required with openai.
    LLM_BASE_URL: Option<String> = spec(&LLM, HTTP_URL_KIND).example("http://127.0.0.1:11434/v1");
    /// API key of the provider, sent as Authorization: Bearer; never logged.
    LLM_API_KEY: Option<SecretString> = spec(&LLM, Kind::Text).secret();
    /// Model name; required with openai.
    LLM_MODEL: Option<String> = spec(&LLM, Kind::Text).example("llama3.1");
    /// Per provider attempt (a whole JSON answer; for a stream, until it opens and between
    /// two chunks); a timeout answers 504 and is not retried.
    LLM_TIMEOUT_SECS: Duration = spec(&LLM, secs(1, 3_600)).default("30");
    /// Retries after the first attempt, for connection errors, 5xx, 408 and 429 only, with
    /// exponential back-off (200 ms doubling, at most 5 s, jittered).
    LLM_MAX_RETRIES: u32 = spec(&LLM, int(0, 10)).default("2");

    /// log (the default: mails are logged and, in development, written as .eml files) or
    /// smtp (sent through SMTP_URL).
    MAIL_TRANSPORT: String = spec(&MAIL, Kind::Enum(&["log", "smtp"])).default("log");
    /// SMTP server, required with MAIL_TRANSPORT=smtp: smtps://user:password@host:465
    /// (implicit TLS), smtp://user:password@host:587?tls=starttls (STARTTLS required) or
    /// smtp://host:25 (no TLS; a local relay only). The password is never shown.
    SMTP_URL: Option<SecretString> = spec(&MAIL, Kind::Url(&["smtp://", "smtps://"]))
        .example("smtps://user:password@smtp.example.com:465");
    /// Bound of each SMTP read, write and connect; a whole send gets three times this.
    SMTP_TIMEOUT_SECS: Duration = spec(&MAIL, secs(1, 300)).default("10");
    /// Sender of every mail, an address or "Name <address>".
    MAIL_FROM: String = spec(&MAIL, Kind::Text).default("ainative <no-reply@localhost>");
    /// Where the log transport writes .eml files in development (created on first mail).
    MAIL_OUTBOX_DIR: String = spec(&MAIL, Kind::Text).default("data/outbox");
    /// Product name in mail subjects and bodies.
    PRODUCT_NAME: String = spec(&MAIL, Kind::Text).default("ainative");
    /// Base of the links in mails (/verify-email?token=…, /reset-password?token=…); the
    /// front end serving those pages. Never taken from a request's Host header.
    PUBLIC_BASE_URL: String = spec(&MAIL, HTTP_URL_KIND).default("http://localhost:8000");
    /// Life of a password reset link.
    EMAIL_TOKEN_TTL_MINUTES: Duration = spec(
        &MAIL,
        Kind::Duration { unit: TimeUnit::Minutes, min: 5, max: 1_440 },
    )
    .default("60");
    /// Life of an e-mail verification link.
    EMAIL_VERIFICATION_TTL_MINUTES: Duration = spec(
        &MAIL,
        Kind::Duration { unit: TimeUnit::Minutes, min: 5, max: 43_200 },
    )
    .default("1440");
    /// Mails per address per hour (verification and reset together). Over it, a reset
    /// request still answers 202 but sends nothing; a verification request gets 429.
    RATE_LIMIT_MAIL: u32 = spec(&MAIL, int(1, 10_000)).default("5");
    /// Password reset requests per client IP per hour (429 beyond).
    RATE_LIMIT_MAIL_IP: u32 = spec(&MAIL, int(1, 100_000)).default("20");
    /// When true, users whose address is not verified may log in but get 403
    /// EMAIL_NOT_VERIFIED on the tutoring endpoints (activities, sessions, risks).
    REQUIRE_VERIFIED_EMAIL: bool = spec(&MAIL, Kind::Bool).default("false");

    /// Log output: pretty or json.
    LOG_FORMAT: LogFormat = spec(&OBSERVABILITY, Kind::Enum(LogFormat::NAMES))
        .per_env("json", "pretty");
    /// Log filter (tracing syntax).
    LOG_LEVEL: String = spec(
        &OBSERVABILITY,
        Kind::Custom {
            expected: "a tracing filter such as info or info,ainative_auth=debug",
            check: is_tracing_filter,
        },
    )
    .default("info");
    /// OTLP/gRPC collector: set, tracing spans are exported to it and incoming traceparent
    /// headers are honoured; unset, nothing is exported.
    OTEL_EXPORTER_OTLP_ENDPOINT: Option<String> = spec(&OBSERVABILITY, HTTP_URL_KIND)
        .example("http://127.0.0.1:4317");
    /// The internal listener serving /metrics (Prometheus); never the public port. Port 0 =
    /// any free port.
    METRICS_ADDR: SocketAddr = spec(&OBSERVABILITY, Kind::SocketAddr).default("127.0.0.1:9100");
}
