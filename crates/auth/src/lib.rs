//! Identity use cases of ainative: registration, login, refresh-token rotation with reuse
//! detection, logout, password change, administration and the RBAC guards.
//!
//! The crate depends only on `domain` and `ports`: storage, throttling and revocation come in
//! as `Arc<dyn Port>` through [`AuthDeps`].

mod account_token;
mod accounts;
mod admin;
mod config;
mod error;
mod jwt;
mod mail_templates;
mod password;
mod revocation_sync;
mod service;
mod user_cache;

pub use accounts::{AccountConfig, AccountDeps, AccountService, MAIL_WINDOW};
pub use admin::AdminService;
pub use config::{AuthConfig, JwtSettings};
pub use error::{AuthError, AuthFailure, InternalError, TokenRejection};
pub use jwt::{Claims, TokenCodec, TokenKind};
pub use password::{BcryptHasher, PasswordHasher};
pub use revocation_sync::RevocationSync;
pub use service::{AuthDeps, AuthService, LoginOutcome, RegisterInput, TokenPair};
pub use user_cache::UserCache;
