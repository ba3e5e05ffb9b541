//! The error every port reports.

/// What went wrong in an adapter, in terms the core can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    /// The addressed record does not exist.
    #[error("not found")]
    NotFound,
    /// A unique key is taken; the payload names it (`email`, `username`, `student_id`, …).
    #[error("conflict on {0}")]
    Conflict(String),
    /// The backing service cannot be reached or is exhausted (pool timeout); retry later.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Anything else; the message is for logs, never for clients.
    #[error("{0}")]
    Other(String),
}

/// Result of a port call.
pub type PortResult<T> = Result<T, PortError>;
