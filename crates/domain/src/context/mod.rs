//! The caller of one request, as every layer sees it: who (user, roles, tier), how they
//! proved it (credential), what the credential may do (scopes), and where the request came
//! from (request id, trace context). Built once at the HTTP edge; passed by reference to the
//! services and the AI gateway.

mod scope;
mod trace;

pub use scope::{Scope, Scopes};
pub use trace::TraceParent;

use uuid::Uuid;

use crate::{Activity, ActivityStatus, Role, RoleSet, StudySession, Tier};

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credential {
    /// A signed access token of a login session.
    AccessToken {
        /// The session (refresh-token family) the token belongs to.
        session_id: Uuid,
        /// The token's own id (`jti`).
        token_id: Uuid,
    },
    /// An API key (SPEC §10.3); its id is also the id of the session that revokes it.
    ApiKey {
        /// The key's id.
        key_id: Uuid,
    },
}

/// Why the caller may not do what it asked (an HTTP 403).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AccessDenied {
    /// A role or ownership rule; the text says which.
    #[error("{0}")]
    Rule(&'static str),
    /// The credential lacks this scope.
    #[error("this credential lacks the scope {0}")]
    MissingScope(Scope),
}

/// The caller of one request (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    /// The authenticated user.
    pub user_id: Uuid,
    /// The user's roles, as the credential states them.
    pub roles: RoleSet,
    /// The user's tier (sets the rate limit).
    pub tier: Tier,
    /// How the caller authenticated.
    pub credential: Credential,
    /// What the credential may do.
    pub scopes: Scopes,
    /// The request id (logs, `/admin/errors`, error envelopes).
    pub request_id: String,
    /// The W3C trace context the request carried, if any.
    pub trace: Option<TraceParent>,
}

impl RequestContext {
    /// The context of a caller holding an access token: every scope its roles allow.
    pub fn for_access_token(
        user_id: Uuid,
        roles: RoleSet,
        tier: Tier,
        session_id: Uuid,
        token_id: Uuid,
        request_id: impl Into<String>,
        trace: Option<TraceParent>,
    ) -> Self {
        let scopes = Scopes::for_roles(&roles);
        Self {
            user_id,
            roles,
            tier,
            credential: Credential::AccessToken {
                session_id,
                token_id,
            },
            scopes,
            request_id: request_id.into(),
            trace,
        }
    }

    /// The context of a caller holding an API key: the key's scopes, narrowed to what the
    /// owner's current roles allow.
    #[allow(clippy::too_many_arguments)]
    pub fn for_api_key(
        user_id: Uuid,
        roles: RoleSet,
        tier: Tier,
        key_id: Uuid,
        key_scopes: Scopes,
        request_id: impl Into<String>,
        trace: Option<TraceParent>,
    ) -> Self {
        let scopes = key_scopes.intersection(Scopes::for_roles(&roles));
        Self {
            user_id,
            roles,
            tier,
            credential: Credential::ApiKey { key_id },
            scopes,
            request_id: request_id.into(),
            trace,
        }
    }

    /// The session behind the credential (for an API key, the session bound to the key).
    pub fn session_id(&self) -> Uuid {
        match self.credential {
            Credential::AccessToken { session_id, .. } => session_id,
            Credential::ApiKey { key_id } => key_id,
        }
    }

    /// True when the caller authenticated with an API key.
    pub fn is_api_key(&self) -> bool {
        matches!(self.credential, Credential::ApiKey { .. })
    }

    /// Identity management (API keys, password, sessions): a login session, or an API key
    /// holding the `admin` scope whose owner is an admin (SPEC §10.3).
    pub fn require_identity_management(&self) -> Result<(), AccessDenied> {
        if !self.is_api_key() {
            return Ok(());
        }
        self.require_admin().map_err(|_| {
            AccessDenied::Rule(
                "an API key cannot manage keys, passwords or sessions unless it has the admin scope and its owner is an admin",
            )
        })
    }

    /// True when the caller holds `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(role)
    }

    /// True for admins.
    pub fn is_admin(&self) -> bool {
        self.has_role(Role::Admin)
    }

    /// Fails unless the credential carries `scope`.
    pub fn require_scope(&self, scope: Scope) -> Result<(), AccessDenied> {
        if self.scopes.contains(scope) {
            Ok(())
        } else {
            Err(AccessDenied::MissingScope(scope))
        }
    }

    /// Fails unless the caller holds one of `roles`; `rule` is the reason given.
    pub fn require_any_role(&self, roles: &[Role], rule: &'static str) -> Result<(), AccessDenied> {
        if self.roles.contains_any(roles) {
            Ok(())
        } else {
            Err(AccessDenied::Rule(rule))
        }
    }

    /// Fails unless the caller is an admin holding the `admin` scope.
    pub fn require_admin(&self) -> Result<(), AccessDenied> {
        self.require_scope(Scope::Admin)?;
        self.require_any_role(&[Role::Admin], "only admins may do this")
    }

    /// Whether the caller may see the activity: admins, its owner, anyone once published.
    pub fn can_see_activity(&self, activity: &Activity) -> bool {
        self.owns_activity(activity) || activity.status == ActivityStatus::Published
    }

    /// Whether the caller may change the activity and read its sessions: its owner, admins.
    pub fn owns_activity(&self, activity: &Activity) -> bool {
        self.is_admin() || activity.owner_id == self.user_id
    }

    /// Whether the caller may read the session: its student, the activity's owner, admins.
    pub fn can_read_session(&self, session: &StudySession, activity: &Activity) -> bool {
        session.student_id == self.user_id || self.owns_activity(activity)
    }
}

#[cfg(test)]
mod tests;
