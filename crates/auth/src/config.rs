use std::time::Duration;

use ainative_domain::PasswordPolicy;
use secrecy::SecretString;

use crate::keys::PrivateKey;

/// JWT settings (SPEC §4, §10.3).
#[derive(Debug, Clone)]
pub struct JwtSettings {
    /// HS256 secret, at least 32 bytes in production; signs only when `signing_key` is `None`.
    pub secret: SecretString,
    /// The asymmetric key new tokens are signed with; `None` = HS256 with `secret`.
    pub signing_key: Option<PrivateKey>,
    /// Retired keys: they sign nothing but still verify (and stay in the JWKS) until their
    /// last token has expired.
    pub previous_keys: Vec<PrivateKey>,
    /// `iss` claim issued and required.
    pub issuer: String,
    /// `aud` claim issued and required.
    pub audience: String,
    /// Life of an access token.
    pub access_ttl: Duration,
    /// Absolute life of a refresh-token family.
    pub refresh_ttl: Duration,
}

/// Everything the identity core is configured with.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Token settings.
    pub jwt: JwtSettings,
    /// Password rules.
    pub password_policy: PasswordPolicy,
    /// A retired refresh token reused within this window gets a fresh access token instead of
    /// revoking its family.
    pub refresh_reuse_grace: Duration,
    /// Failed logins allowed per account and per IP within [`AuthConfig::LOGIN_WINDOW`].
    pub login_attempts_limit: u32,
}

impl AuthConfig {
    /// The window of failed-login throttling.
    pub const LOGIN_WINDOW: Duration = Duration::from_secs(15 * 60);

    /// Logins from one client IP verified at the same time. Failures from an IP count only
    /// once known, so this bounds how many passwords a parallel burst can try before they
    /// do (with the failure limit, at most limit + this many per window).
    pub const LOGIN_IP_IN_FLIGHT: u32 = 64;

    /// How long an in-flight slot is held at most (a crashed instance's slots expire).
    pub const LOGIN_IN_FLIGHT_WINDOW: Duration = Duration::from_secs(60);
}
