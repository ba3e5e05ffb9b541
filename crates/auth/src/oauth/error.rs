use ainative_ports::{PortError, ProviderError};

use crate::{AuthError, InternalError};

/// Errors of the social-login use cases; `http-api` maps each to one status.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The provider is not configured (404).
    #[error("unknown or disabled sign-in provider")]
    UnknownProvider,
    /// `redirect_uri` is not on the allow-list (400).
    #[error("redirect_uri is not an allowed application URL")]
    RedirectNotAllowed,
    /// Missing, unknown, expired, used or foreign `state`, or a browser without the flow's
    /// cookie (400).
    #[error("invalid or expired sign-in attempt; start again")]
    InvalidState,
    /// The provider returned an error instead of a code, e.g. refused consent (400).
    #[error("the provider did not grant the sign-in ({0})")]
    Denied(String),
    /// The provider refused the code or its answer was unusable (400), its ID token failed
    /// verification (401), or it was unreachable (503).
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// The provider shared no usable e-mail address (400).
    #[error("the provider did not share an e-mail address")]
    NoEmail,
    /// A local account has the provider's e-mail address; it is not linked silently (409
    /// `ACCOUNT_EXISTS`).
    #[error(
        "an account with this e-mail address exists; sign in to it and link this provider \
         from your account"
    )]
    AccountExists,
    /// The identity is linked to another user (409).
    #[error("this provider account is linked to another user")]
    IdentityLinkedElsewhere,
    /// Unknown, used or expired login code (400).
    #[error("invalid or expired login code")]
    InvalidLoginCode,
    /// The link is the user's last way to sign in (409).
    #[error("this is your only way to sign in; set a password or link another provider first")]
    LastSignInMethod,
    /// The caller has no such link (404).
    #[error("linked account not found")]
    NotFound,
    /// An identity error (inactive account, storage unavailable…).
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// Anything else (500).
    #[error("internal error")]
    Internal(#[source] InternalError),
}

impl From<PortError> for OAuthError {
    fn from(err: PortError) -> Self {
        Self::Auth(err.into())
    }
}
