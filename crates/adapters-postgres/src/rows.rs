//! Rows as read from PostgreSQL, and their conversion into domain values.

use ainative_domain::{AuditAction, AuditEntry, Email, RoleSet, User, Username};
use ainative_ports::{AuthSession, PortError};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The columns of `users`, in [`UserRow`] order.
macro_rules! user_columns {
    () => {
        "id, email, username, full_name, student_id, roles, tier, is_active, is_verified, \
         password_hash, last_login, login_count, created_at, updated_at"
    };
}
pub(crate) use user_columns;

/// A row of `users`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct UserRow {
    id: Uuid,
    email: String,
    username: String,
    full_name: String,
    student_id: Option<String>,
    roles: Vec<String>,
    tier: String,
    is_active: bool,
    is_verified: bool,
    password_hash: String,
    last_login: Option<DateTime<Utc>>,
    login_count: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<UserRow> for User {
    type Error = PortError;

    fn try_from(row: UserRow) -> Result<Self, Self::Error> {
        let corrupt = |what: &str, err: String| {
            PortError::Other(
                (format!("stored user {} has an invalid {what}: {err}", row.id)).into(),
            )
        };
        Ok(User {
            email: Email::parse(&row.email).map_err(|e| corrupt("email", e.to_string()))?,
            username: Username::parse(&row.username)
                .map_err(|e| corrupt("username", e.to_string()))?,
            roles: RoleSet::parse(&row.roles).map_err(|e| corrupt("roles", e))?,
            tier: row.tier.parse().map_err(|e| corrupt("tier", e))?,
            id: row.id,
            full_name: row.full_name,
            student_id: row.student_id,
            is_active: row.is_active,
            is_verified: row.is_verified,
            password_hash: row.password_hash,
            last_login: row.last_login,
            login_count: row.login_count,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// The columns of `auth_sessions`, in [`SessionRow`] order.
macro_rules! session_columns {
    () => {
        "id, user_id, created_at, expires_at, revoked_at"
    };
}
pub(crate) use session_columns;

/// A row of `auth_sessions`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SessionRow {
    id: Uuid,
    user_id: Uuid,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<SessionRow> for AuthSession {
    fn from(row: SessionRow) -> Self {
        AuthSession {
            id: row.id,
            user_id: row.user_id,
            created_at: row.created_at,
            expires_at: row.expires_at,
            revoked_at: row.revoked_at,
        }
    }
}

/// A row of `audit_log`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AuditRow {
    id: Uuid,
    actor_id: Option<Uuid>,
    action: String,
    target_type: String,
    target_id: Uuid,
    details: serde_json::Value,
    created_at: DateTime<Utc>,
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = PortError;

    fn try_from(row: AuditRow) -> Result<Self, Self::Error> {
        let action = AuditAction::parse(&row.action).ok_or_else(|| {
            PortError::Other(
                (format!(
                    "stored audit row {} has an unknown action '{}'",
                    row.id, row.action
                ))
                .into(),
            )
        })?;
        Ok(AuditEntry {
            id: row.id,
            actor_id: row.actor_id,
            action,
            target_type: row.target_type,
            target_id: row.target_id,
            details: row.details,
            created_at: row.created_at,
        })
    }
}
