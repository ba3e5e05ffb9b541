//! The one place where sqlx errors become [`PortError`]s.

use ainative_ports::{Conflict, PortError};
use sqlx::error::{DatabaseError, ErrorKind};
use sqlx::migrate::MigrateError;

/// Maps a sqlx error to what the core can act on: connection trouble and pool exhaustion are
/// `Unavailable`, unique violations `Conflict(<key>)`, foreign-key violations `NotFound` (the
/// referenced user or session does not exist), everything else `Other`.
pub(crate) fn map_err(err: sqlx::Error) -> PortError {
    match err {
        sqlx::Error::PoolTimedOut => PortError::Unavailable(
            ("timed out waiting for a database connection".to_owned()).into(),
        ),
        sqlx::Error::PoolClosed => PortError::Unavailable("database pool is closed".into()),
        sqlx::Error::WorkerCrashed => {
            PortError::Unavailable("database connection worker crashed".into())
        }
        sqlx::Error::Io(e) => PortError::Unavailable((format!("database i/o error: {e}")).into()),
        sqlx::Error::Tls(e) => PortError::Unavailable((format!("database tls error: {e}")).into()),
        sqlx::Error::Database(db) => map_database_error(db.as_ref()),
        other => PortError::Other((format!("database error: {other}")).into()),
    }
}

/// Maps a migration error; execution errors go through [`map_err`].
pub(crate) fn map_migrate_err(err: MigrateError) -> PortError {
    match err {
        MigrateError::Execute(e) | MigrateError::ExecuteMigration(e, _) => map_err(e),
        other => PortError::Other((format!("migration error: {other}")).into()),
    }
}

fn map_database_error(db: &dyn DatabaseError) -> PortError {
    match db.kind() {
        ErrorKind::UniqueViolation => PortError::Conflict(conflict_for(
            db.constraint().unwrap_or_else(|| db.message()),
        )),
        ErrorKind::ForeignKeyViolation => PortError::NotFound,
        _ if db.code().is_some_and(|code| is_transient(&code)) => {
            PortError::Unavailable((format!("database unavailable: {}", db.message())).into())
        }
        _ => PortError::Other((format!("database error: {}", db.message())).into()),
    }
}

/// SQLSTATEs that mean "try again later": connection exceptions (08), insufficient resources
/// such as too many connections (53), operator intervention such as shutdown or a cancelled
/// statement (57), serialization failures and deadlocks (40001, 40P01).
fn is_transient(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("53")
        || code.starts_with("57")
        || code == "40001"
        || code == "40P01"
}

/// The key a unique violation is about, from the constraint or index name
/// (`users_email_key` → `email`, `study_sessions_one_active_key` → `active_session`).
/// Tutoring names come first: they are more specific than the identity ones.
pub(crate) fn conflict_key(constraint: &str) -> String {
    const KEYS: [(&str, &str); 12] = [
        ("study_sessions_one_active", "active_session"),
        ("study_sessions", "study_session"),
        ("activities", "activity"),
        ("interactions", "interaction"),
        ("cognitive_traces", "trace"),
        ("risks", "risk"),
        ("evaluations", "evaluation"),
        ("student_id", "student_id"),
        ("email", "email"),
        ("username", "username"),
        ("auth_sessions", "session"),
        ("refresh_tokens", "refresh_token"),
    ];
    KEYS.iter()
        .find(|(needle, _)| constraint.contains(needle))
        .map_or_else(|| constraint.to_owned(), |(_, key)| (*key).to_owned())
}

/// The typed conflict of a unique violation.
fn conflict_for(constraint: &str) -> Conflict {
    let key = conflict_key(constraint);
    match key.as_str() {
        "email" => Conflict::Email,
        "username" => Conflict::Username,
        "student_id" => Conflict::StudentId,
        "active_session" => Conflict::ActiveSession,
        "study_session" => Conflict::Duplicate("study_session"),
        "activity" => Conflict::Duplicate("activity"),
        "interaction" => Conflict::Duplicate("interaction"),
        "trace" => Conflict::Duplicate("trace"),
        "risk" => Conflict::Duplicate("risk"),
        "evaluation" => Conflict::Duplicate("evaluation"),
        "session" => Conflict::Duplicate("session"),
        "refresh_token" => Conflict::Duplicate("refresh_token"),
        _ => Conflict::Unique(key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflict_keys_come_from_constraint_names() {
        assert_eq!(conflict_key("users_email_key"), "email");
        assert_eq!(conflict_key("users_username_key"), "username");
        assert_eq!(conflict_key("users_student_id_key"), "student_id");
        assert_eq!(conflict_key("auth_sessions_pkey"), "session");
        assert_eq!(conflict_key("refresh_tokens_pkey"), "refresh_token");
        assert_eq!(conflict_key("something_else"), "something_else");
        assert_eq!(
            conflict_key("study_sessions_one_active_key"),
            "active_session"
        );
        assert_eq!(conflict_key("study_sessions_pkey"), "study_session");
        assert_eq!(conflict_key("activities_pkey"), "activity");
        assert_eq!(conflict_key("interactions_session_seq_key"), "interaction");
        assert_eq!(conflict_key("risks_pkey"), "risk");
        assert_eq!(conflict_key("evaluations_session_id_key"), "evaluation");
    }

    #[test]
    fn pool_and_io_errors_are_unavailable() {
        for err in [
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
            sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
        ] {
            assert!(matches!(map_err(err), PortError::Unavailable(_)));
        }
        assert!(matches!(
            map_err(sqlx::Error::RowNotFound),
            PortError::Other(_)
        ));
        assert!(is_transient("08006"));
        assert!(is_transient("53300"));
        assert!(is_transient("57P01"));
        assert!(!is_transient("23505"));
    }
}
