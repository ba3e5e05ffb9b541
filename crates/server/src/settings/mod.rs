//! Configuration (SPEC §2): built-in defaults < `config/<APP_ENV>.toml` < environment
//! variables (a `.env` file is read outside production). Every variable is declared once, in
//! [`vars`] (name, type, default, accepted values, secrecy, doc line); parsing, validation,
//! `check-config`, `.env.example` and docs/configuration.md all follow that table. Every
//! invalid value is reported at once; variables that look like misspelt settings are warned
//! about.

mod build;
pub mod docs;
mod error;
mod layers;
pub mod oauth;
pub mod table;
pub mod types;
pub mod typos;
pub mod values;
pub mod vars;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};

pub use error::SettingsError;
pub use oauth::{OAuthProviderKind, OAuthProviderSettings, OAuthSettings};
pub use typos::ConfigWarning;
use values::Origin;

/// The deployment environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    /// Local development: `.env` read, generated JWT secret allowed.
    Development,
    /// Test runs.
    Test,
    /// Production: strict.
    Production,
}

impl AppEnv {
    /// The accepted values of `APP_ENV`.
    pub const NAMES: &'static [&'static str] = &["development", "test", "production"];

    /// The value of `APP_ENV`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Test => "test",
            Self::Production => "production",
        }
    }

    /// Parses a value of `APP_ENV`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "development" => Some(Self::Development),
            "test" => Some(Self::Test),
            "production" => Some(Self::Production),
            _ => None,
        }
    }
}

/// Where the JWT signing secret or key came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// `JWT_SECRET_KEY` or `JWT_PRIVATE_KEY_FILE`.
    Configured,
    /// Not configured: generated at first start and kept in this file (development only).
    DevelopmentFile(PathBuf),
}

/// Database pool settings.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// `postgres://` or `sqlite://` URL; may hold a password.
    pub url: SecretString,
    /// Maximum connections.
    pub pool_size: u32,
    /// Connections kept open.
    pub min_idle: u32,
    /// Acquire timeout; exhaustion becomes 503.
    pub pool_timeout: Duration,
    /// Maximum connection lifetime.
    pub recycle: Duration,
    /// Idle connections closed after this.
    pub idle_timeout: Duration,
    /// Test connections before use.
    pub pre_ping: bool,
}

impl DatabaseSettings {
    /// True for a SQLite URL.
    pub fn is_sqlite(&self) -> bool {
        self.url.expose_secret().starts_with("sqlite:")
    }
}

/// Redis settings (used when `REDIS_URL` is set).
#[derive(Debug, Clone)]
pub struct RedisSettings {
    /// Redis URL; may hold a password.
    pub url: SecretString,
    /// Pool size.
    pub pool_size: u32,
    /// Per-command timeout.
    pub timeout: Duration,
    /// Prefix of every key.
    pub key_prefix: String,
}

/// Token settings.
#[derive(Debug, Clone)]
pub struct JwtConfig {
    /// The signing algorithm.
    pub algorithm: ainative_auth::SigningAlgorithm,
    /// HS256 secret (empty when an asymmetric algorithm is used and none is set).
    pub secret: SecretString,
    /// The asymmetric signing key; `None` for HS256.
    pub signing_key: Option<ainative_auth::PrivateKey>,
    /// Retired keys that still verify.
    pub previous_keys: Vec<ainative_auth::PrivateKey>,
    /// Where the signing secret or key came from.
    pub source: SecretSource,
    /// `Cache-Control: max-age` of the JWKS.
    pub jwks_max_age: Duration,
    /// `iss`.
    pub issuer: String,
    /// `aud`.
    pub audience: String,
    /// Access token life.
    pub access_ttl: Duration,
    /// Refresh family life.
    pub refresh_ttl: Duration,
}

/// Requests per minute; 0 = unlimited.
#[derive(Debug, Clone, Copy)]
pub struct RateLimitSettings {
    /// Per IP, anonymous.
    pub anonymous: u32,
    /// Free tier.
    pub free: u32,
    /// Premium tier.
    pub premium: u32,
    /// Admin tier.
    pub admin: u32,
    /// Failed logins per 15 minutes per account and per IP.
    pub login: u32,
    /// Social sign-in requests per minute per IP.
    pub oauth: u32,
}

/// LLM provider settings.
#[derive(Debug, Clone)]
pub struct LlmSettings {
    /// `offline` or `openai`.
    pub provider: String,
    /// Endpoint of an OpenAI-compatible provider.
    pub base_url: Option<String>,
    /// API key.
    pub api_key: Option<SecretString>,
    /// Model name.
    pub model: Option<String>,
    /// Upstream timeout.
    pub timeout: Duration,
    /// Retries after the first attempt.
    pub max_retries: u32,
}

/// Course material settings.
#[derive(Debug, Clone)]
pub struct MaterialSettings {
    /// Largest upload in bytes.
    pub max_bytes: usize,
    /// The embeddings endpoint, when configured.
    pub embedding: Option<EmbeddingSettings>,
    /// Most tokens of material per tutoring turn.
    pub retrieval_max_tokens: u32,
    /// Most passages per tutoring turn (0 = no grounding).
    pub retrieval_max_chunks: usize,
}

/// An OpenAI-compatible `/embeddings` endpoint.
#[derive(Debug, Clone)]
pub struct EmbeddingSettings {
    /// Base URL up to the API version.
    pub base_url: String,
    /// API key.
    pub api_key: Option<SecretString>,
    /// Model name.
    pub model: String,
}

/// Background job settings.
#[derive(Debug, Clone)]
pub struct JobSettings {
    /// Workers per process (0: none in `serve`).
    pub workers: usize,
    /// Lease of a claimed job.
    pub lease: Duration,
    /// Poll interval of an idle worker.
    pub poll: Duration,
    /// First back-off.
    pub backoff_base: Duration,
    /// Longest back-off.
    pub backoff_max: Duration,
    /// Shutdown grace of a running job.
    pub shutdown_grace: Duration,
    /// Where `diagnostics.probe` jobs record themselves; unset: no such handler.
    pub diagnostics_dir: Option<std::path::PathBuf>,
}

/// Users' model credentials.
#[derive(Clone)]
pub struct CredentialSettings {
    /// The active key (base64 of 32 bytes).
    pub key: SecretString,
    /// Where it comes from.
    pub source: SecretSource,
    /// Earlier keys, comma-separated base64.
    pub previous: Option<SecretString>,
    /// `ALLOW_PRIVATE_LLM_ENDPOINTS`.
    pub allow_private: bool,
    /// `LLM_CREDENTIAL_DEFAULT_RPM`.
    pub default_rpm: u32,
    /// `LLM_CREDENTIAL_DEFAULT_CONCURRENCY`.
    pub default_concurrency: u32,
}

impl std::fmt::Debug for CredentialSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialSettings")
            .field("source", &self.source)
            .field("allow_private", &self.allow_private)
            .field("default_rpm", &self.default_rpm)
            .field("default_concurrency", &self.default_concurrency)
            .finish_non_exhaustive()
    }
}

/// Mail transport and account link settings.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// `log` or `smtp`.
    pub transport: String,
    /// SMTP server URL (with `smtp`).
    pub smtp_url: Option<SecretString>,
    /// Bound of each SMTP step.
    pub smtp_timeout: Duration,
    /// Sender.
    pub from: String,
    /// Where the log transport writes `.eml` files in development.
    pub outbox_dir: PathBuf,
    /// Product name in mails.
    pub product_name: String,
    /// Base of the links in mails, without a trailing slash.
    pub public_base_url: String,
    /// Life of a reset link.
    pub reset_ttl: Duration,
    /// Life of a verification link.
    pub verification_ttl: Duration,
    /// Mails per address per hour.
    pub per_address: u32,
    /// Reset requests per IP per hour.
    pub per_ip: u32,
    /// Unverified users get 403 on tutoring endpoints.
    pub require_verified_email: bool,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable.
    Pretty,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    /// The accepted values of `LOG_FORMAT`.
    pub const NAMES: &'static [&'static str] = &["pretty", "json"];

    /// Parses a value of `LOG_FORMAT`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "pretty" => Some(Self::Pretty),
            "json" => Some(Self::Json),
            _ => None,
        }
    }
}

/// The whole, validated configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Environment.
    pub env: AppEnv,
    /// Listen host.
    pub host: String,
    /// Listen port (0 = any free port).
    pub port: u16,
    /// Database.
    pub database: DatabaseSettings,
    /// Run migrations at start.
    pub auto_migrate: bool,
    /// Allow SQLite when `APP_ENV=production`.
    pub allow_sqlite_in_production: bool,
    /// Redis, when configured.
    pub redis: Option<RedisSettings>,
    /// LLM response cache TTL.
    pub cache_ttl: Duration,
    /// LLM response cache size.
    pub cache_max_entries: u64,
    /// Tokens.
    pub jwt: JwtConfig,
    /// bcrypt cost.
    pub bcrypt_cost: u32,
    /// Rate limits.
    pub rate_limits: RateLimitSettings,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Allowed CORS origins.
    pub cors_origins: Vec<String>,
    /// Body size limit.
    pub max_body_bytes: usize,
    /// LLM provider.
    pub llm: LlmSettings,
    /// Course material.
    pub materials: MaterialSettings,
    /// Background jobs.
    pub jobs: JobSettings,
    /// Users' model credentials.
    pub credentials: CredentialSettings,
    /// Log format.
    pub log_format: LogFormat,
    /// Log filter (e.g. `info`, `ainative=debug`).
    pub log_level: String,
    /// OTLP endpoint.
    pub otel_endpoint: Option<String>,
    /// Internal metrics listener.
    pub metrics_addr: SocketAddr,
    /// Refresh reuse grace window.
    pub refresh_reuse_grace: Duration,
    /// Minimum password length.
    pub password_min_length: usize,
    /// Graceful shutdown bound.
    pub shutdown_timeout: Duration,
    /// Mail and account links.
    pub mail: MailSettings,
    /// `ADMIN_PASSWORD`: read by `create-admin` only.
    pub admin_password: Option<SecretString>,
    /// Social login.
    pub oauth: OAuthSettings,
    /// Keys the stored hash of API keys.
    pub api_key_pepper: SecretString,
    /// Problems that do not stop start-up (misspelt variables…); `serve` logs them once the
    /// logger is up, `check-config` lists them.
    pub warnings: Vec<ConfigWarning>,
    /// Every variable's effective value as shown by `check-config` (secrets masked).
    effective: Vec<Effective>,
}

/// One line of `check-config`.
#[derive(Debug, Clone)]
struct Effective {
    name: String,
    shown: String,
    origin: Origin,
}

impl Settings {
    /// Loads from `config/<APP_ENV>.toml` (if present) and the process environment, reading
    /// `.env` first outside production. `data_dir` holds the generated development secret.
    /// When the configuration is invalid, the warnings (likely misspellings, which often
    /// explain the error) are printed to standard error, as no logger exists yet.
    pub fn load(data_dir: &Path) -> Result<Self, SettingsError> {
        if std::env::var("APP_ENV")
            .map(|v| v != "production")
            .unwrap_or(true)
        {
            // A missing .env is normal; a malformed one is worth a warning.
            if let Err(err) = dotenvy::dotenv() {
                if !err.not_found() {
                    eprintln!("warning: .env could not be read: {err}");
                }
            }
        }
        let env: HashMap<String, String> = std::env::vars().collect();
        let (result, warnings) = Self::resolve(env, Path::new("config"), data_dir);
        if result.is_err() {
            for warning in &warnings {
                eprintln!("warning: {warning}");
            }
        }
        result
    }

    /// Builds settings from an explicit environment map (tests use this), layered over the
    /// optional `<config_dir>/<APP_ENV>.toml`. Warnings are in [`Settings::warnings`].
    pub fn from_layers(
        env: HashMap<String, String>,
        config_dir: &Path,
        data_dir: &Path,
    ) -> Result<Self, SettingsError> {
        Self::resolve(env, config_dir, data_dir).0
    }

    /// Like [`Settings::from_layers`], also returning the warnings when the configuration is
    /// invalid (every problem is in the error).
    pub fn resolve(
        env: HashMap<String, String>,
        config_dir: &Path,
        data_dir: &Path,
    ) -> (Result<Self, SettingsError>, Vec<ConfigWarning>) {
        let mut warnings = typos::misspelt(env.keys().map(String::as_str), vars::TABLE);
        // A removed variable is a problem of its own, not a typo.
        warnings.retain(|w| {
            !oauth::REMOVED
                .iter()
                .any(|(old, _)| old.eq_ignore_ascii_case(&w.var))
        });
        warnings.sort_by(|a, b| a.var.cmp(&b.var));
        let mut problems = oauth::removed(env.keys().map(String::as_str));
        let raw = match layers::layer(&env, config_dir, vars::TABLE, &mut warnings, &mut problems) {
            Ok(raw) => raw,
            Err(err) => return (Err(err), warnings),
        };
        build::settings(&raw, data_dir, problems, warnings)
    }

    /// The effective configuration, one `VARIABLE = value  # origin` line per variable,
    /// secrets masked.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for e in &self.effective {
            let line = format!("{} = {}", e.name, e.shown);
            out.push_str(&format!("{line:<56}  # {}\n", e.origin));
        }
        out
    }
}

/// Hides the password of a URL (`postgres://user:secret@host/db` → `postgres://user:***@host/db`).
pub fn mask_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest
        .split_once('/')
        .map_or((rest, None), |(a, p)| (a, Some(p)));
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            if userinfo.contains(':') {
                format!("{user}:***@{host}")
            } else {
                format!("{user}@{host}")
            }
        }
        None => authority.to_owned(),
    };
    match path {
        Some(p) => format!("{scheme}://{authority}/{p}"),
        None => format!("{scheme}://{authority}"),
    }
}

#[cfg(test)]
mod tests;
