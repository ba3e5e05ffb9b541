use ainative_domain::{AccessDenied, ValidationErrors};
use ainative_ports::{Conflict, PortError};

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
    /// Every rejection.
    pub const ALL: [TokenRejection; 6] = [
        Self::Malformed,
        Self::Expired,
        Self::WrongType,
        Self::Revoked,
        Self::Replayed,
        Self::UserGone,
    ];

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

/// Why an authentication failed: the `reason` of `auth_failures_total`. Carried by the error
/// itself ([`AuthError::failure`]), never read from a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// Wrong login or password.
    InvalidCredentials,
    /// The account is deactivated.
    InactiveAccount,
    /// A protected route without a bearer token.
    MissingToken,
    /// A token that was not accepted, and why.
    Token(TokenRejection),
}

impl AuthFailure {
    /// Every reason, so the metric can show each one from the start.
    pub const ALL: [AuthFailure; 9] = [
        Self::InvalidCredentials,
        Self::InactiveAccount,
        Self::MissingToken,
        Self::Token(TokenRejection::Malformed),
        Self::Token(TokenRejection::Expired),
        Self::Token(TokenRejection::WrongType),
        Self::Token(TokenRejection::Revoked),
        Self::Token(TokenRejection::Replayed),
        Self::Token(TokenRejection::UserGone),
    ];

    /// The metric label.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::InvalidCredentials => "invalid_credentials",
            Self::InactiveAccount => "inactive_account",
            Self::MissingToken => "missing_token",
            Self::Token(rejection) => rejection.as_str(),
        }
    }
}

/// Anything that breaks an identity use case for lack of a better category: the underlying
/// error, kept as the source so the log line of a 500 shows the whole chain.
pub type InternalError = Box<dyn std::error::Error + Send + Sync>;

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
    /// A verification or reset token that is malformed, unknown, used, expired, of the other
    /// purpose or outdated by a password change: one answer for all (400 `INVALID_TOKEN`).
    #[error("invalid or expired token")]
    InvalidAccountToken,
    /// `REQUIRE_VERIFIED_EMAIL` is on and the caller's address is not verified (403).
    #[error("e-mail address not verified")]
    EmailNotVerified,
    /// Too many mail requests for an address or from an IP (429).
    #[error("too many mail requests")]
    MailThrottled {
        /// Seconds until a request can succeed.
        retry_after_secs: u64,
    },
    /// Authenticated but not allowed (403).
    #[error("forbidden")]
    Forbidden(#[from] AccessDenied),
    /// The addressed resource does not exist or is not visible (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A unique field is taken (409); says which.
    #[error("{0}")]
    Conflict(Conflict),
    /// A dependency is unavailable (503).
    #[error("service unavailable")]
    Unavailable(#[source] PortError),
    /// Anything else (500); for logs only.
    #[error("internal error")]
    Internal(#[source] InternalError),
}

impl AuthError {
    /// The `auth_failures_total` reason of this error, when it is an authentication failure.
    pub fn failure(&self) -> Option<AuthFailure> {
        match self {
            Self::InvalidCredentials => Some(AuthFailure::InvalidCredentials),
            Self::AccountInactive => Some(AuthFailure::InactiveAccount),
            Self::InvalidToken(rejection) => Some(AuthFailure::Token(*rejection)),
            _ => None,
        }
    }
}

impl From<PortError> for AuthError {
    fn from(err: PortError) -> Self {
        match err {
            PortError::NotFound => Self::NotFound("resource"),
            PortError::Conflict(conflict) => Self::Conflict(conflict),
            err @ PortError::Unavailable(_) => Self::Unavailable(err),
            err @ PortError::Other(_) => Self::Internal(Box::new(err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ainative_ports::error_chain;

    #[test]
    fn failures_carry_their_reason() {
        assert_eq!(
            AuthError::InvalidToken(TokenRejection::Expired)
                .failure()
                .map(|f| f.as_str()),
            Some("expired")
        );
        assert_eq!(
            AuthError::AccountInactive.failure(),
            Some(AuthFailure::InactiveAccount)
        );
        assert_eq!(AuthError::NotFound("user").failure(), None);
        let labels: std::collections::HashSet<_> =
            AuthFailure::ALL.iter().map(AuthFailure::as_str).collect();
        assert_eq!(labels.len(), AuthFailure::ALL.len(), "labels are distinct");
    }

    #[test]
    fn storage_errors_keep_their_cause() {
        let err = AuthError::from(PortError::other_from(
            "corrupt row",
            std::io::Error::other("bad role 'wizard'"),
        ));
        assert_eq!(
            error_chain(&err),
            "internal error: storage failure: corrupt row: bad role 'wizard'"
        );
        let err = AuthError::from(PortError::unavailable_from(
            "pool timed out",
            std::io::Error::other("refused"),
        ));
        assert!(matches!(err, AuthError::Unavailable(_)));
        assert_eq!(
            error_chain(&err),
            "service unavailable: unavailable: pool timed out: refused"
        );
    }
}
