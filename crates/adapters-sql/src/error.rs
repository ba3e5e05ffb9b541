//! The one place where sqlx errors become [`PortError`]s. The sqlx error is kept as the
//! source, so the log line of a 500 shows what the database said.

use ainative_ports::{Conflict, PortError};
use sqlx::error::{DatabaseError, ErrorKind};
use sqlx::migrate::MigrateError;

use crate::dialect::Dialect;

/// What a database error means to the core.
enum Meaning {
    Unavailable(&'static str),
    Conflict(Conflict),
    NotFound,
    Other(&'static str),
}

/// Maps a sqlx error: connection trouble, pool exhaustion and the codes the dialect calls
/// transient are `Unavailable`; unique violations `Conflict` (see [`conflict_for`]);
/// foreign-key violations `NotFound` (the referenced user, session or activity does not
/// exist); everything else `Other`.
pub fn map_err<D: Dialect>(err: sqlx::Error) -> PortError {
    map_error(err, D::is_transient)
}

fn map_error(err: sqlx::Error, is_transient: fn(&str) -> bool) -> PortError {
    let meaning = match &err {
        sqlx::Error::PoolTimedOut => {
            Meaning::Unavailable("timed out waiting for a database connection")
        }
        sqlx::Error::PoolClosed => Meaning::Unavailable("database pool is closed"),
        sqlx::Error::WorkerCrashed => Meaning::Unavailable("database connection worker crashed"),
        sqlx::Error::Io(_) => Meaning::Unavailable("database i/o error"),
        sqlx::Error::Tls(_) => Meaning::Unavailable("database tls error"),
        sqlx::Error::Database(db) => database_error(db.as_ref(), is_transient),
        _ => Meaning::Other("database error"),
    };
    match meaning {
        Meaning::Unavailable(message) => PortError::unavailable_from(message, err),
        Meaning::Conflict(conflict) => PortError::Conflict(conflict),
        Meaning::NotFound => PortError::NotFound,
        Meaning::Other(message) => PortError::other_from(message, err),
    }
}

/// Maps a migration error; execution errors go through [`map_err`].
pub(crate) fn map_migrate_err<D: Dialect>(err: MigrateError) -> PortError {
    match err {
        MigrateError::Execute(e) | MigrateError::ExecuteMigration(e, _) => map_err::<D>(e),
        other => PortError::other_from("migration error", other),
    }
}

fn database_error(db: &dyn DatabaseError, is_transient: fn(&str) -> bool) -> Meaning {
    match db.kind() {
        // PostgreSQL names the constraint; SQLite only says which columns, in the message.
        ErrorKind::UniqueViolation => Meaning::Conflict(conflict_for(
            db.constraint().unwrap_or_else(|| db.message()),
        )),
        ErrorKind::ForeignKeyViolation => Meaning::NotFound,
        _ if db.code().is_some_and(|code| is_transient(&code)) => {
            Meaning::Unavailable("database unavailable")
        }
        _ => Meaning::Other("database error"),
    }
}

/// Unique keys by a text found in the constraint name (PostgreSQL) or in the message
/// (SQLite: `UNIQUE constraint failed: users.email`), most specific first.
const UNIQUE_KEYS: [(&str, Conflict); 21] = [
    // Before the user keys: "oauth_accounts.provider_user_id" is not a user column.
    ("oauth_accounts", Conflict::IdentityLinked),
    ("oauth_flows", Conflict::Duplicate("oauth_flow")),
    ("oauth_login_codes", Conflict::Duplicate("oauth_login_code")),
    // The partial unique index of active sessions: its name on PostgreSQL, its columns on
    // SQLite.
    ("study_sessions_one_active", Conflict::ActiveSession),
    ("study_sessions.student_id", Conflict::ActiveSession),
    ("study_sessions", Conflict::Duplicate("study_session")),
    ("activities", Conflict::Duplicate("activity")),
    ("interactions", Conflict::Duplicate("interaction")),
    ("cognitive_traces", Conflict::Duplicate("trace")),
    ("risks", Conflict::Duplicate("risk")),
    ("evaluations", Conflict::Duplicate("evaluation")),
    ("server_errors", Conflict::Duplicate("server_error")),
    ("llm_credentials", Conflict::Duplicate("llm_credential")),
    ("materials", Conflict::Duplicate("material")),
    ("student_id", Conflict::StudentId),
    ("email", Conflict::Email),
    ("username", Conflict::Username),
    ("api_keys", Conflict::Duplicate("api_key")),
    ("auth_sessions", Conflict::Duplicate("session")),
    ("refresh_tokens", Conflict::Duplicate("refresh_token")),
    // The unique key is handled by the enqueue itself: only the id can collide.
    ("jobs", Conflict::Duplicate("job")),
];

/// The typed conflict of a unique violation on `constraint` (a constraint name or a
/// message); [`Conflict::Unique`] with the text itself when no key is known.
pub(crate) fn conflict_for(constraint: &str) -> Conflict {
    UNIQUE_KEYS
        .iter()
        .find(|(needle, _)| constraint.contains(needle))
        .map_or_else(
            || Conflict::Unique(constraint.to_owned()),
            |(_, conflict)| conflict.clone(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ainative_ports::error_chain;

    #[test]
    fn postgres_constraint_names_map_to_conflicts() {
        for (constraint, conflict) in [
            ("users_email_key", Conflict::Email),
            ("users_username_key", Conflict::Username),
            ("users_student_id_key", Conflict::StudentId),
            ("auth_sessions_pkey", Conflict::Duplicate("session")),
            ("refresh_tokens_pkey", Conflict::Duplicate("refresh_token")),
            ("study_sessions_one_active_key", Conflict::ActiveSession),
            ("study_sessions_pkey", Conflict::Duplicate("study_session")),
            ("activities_pkey", Conflict::Duplicate("activity")),
            (
                "interactions_session_seq_key",
                Conflict::Duplicate("interaction"),
            ),
            ("risks_pkey", Conflict::Duplicate("risk")),
            (
                "evaluations_session_id_key",
                Conflict::Duplicate("evaluation"),
            ),
            ("something_else", Conflict::Unique("something_else".into())),
        ] {
            assert_eq!(conflict_for(constraint), conflict, "{constraint}");
        }
    }

    #[test]
    fn sqlite_messages_map_to_conflicts() {
        for (message, conflict) in [
            ("users.email", Conflict::Email),
            ("users.username", Conflict::Username),
            ("users.student_id", Conflict::StudentId),
            ("auth_sessions.id", Conflict::Duplicate("session")),
            ("refresh_tokens.jti", Conflict::Duplicate("refresh_token")),
            (
                "study_sessions.student_id, study_sessions.activity_id",
                Conflict::ActiveSession,
            ),
            ("study_sessions.id", Conflict::Duplicate("study_session")),
            ("activities.id", Conflict::Duplicate("activity")),
            (
                "interactions.session_id, interactions.seq",
                Conflict::Duplicate("interaction"),
            ),
            ("evaluations.session_id", Conflict::Duplicate("evaluation")),
        ] {
            let message = format!("UNIQUE constraint failed: {message}");
            assert_eq!(conflict_for(&message), conflict, "{message}");
        }
    }

    #[test]
    fn pool_and_io_errors_are_unavailable_and_keep_their_cause() {
        let io = sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "refused",
        ));
        let mapped = map_error(io, |_| false);
        assert!(mapped.is_unavailable(), "{mapped:?}");
        let chain = error_chain(&mapped);
        assert!(
            chain.starts_with(
                "unavailable: database i/o error: error communicating with database: refused"
            ),
            "{chain}"
        );
        for err in [sqlx::Error::PoolTimedOut, sqlx::Error::PoolClosed] {
            assert!(map_error(err, |_| false).is_unavailable());
        }
        assert!(matches!(
            map_error(sqlx::Error::RowNotFound, |_| false),
            PortError::Other(_)
        ));
    }
}
