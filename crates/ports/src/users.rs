//! Storage of users.

use ainative_domain::{
    Email, NewAuditEntry, Page, Paginated, Role, RoleSet, Tier, User, UserPatch, Username,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::PortResult;

/// A user to insert. Fields are already valid; the hash is a bcrypt hash.
#[derive(Debug, Clone, PartialEq)]
pub struct NewUser {
    /// Chosen by the caller.
    pub id: Uuid,
    /// Lower-case address.
    pub email: Email,
    /// Username.
    pub username: Username,
    /// Display name.
    pub full_name: String,
    /// Optional institutional number.
    pub student_id: Option<String>,
    /// Roles.
    pub roles: RoleSet,
    /// Tier.
    pub tier: Tier,
    /// Active flag.
    pub is_active: bool,
    /// Verified flag.
    pub is_verified: bool,
    /// bcrypt hash.
    pub password_hash: String,
    /// Creation time; also the first `updated_at`.
    pub created_at: DateTime<Utc>,
}

/// Filters of the admin user list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFilter {
    /// Only users holding this role.
    pub role: Option<Role>,
    /// Only active (or inactive) users.
    pub is_active: Option<bool>,
}

/// Persistence of users.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// Inserts a user, and the audit row when given, in one transaction.
    ///
    /// Errors: `Conflict::Email`, `Conflict::Username` or `Conflict::StudentId` when a unique key is taken
    /// (email and username compare case-insensitively); nothing is written then.
    async fn create(&self, user: NewUser, audit: Option<NewAuditEntry>) -> PortResult<User>;

    /// The user with this id, if any.
    async fn find_by_id(&self, id: Uuid) -> PortResult<Option<User>>;

    /// The user whose e-mail or username equals `login`, case-insensitively.
    async fn find_by_login(&self, login: &str) -> PortResult<Option<User>>;

    /// Records a successful login: sets `last_login`, increments `login_count`.
    ///
    /// Errors: `NotFound` when the user does not exist.
    async fn record_login(&self, id: Uuid, at: DateTime<Utc>) -> PortResult<()>;

    /// Replaces the password hash and revokes every not yet revoked session of the user, in one
    /// transaction. Returns the ids of the sessions it revoked.
    ///
    /// Errors: `NotFound` when the user does not exist.
    async fn change_password(
        &self,
        id: Uuid,
        password_hash: &str,
        at: DateTime<Utc>,
    ) -> PortResult<Vec<Uuid>>;

    /// A page of users matching the filter, ordered by creation time then id.
    async fn list(&self, filter: &UserFilter, page: Page) -> PortResult<Paginated<User>>;

    /// Applies an admin patch and writes its audit row in one transaction. When
    /// `revoke_sessions` is true the same transaction revokes every session of the user.
    /// Returns the updated user and the ids of the sessions it revoked.
    ///
    /// Errors: `NotFound` when the user does not exist; nothing is written then.
    async fn apply_patch(
        &self,
        id: Uuid,
        patch: &UserPatch,
        audit: NewAuditEntry,
        revoke_sessions: bool,
    ) -> PortResult<(User, Vec<Uuid>)>;
}
