//! Errors of the AI gateway.

use ainative_domain::{TurnRefused, ValidationErrors};
use ainative_ports::{Conflict, LlmError, PortError};

/// Why an interaction failed. Nothing is stored when any of these is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// The input breaks a rule (after normalisation), maps to 422.
    #[error(transparent)]
    Validation(#[from] ValidationErrors),
    /// The session is paused, completed or aborted (maps to 409).
    #[error("the session is not active")]
    SessionNotActive,
    /// The session reached the activity's `max_interactions` (maps to 409).
    #[error("the session reached its interaction limit")]
    LimitReached,
    /// The language model failed: [`LlmError::Timeout`] (504) or upstream/circuit open (502).
    #[error(transparent)]
    Llm(#[from] LlmError),
    /// A repository failed (`Unavailable` maps to 503).
    #[error("storage failed")]
    Storage(#[from] PortError),
    /// The activity requires an own model credential, and none named for the turn (the
    /// session's or the activity's) is usable (409).
    #[error("the own model credential is not usable")]
    OwnCredentialUnavailable,
    /// The activity's credential is over its requests per minute or concurrency (429).
    #[error("the model credential is over its limits")]
    CredentialLimited {
        /// Seconds until a retry can succeed.
        retry_after_secs: u64,
    },
}

impl From<TurnRefused> for GatewayError {
    fn from(refused: TurnRefused) -> Self {
        match refused {
            TurnRefused::NotActive => Self::SessionNotActive,
            TurnRefused::LimitReached => Self::LimitReached,
        }
    }
}

impl GatewayError {
    /// Whether the language model timed out (504), as opposed to failing (502).
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Llm(LlmError::Timeout))
    }

    /// Maps an error of `InteractionRepository::record` to the gateway's terms.
    pub(crate) fn from_record(error: PortError) -> Self {
        match &error {
            PortError::Conflict(Conflict::SessionNotActive) => Self::SessionNotActive,
            PortError::Conflict(Conflict::InteractionLimit) => Self::LimitReached,
            _ => Self::Storage(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_conflicts_map_to_gateway_errors() {
        assert_eq!(
            GatewayError::from_record(PortError::Conflict(Conflict::SessionNotActive)),
            GatewayError::SessionNotActive
        );
        assert_eq!(
            GatewayError::from_record(PortError::Conflict(Conflict::InteractionLimit)),
            GatewayError::LimitReached
        );
        assert_eq!(
            GatewayError::from_record(PortError::NotFound),
            GatewayError::Storage(PortError::NotFound)
        );
        assert!(GatewayError::Llm(LlmError::Timeout).is_timeout());
        assert!(!GatewayError::Llm(LlmError::upstream(
            ainative_ports::UpstreamKind::Connection,
            "x"
        ))
        .is_timeout());
        let storage = GatewayError::Storage(PortError::other_from(
            "query failed",
            std::io::Error::other("disk on fire"),
        ));
        assert_eq!(
            ainative_ports::error_chain(&storage),
            "storage failed: storage failure: query failed: disk on fire"
        );
    }
}
