use ainative_domain::{AccessDenied, ValidationErrors};
use ainative_ports::{Conflict, LlmError, PortError};

use crate::gateway::GatewayError;

/// Anything that breaks a request for lack of a better category: the underlying error, kept
/// as the source so the log line of a 500 shows the whole chain.
pub type InternalError = Box<dyn std::error::Error + Send + Sync>;

/// Errors of the tutoring use cases; `http-api` maps each to one status.
#[derive(Debug, thiserror::Error)]
pub enum TutoringError {
    /// Input broke field rules (422).
    #[error(transparent)]
    Validation(#[from] ValidationErrors),
    /// The caller may see the resource but not do this (403).
    #[error("forbidden")]
    Forbidden(#[from] AccessDenied),
    /// Absent, or not visible to the caller (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The resource's state does not allow this (409); says which rule.
    #[error("conflict: {0}")]
    Conflict(Conflict),
    /// Over a limit (429).
    #[error("{message}")]
    RateLimited {
        /// What was limited.
        message: &'static str,
        /// Seconds until a retry can succeed.
        retry_after_secs: u64,
    },
    /// An upload over the size limit (413).
    #[error("the upload is too large")]
    PayloadTooLarge,
    /// An upload of a content type that is not processed (415).
    #[error("unsupported content type")]
    UnsupportedContentType,
    /// The language model failed (502) or timed out (504).
    #[error(transparent)]
    Llm(#[from] LlmError),
    /// A dependency is unavailable (503).
    #[error("service unavailable")]
    Unavailable(#[source] PortError),
    /// Anything else (500); for logs only.
    #[error("internal error")]
    Internal(#[source] InternalError),
}

impl TutoringError {
    /// Maps a port error, naming what was not found; keeps the error as the source of 503s
    /// and 500s.
    pub fn from_port(err: PortError, what: &'static str) -> Self {
        match err {
            PortError::NotFound => Self::NotFound(what),
            PortError::Conflict(conflict) => Self::Conflict(conflict),
            err @ PortError::Unavailable(_) => Self::Unavailable(err),
            err @ PortError::Other(_) => Self::Internal(Box::new(err)),
        }
    }
}

impl From<GatewayError> for TutoringError {
    fn from(err: GatewayError) -> Self {
        match err {
            GatewayError::Validation(errors) => Self::Validation(errors),
            GatewayError::SessionNotActive => Self::Conflict(Conflict::SessionNotActive),
            GatewayError::LimitReached => Self::Conflict(Conflict::InteractionLimit),
            GatewayError::Llm(err) => Self::Llm(err),
            GatewayError::Storage(err) => Self::from_port(err, "session"),
            GatewayError::OwnCredentialUnavailable => {
                Self::Conflict(Conflict::OwnCredentialUnavailable)
            }
            GatewayError::CredentialLimited { retry_after_secs } => Self::RateLimited {
                message: "the activity's model credential is over its request limits",
                retry_after_secs,
            },
        }
    }
}

impl From<PortError> for TutoringError {
    fn from(err: PortError) -> Self {
        Self::from_port(err, "resource")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ainative_ports::error_chain;

    #[test]
    fn storage_failures_keep_their_cause() {
        let io = std::io::Error::other("disk on fire");
        let err = TutoringError::from(PortError::other_from("insert failed", io));
        assert!(matches!(err, TutoringError::Internal(_)));
        assert_eq!(
            error_chain(&err),
            "internal error: storage failure: insert failed: disk on fire"
        );
        let down = TutoringError::from(GatewayError::Storage(PortError::unavailable_from(
            "pool timed out",
            std::io::Error::other("no connection"),
        )));
        assert_eq!(
            error_chain(&down),
            "service unavailable: unavailable: pool timed out: no connection"
        );
        assert!(matches!(
            TutoringError::from(GatewayError::LimitReached),
            TutoringError::Conflict(Conflict::InteractionLimit)
        ));
    }
}
