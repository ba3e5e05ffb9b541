//! Parsed values → the typed [`Settings`], after the rules that span several variables
//! (production refusals, companions). Every problem is collected before giving up.

use std::path::Path;

use ainative_auth::{PrivateKey, SigningAlgorithm};
use secrecy::{ExposeSecret, SecretString};

use ainative_ai_gateway::credentials::cipher::decode_key;

use super::error::SettingsError;
use super::typos::ConfigWarning;
use super::values::{Origin, Raw, Values};
use super::vars::*;
use super::{
    CredentialSettings, DatabaseSettings, Effective, EmbeddingSettings, JobSettings, JwtConfig,
    LlmSettings, MailSettings, MaterialSettings, RateLimitSettings, RedisSettings, SecretSource,
    Settings,
};

/// The shortest JWT secret accepted in production, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;

/// Builds the settings, or the error listing every problem. Warnings are returned either way.
pub fn settings(
    raw: &Raw,
    data_dir: &Path,
    mut problems: Vec<SettingsError>,
    mut warnings: Vec<ConfigWarning>,
) -> (Result<Settings, SettingsError>, Vec<ConfigWarning>) {
    let production = raw.get(APP_ENV_NAME).map(|(text, _)| text) == Some("production");
    let values = Values::parse(TABLE, raw, production, &mut problems);
    cross_rules(&values, production, &mut problems, &mut warnings);
    if let Some(err) = SettingsError::from_problems(problems) {
        return (Err(err), warnings);
    }
    let mut values = values;
    let result = assemble(&mut values, data_dir, warnings.clone());
    (result, warnings)
}

const APP_ENV_NAME: &str = "APP_ENV";

/// Rules spanning several variables; each reads only values that parsed.
fn cross_rules(
    values: &Values,
    production: bool,
    problems: &mut Vec<SettingsError>,
    warnings: &mut Vec<ConfigWarning>,
) {
    let refuse = |var: &str, reason: String| SettingsError::Refused {
        var: var.to_owned(),
        reason,
    };
    if let (Some(min_idle), Some(pool_size)) = (values.get(&DB_MIN_IDLE), values.get(&DB_POOL_SIZE))
    {
        if min_idle > pool_size {
            problems.push(refuse(
                "DB_MIN_IDLE",
                format!("must not exceed DB_POOL_SIZE ({pool_size}), got {min_idle}"),
            ));
        }
    }
    let sqlite = values
        .get(&DATABASE_URL)
        .is_some_and(|url| url.expose_secret().starts_with("sqlite:"));
    if production && sqlite && values.get(&ALLOW_SQLITE_IN_PRODUCTION) == Some(false) {
        problems.push(refuse(
            "DATABASE_URL",
            "SQLite is refused when APP_ENV=production; use PostgreSQL or set \
             ALLOW_SQLITE_IN_PRODUCTION=true"
                .into(),
        ));
    }
    let asymmetric = values.get(&JWT_ALGORITHM).is_some_and(|alg| alg != "HS256");
    if asymmetric && production && values.get(&JWT_PRIVATE_KEY_FILE) == Some(None) {
        problems.push(refuse(
            "JWT_PRIVATE_KEY_FILE",
            "is required when APP_ENV=production and JWT_ALGORITHM is not HS256 \
             (make one with `ainative keys generate --out FILE`)"
                .into(),
        ));
    }
    match values.get(&JWT_SECRET_KEY) {
        Some(None) if asymmetric => {}
        Some(None) if production => problems.push(refuse(
            "JWT_SECRET_KEY",
            format!(
                "is required when APP_ENV=production (at least {MIN_SECRET_BYTES} random bytes)"
            ),
        )),
        Some(Some(secret)) if secret.expose_secret().len() < MIN_SECRET_BYTES => {
            let len = secret.expose_secret().len();
            if production {
                problems.push(refuse(
                    "JWT_SECRET_KEY",
                    format!(
                        "must be at least {MIN_SECRET_BYTES} bytes in production (got {len} bytes)"
                    ),
                ));
            } else {
                warnings.push(ConfigWarning {
                    var: "JWT_SECRET_KEY".into(),
                    message: format!(
                        "shorter than {MIN_SECRET_BYTES} bytes ({len}); acceptable only outside production"
                    ),
                    suggestion: None,
                });
            }
        }
        _ => {}
    }
    super::oauth::cross_rules(values, production, problems);
    credential_rules(values, production, problems);
    match values.get(&API_KEY_PEPPER) {
        Some(None) if production => problems.push(refuse(
            "API_KEY_PEPPER",
            format!(
                "is required when APP_ENV=production (at least {MIN_SECRET_BYTES} random bytes, the same on every instance)"
            ),
        )),
        Some(Some(pepper)) if production && pepper.expose_secret().len() < MIN_SECRET_BYTES => {
            problems.push(refuse(
                "API_KEY_PEPPER",
                format!("must be at least {MIN_SECRET_BYTES} bytes in production"),
            ));
        }
        _ => {}
    }
    if values.get(&MAIL_TRANSPORT).as_deref() == Some("smtp")
        && matches!(values.get(&SMTP_URL), Some(None))
    {
        problems.push(refuse(
            "SMTP_URL",
            "is required when MAIL_TRANSPORT=smtp".into(),
        ));
    }
    if production && values.get(&MAIL_TRANSPORT).as_deref() == Some("log") {
        warnings.push(ConfigWarning {
            var: "MAIL_TRANSPORT".into(),
            message: "log in production: verification and reset mails never leave this host".into(),
            suggestion: None,
        });
    }
    if values.get(&LLM_PROVIDER).as_deref() == Some("openai") {
        for (var, missing) in [
            ("LLM_BASE_URL", values.get(&LLM_BASE_URL) == Some(None)),
            ("LLM_MODEL", values.get(&LLM_MODEL) == Some(None)),
        ] {
            if missing {
                problems.push(refuse(var, "is required when LLM_PROVIDER=openai".into()));
            }
        }
    }
}

/// The credentials key: required in production, 32 bytes of base64, never the JWT secret;
/// previous keys each 32 bytes of base64.
fn credential_rules(values: &Values, production: bool, problems: &mut Vec<SettingsError>) {
    let refuse = |var: &str, reason: &str| SettingsError::Refused {
        var: var.to_owned(),
        reason: reason.to_owned(),
    };
    match values.get(&CREDENTIALS_ENCRYPTION_KEY) {
        Some(None) if production => problems.push(refuse(
            "CREDENTIALS_ENCRYPTION_KEY",
            "is required when APP_ENV=production (openssl rand -base64 32)",
        )),
        Some(Some(key)) => {
            if decode_key(key.expose_secret(), 0).is_err() {
                problems.push(refuse(
                    "CREDENTIALS_ENCRYPTION_KEY",
                    "must be the base64 of 32 random bytes (openssl rand -base64 32)",
                ));
            }
            let jwt = values.get(&JWT_SECRET_KEY).flatten();
            if jwt.is_some_and(|jwt| jwt.expose_secret() == key.expose_secret()) {
                problems.push(refuse(
                    "CREDENTIALS_ENCRYPTION_KEY",
                    "must not be the JWT secret (rotating one would break the other)",
                ));
            }
        }
        _ => {}
    }
    if let Some(Some(previous)) = values.get(&CREDENTIALS_PREVIOUS_KEYS) {
        let bad = previous
            .expose_secret()
            .split(',')
            .filter(|k| !k.trim().is_empty())
            .any(|k| decode_key(k, 0).is_err());
        if bad {
            problems.push(refuse(
                "CREDENTIALS_PREVIOUS_KEYS",
                "must be comma-separated base64 keys of 32 bytes each",
            ));
        }
    }
}

/// Every value is valid here; reading one as the wrong type is a table mistake (an error).
pub(super) fn assemble(
    values: &mut Values,
    data_dir: &Path,
    warnings: Vec<ConfigWarning>,
) -> Result<Settings, SettingsError> {
    let v = &*values;
    let env = v.require(&APP_ENV)?;
    let algorithm: SigningAlgorithm = v
        .require(&JWT_ALGORITHM)?
        .parse()
        .map_err(|e: ainative_auth::KeyError| refused("JWT_ALGORITHM", e.to_string()))?;
    let redis_url = v.require(&REDIS_URL)?;
    let redis_settings = RedisSettings {
        url: SecretString::from(String::new()),
        pool_size: v.require(&REDIS_POOL_SIZE)?,
        timeout: v.require(&REDIS_TIMEOUT_MS)?,
        key_prefix: v.require(&REDIS_KEY_PREFIX)?,
    };
    let (signing_key, key_source) = signing_key(v, algorithm, data_dir)?;
    let previous_keys = v
        .require(&JWT_PREVIOUS_KEY_FILES)?
        .iter()
        .map(|file| {
            crate::keys::read_key(Path::new(file)).map_err(|e| refused("JWT_PREVIOUS_KEY_FILES", e))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (secret, source) = match v.require(&JWT_SECRET_KEY)? {
        Some(secret) => (secret, SecretSource::Configured),
        // Unused: tokens are signed with the key.
        None if algorithm.is_asymmetric() => {
            (SecretString::from(String::new()), key_source.clone())
        }
        None => {
            let path = data_dir.join("jwt_secret");
            let secret = crate::dev_secret::load_or_create(&path, "JWT_SECRET_KEY")
                .map_err(|e| SettingsError::Source(format!("{}: {e}", path.display())))?;
            (
                SecretString::from(secret),
                SecretSource::DevelopmentFile(path),
            )
        }
    };
    let (credentials_key, key_source) = match v.require(&CREDENTIALS_ENCRYPTION_KEY)? {
        Some(key) => (key, SecretSource::Configured),
        None => {
            let path = data_dir.join("credentials_key");
            let key = crate::dev_secret::load_or_create_credentials_key(&path)
                .map_err(|e| SettingsError::Source(format!("{}: {e}", path.display())))?;
            (SecretString::from(key), SecretSource::DevelopmentFile(path))
        }
    };
    let (api_key_pepper, pepper_file) = match v.require(&API_KEY_PEPPER)? {
        Some(pepper) => (pepper, None),
        None => {
            let path = data_dir.join("api_key_pepper");
            let pepper = crate::dev_secret::load_or_create(&path, "API_KEY_PEPPER")
                .map_err(|e| SettingsError::Source(format!("{}: {e}", path.display())))?;
            (SecretString::from(pepper), Some(path))
        }
    };
    let mut settings = Settings {
        env,
        host: v.require(&APP_HOST)?,
        port: v.require(&APP_PORT)?,
        database: DatabaseSettings {
            url: v.require(&DATABASE_URL)?,
            pool_size: v.require(&DB_POOL_SIZE)?,
            min_idle: v.require(&DB_MIN_IDLE)?,
            pool_timeout: v.require(&DB_POOL_TIMEOUT_SECS)?,
            recycle: v.require(&DB_POOL_RECYCLE_SECS)?,
            idle_timeout: v.require(&DB_IDLE_TIMEOUT_SECS)?,
            pre_ping: v.require(&DB_POOL_PRE_PING)?,
        },
        auto_migrate: v.require(&AUTO_MIGRATE)?,
        allow_sqlite_in_production: v.require(&ALLOW_SQLITE_IN_PRODUCTION)?,
        redis: redis_url.map(|url| RedisSettings {
            url,
            ..redis_settings
        }),
        cache_ttl: v.require(&CACHE_TTL_SECS)?,
        cache_max_entries: v.require(&CACHE_MAX_ENTRIES)?,
        jwt: JwtConfig {
            algorithm,
            secret,
            signing_key,
            previous_keys,
            source: source.clone(),
            jwks_max_age: v.require(&JWKS_MAX_AGE_SECS)?,
            issuer: v.require(&JWT_ISSUER)?,
            audience: v.require(&JWT_AUDIENCE)?,
            access_ttl: v.require(&JWT_ACCESS_TOKEN_EXPIRE_MINUTES)?,
            refresh_ttl: v.require(&JWT_REFRESH_TOKEN_EXPIRE_DAYS)?,
        },
        bcrypt_cost: v.require(&BCRYPT_COST)?,
        rate_limits: RateLimitSettings {
            anonymous: v.require(&RATE_LIMIT_ANONYMOUS)?,
            free: v.require(&RATE_LIMIT_FREE_TIER)?,
            premium: v.require(&RATE_LIMIT_PREMIUM_TIER)?,
            admin: v.require(&RATE_LIMIT_ADMIN_TIER)?,
            login: v.require(&RATE_LIMIT_LOGIN)?,
            oauth: v.require(&RATE_LIMIT_OAUTH)?,
        },
        trusted_proxies: v.require(&TRUSTED_PROXIES)?,
        cors_origins: v.require(&CORS_ORIGINS)?,
        max_body_bytes: v.require(&MAX_BODY_BYTES)?,
        llm: LlmSettings {
            provider: v.require(&LLM_PROVIDER)?,
            base_url: v.require(&LLM_BASE_URL)?,
            api_key: v.require(&LLM_API_KEY)?,
            model: v.require(&LLM_MODEL)?,
            timeout: v.require(&LLM_TIMEOUT_SECS)?,
            max_retries: v.require(&LLM_MAX_RETRIES)?,
        },
        materials: MaterialSettings {
            max_bytes: v.require(&MAX_MATERIAL_BYTES)?,
            embedding: {
                // All three are read (and checked) whether or not an endpoint is set.
                let (base_url, api_key, model) = (
                    v.require(&EMBEDDING_BASE_URL)?,
                    v.require(&EMBEDDING_API_KEY)?,
                    v.require(&EMBEDDING_MODEL)?,
                );
                base_url.map(|base_url| EmbeddingSettings {
                    base_url,
                    api_key,
                    model,
                })
            },
            retrieval_max_tokens: v.require(&RETRIEVAL_MAX_TOKENS)?,
            retrieval_max_chunks: v.require(&RETRIEVAL_MAX_CHUNKS)?,
        },
        jobs: JobSettings {
            workers: v.require(&WORKERS)?,
            lease: v.require(&JOB_LEASE_SECS)?,
            poll: v.require(&JOB_POLL_MS)?,
            backoff_base: v.require(&JOB_BACKOFF_BASE_SECS)?,
            backoff_max: v.require(&JOB_BACKOFF_MAX_SECS)?,
            shutdown_grace: v.require(&JOB_SHUTDOWN_GRACE_SECS)?,
            diagnostics_dir: v.require(&JOB_DIAGNOSTICS_DIR)?.map(Into::into),
        },
        credentials: CredentialSettings {
            key: credentials_key,
            source: key_source.clone(),
            previous: v.require(&CREDENTIALS_PREVIOUS_KEYS)?,
            allow_private: v.require(&ALLOW_PRIVATE_LLM_ENDPOINTS)?,
            default_rpm: v.require(&LLM_CREDENTIAL_DEFAULT_RPM)?,
            default_concurrency: v.require(&LLM_CREDENTIAL_DEFAULT_CONCURRENCY)?,
        },
        log_format: v.require(&LOG_FORMAT)?,
        log_level: v.require(&LOG_LEVEL)?,
        otel_endpoint: v.require(&OTEL_EXPORTER_OTLP_ENDPOINT)?,
        metrics_addr: v.require(&METRICS_ADDR)?,
        refresh_reuse_grace: v.require(&REFRESH_REUSE_GRACE_SECS)?,
        password_min_length: v.require(&PASSWORD_MIN_LENGTH)?,
        shutdown_timeout: v.require(&SHUTDOWN_TIMEOUT_SECS)?,
        mail: MailSettings {
            transport: v.require(&MAIL_TRANSPORT)?,
            smtp_url: v.require(&SMTP_URL)?,
            smtp_timeout: v.require(&SMTP_TIMEOUT_SECS)?,
            from: v.require(&MAIL_FROM)?,
            outbox_dir: v.require(&MAIL_OUTBOX_DIR)?.into(),
            product_name: v.require(&PRODUCT_NAME)?,
            public_base_url: v
                .require(&PUBLIC_BASE_URL)?
                .trim_end_matches('/')
                .to_owned(),
            reset_ttl: v.require(&EMAIL_TOKEN_TTL_MINUTES)?,
            verification_ttl: v.require(&EMAIL_VERIFICATION_TTL_MINUTES)?,
            per_address: v.require(&RATE_LIMIT_MAIL)?,
            per_ip: v.require(&RATE_LIMIT_MAIL_IP)?,
            require_verified_email: v.require(&REQUIRE_VERIFIED_EMAIL)?,
        },
        admin_password: v.require(&ADMIN_PASSWORD)?,
        oauth: super::oauth::assemble(v)?,
        api_key_pepper,
        warnings,
        effective: Vec::new(),
    };
    let generated = if algorithm.is_asymmetric() {
        "JWT_PRIVATE_KEY_FILE"
    } else {
        "JWT_SECRET_KEY"
    };
    if let (SecretSource::DevelopmentFile(path), Some(entry)) =
        (&source, values.entry_mut(generated))
    {
        entry.origin = Origin::Generated(path.display().to_string());
    }
    if let (SecretSource::DevelopmentFile(path), Some(entry)) =
        (&key_source, values.entry_mut("CREDENTIALS_ENCRYPTION_KEY"))
    {
        entry.origin = Origin::Generated(path.display().to_string());
    }
    if let (Some(path), Some(entry)) = (&pepper_file, values.entry_mut("API_KEY_PEPPER")) {
        entry.origin = Origin::Generated(path.display().to_string());
    }
    settings.effective = values
        .entries()
        .map(|(name, entry)| Effective {
            name: name.to_owned(),
            shown: match (&entry.origin, &entry.value) {
                (Origin::Generated(_), _) => "******".into(),
                _ => entry.shown(),
            },
            origin: entry.origin.clone(),
        })
        .collect();
    Ok(settings)
}

fn refused(var: &str, reason: String) -> SettingsError {
    SettingsError::Refused {
        var: var.to_owned(),
        reason,
    }
}

/// The asymmetric signing key: `JWT_PRIVATE_KEY_FILE`, or outside production one generated
/// once into the data directory. `None` for HS256.
fn signing_key(
    v: &Values,
    algorithm: SigningAlgorithm,
    data_dir: &Path,
) -> Result<(Option<PrivateKey>, SecretSource), SettingsError> {
    if !algorithm.is_asymmetric() {
        return Ok((None, SecretSource::Configured));
    }
    let (key, source) = match v.require(&JWT_PRIVATE_KEY_FILE)? {
        Some(file) => (
            crate::keys::read_key(Path::new(&file))
                .map_err(|e| refused("JWT_PRIVATE_KEY_FILE", e))?,
            SecretSource::Configured,
        ),
        None => {
            let path = data_dir.join(format!("jwt_{}.pem", algorithm.as_str().to_lowercase()));
            let key = crate::dev_secret::load_or_create_key(&path, algorithm)
                .map_err(|e| refused("JWT_PRIVATE_KEY_FILE", e))?;
            (key, SecretSource::DevelopmentFile(path))
        }
    };
    if key.algorithm() != algorithm {
        return Err(refused(
            "JWT_PRIVATE_KEY_FILE",
            format!(
                "holds an {} key but JWT_ALGORITHM is {algorithm}",
                key.algorithm()
            ),
        ));
    }
    Ok((Some(key), source))
}
