use ainative_domain::ValidationErrors;
use ainative_ports::{error_chain, Conflict, LlmError, PortError};

use crate::gateway::GatewayError;

/// Errors of the tutoring use cases; `http-api` maps each to one status.
#[derive(Debug, thiserror::Error)]
pub enum TutoringError {
    /// Input broke field rules (422).
    #[error(transparent)]
    Validation(#[from] ValidationErrors),
    /// The caller may see the resource but not do this (403).
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// Absent, or not visible to the caller (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The resource's state does not allow this (409).
    #[error("{0}")]
    Conflict(String),
    /// The language model failed (502) or timed out (504).
    #[error(transparent)]
    Llm(#[from] LlmError),
    /// A dependency is unavailable (503).
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Anything else (500); the message is for logs only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl TutoringError {
    /// Maps a port error, naming what was not found.
    pub fn from_port(err: PortError, what: &'static str) -> Self {
        match err {
            PortError::NotFound => Self::NotFound(what),
            PortError::Conflict(conflict) => Self::Conflict(conflict.to_string()),
            err @ PortError::Unavailable(_) => Self::Unavailable(error_chain(&err)),
            err @ PortError::Other(_) => Self::Internal(error_chain(&err)),
        }
    }
}

impl From<GatewayError> for TutoringError {
    fn from(err: GatewayError) -> Self {
        match err {
            GatewayError::Validation(errors) => Self::Validation(errors),
            GatewayError::SessionNotActive => {
                Self::Conflict(Conflict::SessionNotActive.to_string())
            }
            GatewayError::LimitReached => Self::Conflict(Conflict::InteractionLimit.to_string()),
            GatewayError::Llm(err) => Self::Llm(err),
            GatewayError::Storage(err) => Self::from_port(err, "session"),
        }
    }
}

impl From<PortError> for TutoringError {
    fn from(err: PortError) -> Self {
        Self::from_port(err, "resource")
    }
}
