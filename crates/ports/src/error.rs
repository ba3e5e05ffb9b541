//! The error every port reports.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// What went wrong in an adapter, in terms the core can act on.
///
/// `Unavailable` and `Other` carry a [`Cause`]: a message for logs plus, where there was
/// one, the underlying error as its `source()`, so the log line of a 500 can show the whole
/// chain. Neither message is ever sent to clients.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    /// The addressed record does not exist.
    #[error("not found")]
    NotFound,
    /// The write breaks a uniqueness or state rule; the payload says which.
    #[error("conflict: {0}")]
    Conflict(Conflict),
    /// The backing service cannot be reached or is exhausted (pool timeout); retry later.
    #[error("unavailable")]
    Unavailable(#[source] Cause),
    /// Anything else (a corrupt row, a bug); for logs only.
    #[error("storage failure")]
    Other(#[source] Cause),
}

impl PortError {
    /// `Unavailable` with a message and the error that caused it.
    pub fn unavailable_from(
        message: impl Into<Cow<'static, str>>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Unavailable(Cause::with_source(message, source))
    }

    /// `Other` with a message and the error that caused it.
    pub fn other_from(
        message: impl Into<Cow<'static, str>>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Other(Cause::with_source(message, source))
    }

    /// True for [`PortError::Unavailable`]: a retry later may succeed.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

/// Which rule a write broke. Callers match on the variant, never on text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Conflict {
    /// The e-mail address belongs to another user.
    Email,
    /// The username (in any case) belongs to another user.
    Username,
    /// The student id belongs to another user.
    StudentId,
    /// The student already has an active session on the activity.
    ActiveSession,
    /// The study session is paused, completed or aborted.
    SessionNotActive,
    /// The session reached its activity's `max_interactions`.
    InteractionLimit,
    /// The risk is already resolved.
    AlreadyResolved,
    /// Sessions start only on published activities.
    ActivityNotPublished,
    /// A published or archived activity cannot return to draft.
    BackToDraft,
    /// No model credential named for the turn (the session's or the activity's) is usable
    /// and the activity requires one (`policies.require_own_credential`).
    OwnCredentialUnavailable,
    /// A record with this id exists already (a replayed insert); names the record kind.
    Duplicate(&'static str),
    /// The session's status does not allow the action (pause a paused session, resume an
    /// active one, anything on a completed or aborted one).
    SessionTransition {
        /// The session's status when the action was refused.
        status: ainative_domain::SessionStatus,
        /// What was asked.
        action: ainative_domain::SessionAction,
    },
    /// Another turn of the session was stored since this one read the session's rule state
    /// (the caller re-reads it and tries again).
    StaleTurnState,
    /// The provider identity is linked to a user already.
    IdentityLinked,
    /// Another unique key, named by its constraint (an adapter that cannot tell better).
    Unique(String),
    /// The job is no longer held by this lease (it expired and another worker claimed it,
    /// or an administrator changed it): the worker must drop its result.
    LeaseLost,
    /// Only dead jobs can be retried.
    JobNotDead,
}

impl Conflict {
    /// The request field the conflict is about, for the error envelope's details.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::Email => Some("email"),
            Self::Username => Some("username"),
            Self::StudentId => Some("student_id"),
            _ => None,
        }
    }
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Email => f.write_str("email is already taken"),
            Self::Username => f.write_str("username is already taken"),
            Self::StudentId => f.write_str("student_id is already taken"),
            Self::ActiveSession => {
                f.write_str("you already have an active session on this activity")
            }
            Self::SessionNotActive => f.write_str("the session is not active"),
            Self::InteractionLimit => {
                f.write_str("the activity's interaction limit for this session is reached")
            }
            Self::AlreadyResolved => f.write_str("the risk is already resolved"),
            Self::ActivityNotPublished => {
                f.write_str("sessions can be started only on published activities")
            }
            Self::BackToDraft => f.write_str("an activity cannot return to draft"),
            Self::IdentityLinked => {
                f.write_str("this provider account is already linked to a user")
            }
            Self::OwnCredentialUnavailable => f.write_str(
                "the model credential of this session or activity is suspended or deleted, and \
                 the activity requires its own credential",
            ),
            Self::Duplicate(kind) => write!(f, "this {kind} exists already"),
            Self::SessionTransition { status, action } => {
                write!(f, "cannot {action} a {status} session")
            }
            Self::StaleTurnState => f.write_str("another interaction of the session was stored"),
            Self::Unique(key) => write!(f, "conflict on {key}"),
            Self::LeaseLost => f.write_str("the job's lease was lost"),
            Self::JobNotDead => f.write_str("only dead jobs can be retried"),
        }
    }
}

/// Why a port call failed: a message for logs and, when there was one, the error behind it
/// (returned by `source()`, so error-chain printers show it).
#[derive(Clone)]
pub struct Cause {
    message: Cow<'static, str>,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl Cause {
    /// A cause with a message only.
    pub fn new(message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            message: message.into(),
            source: None,
        }
    }

    /// A cause with a message and the underlying error.
    pub fn with_source(
        message: impl Into<Cow<'static, str>>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            message: message.into(),
            source: Some(Arc::new(source)),
        }
    }

    /// The message (without the source).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("Cause");
        out.field("message", &self.message);
        if let Some(source) = &self.source {
            out.field("source", &source.to_string());
        }
        out.finish()
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Causes compare by message: the source is for logs.
impl PartialEq for Cause {
    fn eq(&self, other: &Self) -> bool {
        self.message == other.message
    }
}

impl Eq for Cause {}

impl From<String> for Cause {
    fn from(message: String) -> Self {
        Self::new(message)
    }
}

impl From<&'static str> for Cause {
    fn from(message: &'static str) -> Self {
        Self::new(message)
    }
}

/// Result of a port call.
pub type PortResult<T> = Result<T, PortError>;

/// `error` and its sources joined by `": "`, for one log line.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = error.to_string();
    let mut next = error.source();
    while let Some(cause) = next {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        next = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_reaches_the_underlying_error() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let err = PortError::unavailable_from("database i/o error", io);
        assert_eq!(
            error_chain(&err),
            "unavailable: database i/o error: refused"
        );
        assert!(err.is_unavailable());
        assert_eq!(
            PortError::Other("x".into()),
            PortError::other_from("x", std::fmt::Error)
        );
    }

    #[test]
    fn conflicts_name_their_field() {
        assert_eq!(Conflict::Email.field(), Some("email"));
        assert_eq!(Conflict::ActiveSession.field(), None);
        assert_eq!(Conflict::Username.to_string(), "username is already taken");
    }
}
