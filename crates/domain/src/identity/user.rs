use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Email, RoleSet, Tier, Username};

/// A registered user. The password hash is kept here for the auth core and never serialised.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    /// Identifier.
    pub id: Uuid,
    /// Lower-case, unique.
    pub email: Email,
    /// Unique (case-insensitive).
    pub username: Username,
    /// Display name.
    pub full_name: String,
    /// Optional institutional number, unique when present.
    pub student_id: Option<String>,
    /// What the user may do.
    pub roles: RoleSet,
    /// Rate-limit tier.
    pub tier: Tier,
    /// Inactive users cannot log in and their tokens stop working.
    pub is_active: bool,
    /// Whether the e-mail address was verified.
    pub is_verified: bool,
    /// bcrypt hash of the password.
    pub password_hash: String,
    /// Time of the last successful login.
    pub last_login: Option<DateTime<Utc>>,
    /// Number of successful logins.
    pub login_count: i64,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl User {
    /// The stored hash of an account without a password (signed up through a social-login
    /// provider). As in `/etc/shadow`, a hash starting with `!` is locked: no hash function
    /// produces it, so no password ever matches it.
    pub const NO_PASSWORD: &'static str = "!";

    /// True when the user can sign in with a password.
    pub fn has_password(&self) -> bool {
        Self::password_hash_is_usable(&self.password_hash)
    }

    /// True when a stored hash is a real hash (not [`User::NO_PASSWORD`] or another locked
    /// or empty value).
    pub fn password_hash_is_usable(hash: &str) -> bool {
        !hash.is_empty() && !hash.starts_with('!')
    }
}

/// The privileged fields an administrator may change. `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserPatch {
    /// New roles.
    pub roles: Option<RoleSet>,
    /// New tier.
    pub tier: Option<Tier>,
    /// Activate or deactivate.
    pub is_active: Option<bool>,
}

impl UserPatch {
    /// True when nothing would change.
    pub fn is_empty(&self) -> bool {
        self.roles.is_none() && self.tier.is_none() && self.is_active.is_none()
    }

    /// True when applying the patch to `user` must end the user's sessions:
    /// their tokens carry roles and tier, and deactivation must stop them at once.
    pub fn invalidates_sessions_of(&self, user: &User) -> bool {
        self.roles.as_ref().is_some_and(|r| *r != user.roles)
            || self.tier.is_some_and(|t| t != user.tier)
            || self.is_active == Some(false) && user.is_active
    }
}
