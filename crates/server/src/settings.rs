//! Configuration (SPEC §2): built-in defaults < `config/<APP_ENV>.toml` < environment
//! variables (a `.env` file is read outside production). Every value is parsed here, once;
//! an invalid one stops start-up with the variable's name and the expected type.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};

/// A configuration error naming the variable.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A variable has a value of the wrong shape.
    #[error("{var}: expected {expected}, got {got:?}")]
    Invalid {
        /// Variable name.
        var: &'static str,
        /// What is expected.
        expected: &'static str,
        /// The offending value (never a secret).
        got: String,
    },
    /// The combination is refused (production safety rules).
    #[error("{var}: {reason}")]
    Refused {
        /// Variable name.
        var: &'static str,
        /// Why.
        reason: String,
    },
    /// The configuration sources could not be read.
    #[error("configuration could not be read: {0}")]
    Source(String),
}

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
    fn as_str(&self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Test => "test",
            Self::Production => "production",
        }
    }
}

/// Where the JWT secret came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// `JWT_SECRET_KEY`.
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
    /// HS256 secret.
    pub secret: SecretString,
    /// Where the secret came from.
    pub source: SecretSource,
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

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable.
    Pretty,
    /// One JSON object per line.
    Json,
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
}

/// Raw values by variable name (upper case), after layering.
struct Raw(HashMap<String, String>);

impl Raw {
    fn get(&self, var: &'static str) -> Option<&str> {
        self.0.get(var).map(|s| s.trim()).filter(|s| !s.is_empty())
    }

    fn string(&self, var: &'static str, default: &str) -> String {
        self.get(var).unwrap_or(default).to_owned()
    }

    fn parse<T: std::str::FromStr>(
        &self,
        var: &'static str,
        default: T,
        expected: &'static str,
    ) -> Result<T, SettingsError> {
        match self.get(var) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| invalid(var, expected, v)),
        }
    }

    fn ranged<T>(
        &self,
        var: &'static str,
        default: T,
        range: std::ops::RangeInclusive<T>,
        expected: &'static str,
    ) -> Result<T, SettingsError>
    where
        T: std::str::FromStr + PartialOrd + Copy,
    {
        let value = self.parse(var, default, expected)?;
        if range.contains(&value) {
            Ok(value)
        } else {
            Err(invalid(var, expected, self.get(var).unwrap_or_default()))
        }
    }

    fn bool(&self, var: &'static str, default: bool) -> Result<bool, SettingsError> {
        match self.get(var).map(str::to_ascii_lowercase).as_deref() {
            None => Ok(default),
            Some("true" | "1" | "yes" | "on") => Ok(true),
            Some("false" | "0" | "no" | "off") => Ok(false),
            Some(other) => Err(invalid(var, "a boolean (true or false)", other)),
        }
    }

    fn secs(&self, var: &'static str, default: u64) -> Result<Duration, SettingsError> {
        Ok(Duration::from_secs(self.parse(
            var,
            default,
            "a whole number of seconds",
        )?))
    }

    fn list(&self, var: &'static str) -> Vec<String> {
        self.get(var)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn invalid(var: &'static str, expected: &'static str, got: &str) -> SettingsError {
    SettingsError::Invalid {
        var,
        expected,
        got: got.to_owned(),
    }
}

/// Every variable the service reads (documented in `.env.example`).
pub const VARIABLES: &[&str] = &[
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
    "ALLOW_SQLITE_IN_PRODUCTION",
    "REDIS_URL",
    "REDIS_POOL_SIZE",
    "REDIS_TIMEOUT_MS",
    "REDIS_KEY_PREFIX",
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
    "REFRESH_REUSE_GRACE_SECS",
    "PASSWORD_MIN_LENGTH",
    "SHUTDOWN_TIMEOUT_SECS",
];

impl Settings {
    /// Loads from `config/<APP_ENV>.toml` (if present) and the process environment, reading
    /// `.env` first outside production. `data_dir` holds the generated development secret.
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
        Self::from_layers(env, Path::new("config"), data_dir)
    }

    /// Builds settings from an explicit environment map (tests use this), layered over the
    /// optional `<config_dir>/<APP_ENV>.toml`.
    pub fn from_layers(
        env: HashMap<String, String>,
        config_dir: &Path,
        data_dir: &Path,
    ) -> Result<Self, SettingsError> {
        let app_env = env
            .get("APP_ENV")
            .map(String::as_str)
            .unwrap_or("development")
            .to_owned();
        let file = config_dir.join(format!("{app_env}.toml"));
        let mut builder =
            config::Config::builder().add_source(config::File::from(file).required(false));
        for var in VARIABLES {
            if let Some(value) = env.get(*var) {
                builder = builder
                    .set_override(var.to_ascii_lowercase(), value.clone())
                    .map_err(|e| SettingsError::Source(e.to_string()))?;
            }
        }
        let layered = builder
            .build()
            .map_err(|e| SettingsError::Source(e.to_string()))?;
        let table = layered
            .try_deserialize::<HashMap<String, config::Value>>()
            .map_err(|e| SettingsError::Source(e.to_string()))?;
        let mut raw = HashMap::new();
        for (key, value) in table {
            let var = key.to_ascii_uppercase();
            let text = value
                .into_string()
                .map_err(|_| SettingsError::Source(format!("{var}: expected a scalar value")))?;
            raw.insert(var, text);
        }
        Self::parse(&Raw(raw), data_dir)
    }

    fn parse(raw: &Raw, data_dir: &Path) -> Result<Self, SettingsError> {
        let env = match raw.string("APP_ENV", "development").as_str() {
            "development" => AppEnv::Development,
            "test" => AppEnv::Test,
            "production" => AppEnv::Production,
            other => {
                return Err(invalid(
                    "APP_ENV",
                    "one of development, test, production",
                    other,
                ))
            }
        };
        let production = env == AppEnv::Production;
        let database_url = raw.string("DATABASE_URL", "sqlite://data/ainative.db");
        if !(database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://")
            || database_url.starts_with("sqlite:"))
        {
            return Err(invalid(
                "DATABASE_URL",
                "a postgres:// or sqlite:// URL",
                &mask_url(&database_url),
            ));
        }
        let pool_size = raw.ranged("DB_POOL_SIZE", 10u32, 1..=1000, "an integer 1..=1000")?;
        let database = DatabaseSettings {
            url: SecretString::from(database_url),
            pool_size,
            min_idle: raw.ranged(
                "DB_MIN_IDLE",
                1u32,
                0..=pool_size,
                "an integer between 0 and DB_POOL_SIZE",
            )?,
            pool_timeout: raw.secs("DB_POOL_TIMEOUT_SECS", 5)?,
            recycle: raw.secs("DB_POOL_RECYCLE_SECS", 1800)?,
            idle_timeout: raw.secs("DB_IDLE_TIMEOUT_SECS", 600)?,
            pre_ping: raw.bool("DB_POOL_PRE_PING", true)?,
        };
        let allow_sqlite_in_production = raw.bool("ALLOW_SQLITE_IN_PRODUCTION", false)?;
        if production && database.is_sqlite() && !allow_sqlite_in_production {
            return Err(SettingsError::Refused {
                var: "DATABASE_URL",
                reason: "SQLite is refused when APP_ENV=production; use PostgreSQL or set ALLOW_SQLITE_IN_PRODUCTION=true".into(),
            });
        }
        let redis = match raw.get("REDIS_URL") {
            None => None,
            Some(url) if url.starts_with("redis://") || url.starts_with("rediss://") => {
                Some(RedisSettings {
                    url: SecretString::from(url.to_owned()),
                    pool_size: raw.ranged(
                        "REDIS_POOL_SIZE",
                        16u32,
                        1..=1024,
                        "an integer 1..=1024",
                    )?,
                    timeout: Duration::from_millis(raw.ranged(
                        "REDIS_TIMEOUT_MS",
                        250u64,
                        1..=60_000,
                        "milliseconds 1..=60000",
                    )?),
                    key_prefix: raw.string("REDIS_KEY_PREFIX", "ainative:"),
                })
            }
            Some(other) => {
                return Err(invalid(
                    "REDIS_URL",
                    "a redis:// or rediss:// URL",
                    &mask_url(other),
                ))
            }
        };
        let jwt = Self::jwt(raw, env, data_dir)?;
        let llm_provider = raw.string("LLM_PROVIDER", "offline");
        if !matches!(llm_provider.as_str(), "offline" | "openai") {
            return Err(invalid("LLM_PROVIDER", "offline or openai", &llm_provider));
        }
        let log_format = match raw.get("LOG_FORMAT") {
            None if production => LogFormat::Json,
            None => LogFormat::Pretty,
            Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => return Err(invalid("LOG_FORMAT", "pretty or json", other)),
        };
        let trusted_proxies = raw
            .list("TRUSTED_PROXIES")
            .iter()
            .map(|cidr| {
                cidr.parse::<IpNet>()
                    .or_else(|_| cidr.parse::<std::net::IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        invalid(
                            "TRUSTED_PROXIES",
                            "a comma list of CIDRs (e.g. 10.0.0.0/8)",
                            cidr,
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let cors_origins = raw.list("CORS_ORIGINS");
        if let Some(bad) = cors_origins
            .iter()
            .find(|o| *o == "*" || !(o.starts_with("http://") || o.starts_with("https://")))
        {
            return Err(invalid(
                "CORS_ORIGINS",
                "a comma list of origins like https://app.example.com (no *)",
                bad,
            ));
        }
        Ok(Self {
            env,
            host: raw.string("APP_HOST", "127.0.0.1"),
            port: raw.parse("APP_PORT", 8000u16, "a port number 0..=65535")?,
            database,
            auto_migrate: raw.bool("AUTO_MIGRATE", !production)?,
            allow_sqlite_in_production,
            redis,
            cache_ttl: raw.secs("CACHE_TTL_SECS", 3600)?,
            cache_max_entries: raw.ranged(
                "CACHE_MAX_ENTRIES",
                10_000u64,
                1..=10_000_000,
                "an integer 1..=10000000",
            )?,
            jwt,
            bcrypt_cost: raw.ranged("BCRYPT_COST", 12u32, 4..=31, "an integer 4..=31")?,
            rate_limits: RateLimitSettings {
                anonymous: raw.parse(
                    "RATE_LIMIT_ANONYMOUS",
                    60u32,
                    "requests per minute (0 = unlimited)",
                )?,
                free: raw.parse(
                    "RATE_LIMIT_FREE_TIER",
                    120u32,
                    "requests per minute (0 = unlimited)",
                )?,
                premium: raw.parse(
                    "RATE_LIMIT_PREMIUM_TIER",
                    1200u32,
                    "requests per minute (0 = unlimited)",
                )?,
                admin: raw.parse(
                    "RATE_LIMIT_ADMIN_TIER",
                    0u32,
                    "requests per minute (0 = unlimited)",
                )?,
                login: raw.ranged(
                    "RATE_LIMIT_LOGIN",
                    10u32,
                    1..=10_000,
                    "failed logins per 15 minutes, 1..=10000",
                )?,
            },
            trusted_proxies,
            cors_origins,
            max_body_bytes: raw.ranged(
                "MAX_BODY_BYTES",
                1_048_576usize,
                1024..=1_073_741_824,
                "bytes 1024..=1073741824",
            )?,
            llm: LlmSettings {
                provider: llm_provider,
                base_url: raw.get("LLM_BASE_URL").map(str::to_owned),
                api_key: raw
                    .get("LLM_API_KEY")
                    .map(|k| SecretString::from(k.to_owned())),
                model: raw.get("LLM_MODEL").map(str::to_owned),
                timeout: raw.secs("LLM_TIMEOUT_SECS", 30)?,
                max_retries: raw.ranged("LLM_MAX_RETRIES", 2u32, 0..=10, "an integer 0..=10")?,
            },
            log_format,
            log_level: raw.string("LOG_LEVEL", "info"),
            otel_endpoint: raw.get("OTEL_EXPORTER_OTLP_ENDPOINT").map(str::to_owned),
            metrics_addr: raw.parse(
                "METRICS_ADDR",
                SocketAddr::from(([127, 0, 0, 1], 9100)),
                "a socket address like 127.0.0.1:9100",
            )?,
            refresh_reuse_grace: raw.secs("REFRESH_REUSE_GRACE_SECS", 0)?,
            password_min_length: raw.ranged(
                "PASSWORD_MIN_LENGTH",
                8usize,
                1..=72,
                "an integer 1..=72",
            )?,
            shutdown_timeout: raw.secs("SHUTDOWN_TIMEOUT_SECS", 30)?,
        })
    }

    fn jwt(raw: &Raw, env: AppEnv, data_dir: &Path) -> Result<JwtConfig, SettingsError> {
        let algorithm = raw.string("JWT_ALGORITHM", "HS256");
        if algorithm != "HS256" {
            return Err(invalid(
                "JWT_ALGORITHM",
                "HS256 (the only algorithm supported in this release)",
                &algorithm,
            ));
        }
        let (secret, source) = match raw.get("JWT_SECRET_KEY") {
            Some(secret) if secret.len() >= 32 => (secret.to_owned(), SecretSource::Configured),
            Some(secret) if env == AppEnv::Production => {
                return Err(SettingsError::Refused {
                    var: "JWT_SECRET_KEY",
                    reason: format!(
                        "must be at least 32 bytes in production (got {} bytes)",
                        secret.len()
                    ),
                })
            }
            Some(secret) => {
                eprintln!("warning: JWT_SECRET_KEY is shorter than 32 bytes; acceptable only outside production");
                (secret.to_owned(), SecretSource::Configured)
            }
            None if env == AppEnv::Production => {
                return Err(SettingsError::Refused {
                    var: "JWT_SECRET_KEY",
                    reason: "is required when APP_ENV=production (at least 32 random bytes)".into(),
                })
            }
            None => {
                let path = data_dir.join("jwt_secret");
                (
                    crate::dev_secret::load_or_create(&path)
                        .map_err(|e| SettingsError::Source(e.to_string()))?,
                    SecretSource::DevelopmentFile(path),
                )
            }
        };
        Ok(JwtConfig {
            secret: SecretString::from(secret),
            source,
            issuer: raw.string("JWT_ISSUER", "ainative"),
            audience: raw.string("JWT_AUDIENCE", "ainative-api"),
            access_ttl: Duration::from_secs(
                60 * raw.ranged(
                    "JWT_ACCESS_TOKEN_EXPIRE_MINUTES",
                    30u64,
                    1..=1440,
                    "minutes 1..=1440",
                )?,
            ),
            refresh_ttl: Duration::from_secs(
                86_400
                    * raw.ranged(
                        "JWT_REFRESH_TOKEN_EXPIRE_DAYS",
                        7u64,
                        1..=365,
                        "days 1..=365",
                    )?,
            ),
        })
    }

    /// The effective configuration, one `VARIABLE = value` per line, secrets masked.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        let mut line = |k: &str, v: &dyn fmt::Display| out.push_str(&format!("{k} = {v}\n"));
        line("APP_ENV", &self.env.as_str());
        line("APP_HOST", &self.host);
        line("APP_PORT", &self.port);
        line("DATABASE_URL", &mask_url(self.database.url.expose_secret()));
        line("DB_POOL_SIZE", &self.database.pool_size);
        line("DB_MIN_IDLE", &self.database.min_idle);
        line(
            "DB_POOL_TIMEOUT_SECS",
            &self.database.pool_timeout.as_secs(),
        );
        line("DB_POOL_RECYCLE_SECS", &self.database.recycle.as_secs());
        line(
            "DB_IDLE_TIMEOUT_SECS",
            &self.database.idle_timeout.as_secs(),
        );
        line("DB_POOL_PRE_PING", &self.database.pre_ping);
        line("AUTO_MIGRATE", &self.auto_migrate);
        line(
            "ALLOW_SQLITE_IN_PRODUCTION",
            &self.allow_sqlite_in_production,
        );
        match &self.redis {
            Some(r) => {
                line("REDIS_URL", &mask_url(r.url.expose_secret()));
                line("REDIS_POOL_SIZE", &r.pool_size);
                line("REDIS_TIMEOUT_MS", &r.timeout.as_millis());
                line("REDIS_KEY_PREFIX", &r.key_prefix);
            }
            None => line("REDIS_URL", &"(unset: in-process only)"),
        }
        line("CACHE_TTL_SECS", &self.cache_ttl.as_secs());
        line("CACHE_MAX_ENTRIES", &self.cache_max_entries);
        let secret_note = match &self.jwt.source {
            SecretSource::Configured => {
                format!("****** ({} bytes)", self.jwt.secret.expose_secret().len())
            }
            SecretSource::DevelopmentFile(p) => {
                format!("****** (generated, kept in {})", p.display())
            }
        };
        line("JWT_SECRET_KEY", &secret_note);
        line("JWT_ALGORITHM", &"HS256");
        line("JWT_ISSUER", &self.jwt.issuer);
        line("JWT_AUDIENCE", &self.jwt.audience);
        line(
            "JWT_ACCESS_TOKEN_EXPIRE_MINUTES",
            &(self.jwt.access_ttl.as_secs() / 60),
        );
        line(
            "JWT_REFRESH_TOKEN_EXPIRE_DAYS",
            &(self.jwt.refresh_ttl.as_secs() / 86_400),
        );
        line("BCRYPT_COST", &self.bcrypt_cost);
        line("RATE_LIMIT_ANONYMOUS", &self.rate_limits.anonymous);
        line("RATE_LIMIT_FREE_TIER", &self.rate_limits.free);
        line("RATE_LIMIT_PREMIUM_TIER", &self.rate_limits.premium);
        line("RATE_LIMIT_ADMIN_TIER", &self.rate_limits.admin);
        line("RATE_LIMIT_LOGIN", &self.rate_limits.login);
        line(
            "TRUSTED_PROXIES",
            &self
                .trusted_proxies
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(","),
        );
        line("CORS_ORIGINS", &self.cors_origins.join(","));
        line("MAX_BODY_BYTES", &self.max_body_bytes);
        line("LLM_PROVIDER", &self.llm.provider);
        line(
            "LLM_BASE_URL",
            &self
                .llm
                .base_url
                .as_deref()
                .map(mask_url)
                .unwrap_or_default(),
        );
        line(
            "LLM_API_KEY",
            &if self.llm.api_key.is_some() {
                "******"
            } else {
                ""
            },
        );
        line("LLM_MODEL", &self.llm.model.as_deref().unwrap_or_default());
        line("LLM_TIMEOUT_SECS", &self.llm.timeout.as_secs());
        line("LLM_MAX_RETRIES", &self.llm.max_retries);
        line(
            "LOG_FORMAT",
            &if self.log_format == LogFormat::Json {
                "json"
            } else {
                "pretty"
            },
        );
        line("LOG_LEVEL", &self.log_level);
        line(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            &self.otel_endpoint.as_deref().unwrap_or_default(),
        );
        line("METRICS_ADDR", &self.metrics_addr);
        line(
            "REFRESH_REUSE_GRACE_SECS",
            &self.refresh_reuse_grace.as_secs(),
        );
        line("PASSWORD_MIN_LENGTH", &self.password_min_length);
        line("SHUTDOWN_TIMEOUT_SECS", &self.shutdown_timeout.as_secs());
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
#[path = "settings_tests.rs"]
mod tests;
