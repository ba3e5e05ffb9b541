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
const MATERIALS: Section = Section {
    title: "Course material",
    note: "Uploads are processed by the workers in five stages. Retrieval is BM25 (no \
           download) unless EMBEDDING_BASE_URL names an OpenAI-compatible /embeddings endpoint.",
};
const JOBS: Section = Section {
    title: "Background jobs",
    note: "The durable job queue lives in the database (docs/jobs.md). `ainative serve` runs \
           WORKERS workers; `ainative worker` runs workers only, with the same settings.",
};
const OAUTH: Section = Section {
    title: "Social login",
    note: "A provider is enabled when its client id and secret are both set. Register the \
           callback PUBLIC_BASE_URL/api/v1/auth/oauth/<provider>/callback with it \
           (<provider>: google, github, or the lower-case NAME of an OAUTH_OIDC_<NAME>_* \
           provider). The endpoint and issuer overrides exist for tests and self-hosted \
           providers.",
};
const CREDENTIALS: Section = Section {
    title: "Model credentials (bring your own model)",
    note: "Users' own OpenAI-compatible endpoints (SPEC §10.4). Their API keys are sealed \
           with AES-256-GCM under CREDENTIALS_ENCRYPTION_KEY; rotate with \
           `ainative rotate-credentials-key` (docs/operations.md).",
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
    /// Token signing algorithm. EdDSA, ES256 and RS256 sign with JWT_PRIVATE_KEY_FILE and
    /// publish the public key at /.well-known/jwks.json; HS256 signs with JWT_SECRET_KEY
    /// (anyone who can verify can then also sign).
    JWT_ALGORITHM: String = spec(&TOKENS, Kind::Enum(&["HS256", "EdDSA", "ES256", "RS256"]))
        .default("EdDSA");
    /// PEM private key (PKCS#8) that signs new tokens when JWT_ALGORITHM is not HS256; its
    /// type must match JWT_ALGORITHM. Required in production; elsewhere a key is generated
    /// once into ./data/jwt_<alg>.pem (mode 0600). Make one with `ainative keys generate`.
    JWT_PRIVATE_KEY_FILE: Option<String> = spec(&TOKENS, Kind::Text)
        .special("generated outside production")
        .example("/run/secrets/jwt_signing.pem");
    /// Comma-separated PEM files of retired signing keys: they sign nothing but still verify
    /// (and stay in the JWKS) until the tokens they signed have expired.
    JWT_PREVIOUS_KEY_FILES: Vec<String> = spec(&TOKENS, Kind::List(&Kind::Text)).default("");
    /// Server-side secret (at least 32 bytes) keying the hash under which API keys are stored,
    /// so a database dump alone cannot confirm a key; required in production, shared by every
    /// instance. Unset outside production: generated once into ./data/api_key_pepper.
    /// Changing it invalidates every API key.
    API_KEY_PEPPER: Option<SecretString> = spec(&TOKENS, Kind::Text)
        .special("generated outside production")
        .secret()
        .example("change-me-to-at-least-32-random-bytes");
    /// `Cache-Control: max-age` of /.well-known/jwks.json: publish a new key at least this long
    /// before it signs, so verifiers that cache the set know it.
    JWKS_MAX_AGE_SECS: Duration = spec(&TOKENS, secs(0, 86_400)).default("600");
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
    /// Social sign-in requests (authorize, callback, exchange, link) per minute, per client
    /// IP, on top of the general limit; 0 = off.
    RATE_LIMIT_OAUTH: u32 = spec(&RATE_LIMITS, PER_MINUTE).default("30");

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

    /// Largest material upload (decoded bytes); larger ones get 413.
    MAX_MATERIAL_BYTES: usize = spec(&MATERIALS, int(1_024, 1_073_741_824)).default("10485760");
    /// OpenAI-compatible endpoint up to the API version (/embeddings is appended). Unset:
    /// lexical retrieval (BM25), no vectors.
    EMBEDDING_BASE_URL: Option<String> = spec(&MATERIALS, HTTP_URL_KIND)
        .example("http://127.0.0.1:11434/v1");
    /// API key of the embeddings endpoint, sent as Authorization: Bearer; never logged.
    EMBEDDING_API_KEY: Option<SecretString> = spec(&MATERIALS, Kind::Text).secret();
    /// Embedding model, stored with the vectors (vectors of other models are not mixed).
    EMBEDDING_MODEL: String = spec(&MATERIALS, Kind::Text).default("text-embedding-3-small");
    /// Most tokens of course material put into a tutoring turn's context.
    RETRIEVAL_MAX_TOKENS: u32 = spec(&MATERIALS, int(50, 100_000)).default("1200");
    /// Most passages of course material put into a tutoring turn's context (0 = none: no
    /// grounding).
    RETRIEVAL_MAX_CHUNKS: usize = spec(&MATERIALS, int(0, 50)).default("4");

    /// Job workers run by `ainative serve` (0 = none: run `ainative worker` processes
    /// instead) and by each `ainative worker` (at least 1 there).
    WORKERS: usize = spec(&JOBS, int(0, 256)).default("2");
    /// How long a claimed job stays with its worker without a heartbeat (heartbeats come
    /// every third of it): a job whose worker died is run again this long after.
    JOB_LEASE_SECS: Duration = spec(&JOBS, secs(1, 3_600)).default("30");
    /// How often an idle worker looks for due jobs when nothing woke it (enqueues in the same
    /// process, and on PostgreSQL in any process, wake workers at once).
    JOB_POLL_MS: Duration = spec(
        &JOBS,
        Kind::Duration { unit: TimeUnit::Millis, min: 10, max: 60_000 },
    )
    .default("1000");
    /// Wait before the second attempt of a failed job; doubles per attempt (±25 % jitter).
    JOB_BACKOFF_BASE_SECS: Duration = spec(&JOBS, secs(1, 86_400)).default("5");
    /// Longest wait between two attempts.
    JOB_BACKOFF_MAX_SECS: Duration = spec(&JOBS, secs(1, 604_800)).default("600");
    /// On shutdown, how long a running job may take to finish before it is given back to
    /// the queue unfinished.
    JOB_SHUTDOWN_GRACE_SECS: Duration = spec(&JOBS, secs(0, 3_600)).default("10");
    /// Operators' self-test: when set, workers also run `diagnostics.probe` jobs, which
    /// record their start and end in this directory (used by the worker tests; leave unset).
    JOB_DIAGNOSTICS_DIR: Option<String> = spec(&JOBS, Kind::Text).example("/tmp/ainative-jobs");
    /// Application URLs a sign-in may return to, compared exactly (comma list). Empty = no
    /// sign-in flow can start.
    OAUTH_REDIRECT_ALLOWLIST: Vec<String> = spec(&OAUTH, Kind::List(&HTTP_URL_KIND))
        .default("")
        .example("https://app.example.com/auth/callback");
    /// How long a started sign-in may spend at the provider before its callback is refused.
    OAUTH_FLOW_TTL_SECS: Duration = spec(&OAUTH, secs(60, 3_600)).default("600");
    /// Bound of every call to a provider (discovery, keys, token, user APIs).
    OAUTH_HTTP_TIMEOUT_SECS: Duration = spec(&OAUTH, secs(1, 120)).default("10");
    /// Client id of the Google OAuth client (Google Cloud console, "Web application").
    OAUTH_GOOGLE_CLIENT_ID: Option<String> = spec(&OAUTH, Kind::Text)
        .example("1234-abc.apps.googleusercontent.com");
    /// Client secret of the Google OAuth client.
    OAUTH_GOOGLE_CLIENT_SECRET: Option<SecretString> = spec(&OAUTH, Kind::Text).secret();
    /// Google's OpenID Connect issuer (discovery at /.well-known/openid-configuration).
    OAUTH_GOOGLE_ISSUER: String = spec(&OAUTH, HTTP_URL_KIND).default("https://accounts.google.com");
    /// Client id of the GitHub OAuth app.
    OAUTH_GITHUB_CLIENT_ID: Option<String> = spec(&OAUTH, Kind::Text).example("Iv1.0123456789abcdef");
    /// Client secret of the GitHub OAuth app.
    OAUTH_GITHUB_CLIENT_SECRET: Option<SecretString> = spec(&OAUTH, Kind::Text).secret();
    /// GitHub's authorization endpoint.
    OAUTH_GITHUB_AUTHORIZE_URL: String = spec(&OAUTH, HTTP_URL_KIND)
        .default("https://github.com/login/oauth/authorize");
    /// GitHub's token endpoint.
    OAUTH_GITHUB_TOKEN_URL: String = spec(&OAUTH, HTTP_URL_KIND)
        .default("https://github.com/login/oauth/access_token");
    /// GitHub's REST API (for /user and /user/emails).
    OAUTH_GITHUB_API_URL: String = spec(&OAUTH, HTTP_URL_KIND).default("https://api.github.com");
    /// Issuer of the OpenID Connect provider NAME (Keycloak realm URL, Authentik, Zitadel…);
    /// its endpoints and keys come from discovery.
    OAUTH_OIDC_ISSUER: String = spec(&OAUTH, HTTP_URL_KIND)
        .family("OAUTH_OIDC_", "_ISSUER")
        .example("https://keycloak.example.com/realms/school");
    /// Client id at the OpenID Connect provider NAME.
    OAUTH_OIDC_CLIENT_ID: String = spec(&OAUTH, Kind::Text)
        .family("OAUTH_OIDC_", "_CLIENT_ID")
        .example("ainative");
    /// Client secret at the OpenID Connect provider NAME.
    OAUTH_OIDC_CLIENT_SECRET: SecretString = spec(&OAUTH, Kind::Text)
        .family("OAUTH_OIDC_", "_CLIENT_SECRET")
        .secret();
    /// Key that seals users' model API keys: base64 of 32 random bytes (openssl rand -base64
    /// 32); required in production, and never the JWT secret. Unset outside production: one is
    /// generated once into ./data/credentials_key (mode 0600) with a warning.
    CREDENTIALS_ENCRYPTION_KEY: Option<SecretString> = spec(&CREDENTIALS, Kind::Text)
        .special("generated outside production")
        .secret();
    /// Earlier keys, comma-separated base64: what they sealed still opens until
    /// `ainative rotate-credentials-key` has re-sealed it under the current key.
    CREDENTIALS_PREVIOUS_KEYS: Option<SecretString> = spec(&CREDENTIALS, Kind::Text).secret();
    /// Let users' endpoints be private, loopback, link-local or metadata addresses (a
    /// self-hosted model on the LAN). Off, they are refused when registered and at every
    /// call (after DNS resolution).
    ALLOW_PRIVATE_LLM_ENDPOINTS: bool = spec(&CREDENTIALS, Kind::Bool).default("false");
    /// Requests per minute of a credential without its own limit (0 = unlimited).
    LLM_CREDENTIAL_DEFAULT_RPM: u32 = spec(&CREDENTIALS, PER_MINUTE).default("60");
    /// Concurrent requests (per instance) of a credential without its own limit.
    LLM_CREDENTIAL_DEFAULT_CONCURRENCY: u32 = spec(&CREDENTIALS, int(1, 10_000)).default("4");

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
    /// The public origin browsers reach (front end and /api behind one proxy): the base of
    /// the links in mails (/verify-email?token=…, /reset-password?token=…) and of the OAuth
    /// callback URLs. Never taken from a request's Host header; https in production when a
    /// sign-in provider is enabled.
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
