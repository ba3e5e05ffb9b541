//! The one place where sqlx errors become [`PortError`]s.

use ainative_ports::{Conflict, PortError};
use sqlx::error::{DatabaseError, ErrorKind};
use sqlx::migrate::MigrateError;

/// Maps a sqlx error to what the core can act on: pool exhaustion, I/O trouble and a database
/// that stays locked are `Unavailable`, unique violations `Conflict(<key>)`, foreign-key
/// violations `NotFound` (the referenced user or session does not exist), everything else
/// `Other`.
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
        // SQLite names the columns: "UNIQUE constraint failed: users.email".
        ErrorKind::UniqueViolation => PortError::Conflict(conflict_for(db.message())),
        ErrorKind::ForeignKeyViolation => PortError::NotFound,
        _ if db.code().is_some_and(|code| is_transient(&code)) => {
            PortError::Unavailable((format!("database unavailable: {}", db.message())).into())
        }
        _ => PortError::Other((format!("database error: {}", db.message())).into()),
    }
}

/// Extended result codes whose primary code means "try again later" or "cannot reach the
/// file": `SQLITE_BUSY` (5), `SQLITE_LOCKED` (6), `SQLITE_IOERR` (10), `SQLITE_CANTOPEN` (14).
fn is_transient(code: &str) -> bool {
    code.parse::<i32>()
        .is_ok_and(|code| matches!(code & 0xff, 5 | 6 | 10 | 14))
}

/// The key a unique violation is about, from the message or constraint name
/// (`UNIQUE constraint failed: users.email` → `email`; the partial index of active sessions,
/// `study_sessions.student_id, study_sessions.activity_id` → `active_session`). Tutoring
/// names come first: they are more specific than the identity ones.
pub(crate) fn conflict_key(constraint: &str) -> String {
    const KEYS: [(&str, &str); 12] = [
        ("study_sessions.student_id", "active_session"),
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
    fn conflict_keys_come_from_messages() {
        assert_eq!(
            conflict_key("UNIQUE constraint failed: users.email"),
            "email"
        );
        assert_eq!(
            conflict_key("UNIQUE constraint failed: users.username"),
            "username"
        );
        assert_eq!(
            conflict_key("UNIQUE constraint failed: users.student_id"),
            "student_id"
        );
        assert_eq!(
            conflict_key("UNIQUE constraint failed: auth_sessions.id"),
            "session"
        );
        assert_eq!(
            conflict_key("UNIQUE constraint failed: refresh_tokens.jti"),
            "refresh_token"
        );
        assert_eq!(
            conflict_key(
                "UNIQUE constraint failed: study_sessions.student_id, study_sessions.activity_id"
            ),
            "active_session"
        );
        assert_eq!(
            conflict_key("UNIQUE constraint failed: study_sessions.id"),
            "study_session"
        );
        assert_eq!(
            conflict_key("UNIQUE constraint failed: activities.id"),
            "activity"
        );
        assert_eq!(
            conflict_key("UNIQUE constraint failed: interactions.session_id, interactions.seq"),
            "interaction"
        );
        assert_eq!(
            conflict_key("UNIQUE constraint failed: evaluations.session_id"),
            "evaluation"
        );
    }

    #[test]
    fn pool_io_and_busy_errors_are_unavailable() {
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
        assert!(is_transient("5"));
        assert!(is_transient("517")); // SQLITE_BUSY_SNAPSHOT
        assert!(is_transient("6"));
        assert!(!is_transient("2067")); // SQLITE_CONSTRAINT_UNIQUE
        assert!(!is_transient("1"));
    }
}
