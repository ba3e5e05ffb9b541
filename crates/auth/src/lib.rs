//! Identity use cases of ainative: registration, login, refresh-token rotation with reuse
//! detection, logout, password change, administration and the RBAC guards.
//!
//! The crate depends only on `domain` and `ports`: storage, throttling and revocation come in
//! as `Arc<dyn Port>` through [`AuthDeps`].

pub mod account_mail;
mod account_token;
mod accounts;
mod admin;
mod api_keys;
mod config;
mod error;
mod jwt;
mod keys;
mod mail_templates;
pub mod oauth;
mod password;
mod revocation_sync;
mod service;
mod user_cache;

pub use account_mail::{
    AccountMailer, AccountMailerDeps, Delivery, MailJob, MailJobError, MAIL_JOB_KIND,
    MAIL_MAX_ATTEMPTS,
};
pub use accounts::{AccountConfig, AccountDeps, AccountService, MAIL_WINDOW};
pub use admin::AdminService;
pub use api_keys::{
    is_api_key, ApiKeyDeps, ApiKeyLimits, ApiKeyService, CreatedApiKey, NewKeyInput, Pepper,
};
pub use config::{AuthConfig, JwtSettings};
pub use error::{AuthError, AuthFailure, InternalError, TokenRejection};
pub use jwt::{Claims, TokenCodec, TokenKind};
pub use keys::{KeyError, KeyRing, KeySummary, PrivateKey, SigningAlgorithm};
pub use oauth::{CallbackInput, OAuthConfig, OAuthError, OAuthService, StartedFlow};
pub use password::{BcryptHasher, PasswordHasher};
pub use revocation_sync::RevocationSync;
pub use service::{AuthDeps, AuthService, LoginOutcome, RegisterInput, TokenPair};
pub use user_cache::UserCache;
