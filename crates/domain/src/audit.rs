//! The audit log of administrative actions.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// What an administrator did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// Roles, tier or activity of a user changed.
    UserUpdated,
    /// An administrator account was created from the command line.
    AdminCreated,
    /// A risk was resolved by an instructor or admin.
    RiskResolved,
    /// An administrator queued a dead background job again.
    JobRetried,
    /// A user signed up through a social-login provider.
    OAuthSignUp,
    /// A signed-in user linked a provider identity.
    OAuthLinked,
    /// A user removed a linked provider identity.
    OAuthUnlinked,
    /// An administrator suspended a model credential.
    CredentialSuspended,
    /// An administrator activated a suspended model credential.
    CredentialActivated,
    /// An administrator changed a model credential's limits.
    CredentialLimitsChanged,
    /// An administrator revoked another user's API key.
    ApiKeyRevoked,
    /// A user set a new password through a reset link.
    PasswordReset,
}

impl AuditAction {
    /// The stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::UserUpdated => "user_updated",
            Self::AdminCreated => "admin_created",
            Self::RiskResolved => "risk_resolved",
            Self::JobRetried => "job_retried",
            Self::OAuthSignUp => "oauth_sign_up",
            Self::OAuthLinked => "oauth_linked",
            Self::OAuthUnlinked => "oauth_unlinked",
            Self::CredentialSuspended => "credential_suspended",
            Self::CredentialActivated => "credential_activated",
            Self::CredentialLimitsChanged => "credential_limits_changed",
            Self::ApiKeyRevoked => "api_key_revoked",
            Self::PasswordReset => "password_reset",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "user_updated" => Some(Self::UserUpdated),
            "admin_created" => Some(Self::AdminCreated),
            "risk_resolved" => Some(Self::RiskResolved),
            "job_retried" => Some(Self::JobRetried),
            "oauth_sign_up" => Some(Self::OAuthSignUp),
            "oauth_linked" => Some(Self::OAuthLinked),
            "oauth_unlinked" => Some(Self::OAuthUnlinked),
            "credential_suspended" => Some(Self::CredentialSuspended),
            "credential_activated" => Some(Self::CredentialActivated),
            "credential_limits_changed" => Some(Self::CredentialLimitsChanged),
            "api_key_revoked" => Some(Self::ApiKeyRevoked),
            "password_reset" => Some(Self::PasswordReset),
            _ => None,
        }
    }
}

/// An audit row to be written together with the change it describes.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEntry {
    /// The acting user; `None` for the command line.
    pub actor_id: Option<Uuid>,
    /// What was done.
    pub action: AuditAction,
    /// Kind of the target, e.g. `user`.
    pub target_type: String,
    /// Id of the target.
    pub target_id: Uuid,
    /// What changed (before and after), as JSON text.
    pub details: serde_json::Value,
    /// When.
    pub at: DateTime<Utc>,
}

/// A stored audit row.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AuditEntry {
    /// Row id.
    pub id: Uuid,
    /// The acting user; `None` for the command line.
    pub actor_id: Option<Uuid>,
    /// What was done.
    pub action: AuditAction,
    /// Kind of the target.
    pub target_type: String,
    /// Id of the target.
    pub target_id: Uuid,
    /// What changed.
    pub details: serde_json::Value,
    /// When.
    pub created_at: DateTime<Utc>,
}
