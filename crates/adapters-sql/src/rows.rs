//! The identity tables' columns and how a row of each becomes a domain value.

use ainative_domain::{AuditAction, AuditEntry, Email, RoleSet, User, Username};
use ainative_ports::{AuthSession, PortResult};

use crate::columns::Columns;
use crate::dialect::Dialect;

/// The columns of `users`, in the order [`user`] reads them.
macro_rules! user_columns {
    () => {
        "id, email, username, full_name, student_id, roles, tier, is_active, is_verified, \
         password_hash, last_login, login_count, created_at, updated_at"
    };
}
pub(crate) use user_columns;

/// A user from the columns of [`user_columns`].
pub(crate) fn user<D: Dialect>(c: &mut Columns<'_, D>) -> PortResult<User> {
    let id = c.id()?;
    let email: String = c.get()?;
    let username: String = c.get()?;
    let full_name = c.get()?;
    let student_id = c.get()?;
    let roles = c.texts()?;
    let tier: String = c.get()?;
    Ok(User {
        id,
        email: Email::parse(&email).map_err(|e| c.corrupt("email", e))?,
        username: Username::parse(&username).map_err(|e| c.corrupt("username", e))?,
        full_name,
        student_id,
        roles: RoleSet::parse(&roles).map_err(|e| c.corrupt("roles", e))?,
        tier: tier.parse().map_err(|e| c.corrupt("tier", e))?,
        is_active: c.get()?,
        is_verified: c.get()?,
        password_hash: c.get()?,
        last_login: c.get()?,
        login_count: c.get()?,
        created_at: c.get()?,
        updated_at: c.get()?,
    })
}

/// The columns of `auth_sessions`, in the order [`session`] reads them.
macro_rules! session_columns {
    () => {
        "id, user_id, created_at, expires_at, revoked_at"
    };
}
pub(crate) use session_columns;

/// A login session from the columns of [`session_columns`].
pub(crate) fn session<D: Dialect>(c: &mut Columns<'_, D>) -> PortResult<AuthSession> {
    Ok(AuthSession {
        id: c.id()?,
        user_id: c.uuid()?,
        created_at: c.get()?,
        expires_at: c.get()?,
        revoked_at: c.get()?,
    })
}

/// The columns of `audit_log`, in the order [`audit_entry`] reads them.
macro_rules! audit_columns {
    () => {
        "id, actor_id, action, target_type, target_id, details, created_at"
    };
}
pub(crate) use audit_columns;

/// An audit row from the columns of [`audit_columns`].
pub(crate) fn audit_entry<D: Dialect>(c: &mut Columns<'_, D>) -> PortResult<AuditEntry> {
    let id = c.id()?;
    let actor_id = c.opt_uuid()?;
    let action: String = c.get()?;
    let action = AuditAction::parse(&action)
        .ok_or_else(|| c.corrupt("action", format!("unknown action '{action}'")))?;
    Ok(AuditEntry {
        id,
        actor_id,
        action,
        target_type: c.get()?,
        target_id: c.uuid()?,
        details: c.json()?,
        created_at: c.get()?,
    })
}
