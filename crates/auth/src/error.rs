use ainative_domain::ValidationErrors;
use ainative_ports::{error_chain, Conflict, PortError};

/// Why a token was not accepted. Reported in logs and metrics, never to clients (they all
/// get the same 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRejection {
    /// Not a JWT, bad signature, wrong algorithm, issuer or audience.
    Malformed,
    /// Past `exp`.
    Expired,
    /// An access token where a refresh token belongs or the other way round.
    WrongType,
    /// The session was revoked (logout, password change, admin action, replay).
    Revoked,
    /// A retired refresh token was presented again; its family is now revoked.
    Replayed,
    /// The user no longer exists or is inactive.
    UserGone,
}

impl TokenRejection {
    /// Label for metrics and logs.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::Expired => "expired",
            Self::WrongType => "wrong_type",
            Self::Revoked => "revoked",
            Self::Replayed => "replayed",
            Self::UserGone => "user_gone",
        }
    }
}

/// Errors of the identity use cases; `http-api` maps each to one status.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Input broke field rules (422).
    #[error(transparent)]
    Validation(#[from] ValidationErrors),
    /// Wrong login or password; the same whether or not the account exists (401).
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The account is deactivated (403).
    #[error("account is inactive")]
    AccountInactive,
    /// Too many failed logins (429).
    #[error("too many failed login attempts")]
    Throttled {
        /// Seconds until the next attempt is allowed.
        retry_after_secs: u64,
    },
    /// The presented token is not acceptable (401).
    #[error("token rejected: {}", .0.as_str())]
    InvalidToken(TokenRejection),
    /// Authenticated but not allowed (403).
    #[error("forbidden")]
    Forbidden,
    /// The addressed resource does not exist or is not visible (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A unique field is taken (409); says which.
    #[error("{0}")]
    Conflict(Conflict),
    /// A dependency is unavailable (503).
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Anything else (500); the message is for logs only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<PortError> for AuthError {
    fn from(err: PortError) -> Self {
        match err {
            PortError::NotFound => Self::NotFound("resource"),
            PortError::Conflict(conflict) => Self::Conflict(conflict),
            err @ PortError::Unavailable(_) => Self::Unavailable(error_chain(&err)),
            err @ PortError::Other(_) => Self::Internal(error_chain(&err)),
        }
    }
}
