use std::sync::Arc;

use ainative_domain::{
    AuditAction, AuditEntry, NewAuditEntry, Page, Paginated, RequestContext, Role, User, UserPatch,
    ValidationErrors,
};
use ainative_ports::{AuditLog, Clock, RevocationList, UserFilter, UserRepository};
use uuid::Uuid;

use crate::{AuthError, UserCache};

/// User administration, for callers with the admin role.
pub struct AdminService {
    users: Arc<dyn UserRepository>,
    audit: Arc<dyn AuditLog>,
    revocations: Arc<dyn RevocationList>,
    clock: Arc<dyn Clock>,
    revocation_horizon: std::time::Duration,
    user_cache: UserCache,
}

fn user_snapshot(user: &User) -> serde_json::Value {
    serde_json::json!({
        "roles": user.roles.names(),
        "tier": user.tier.as_str(),
        "is_active": user.is_active,
    })
}

impl AdminService {
    /// Builds the service. `revocation_horizon` is the refresh-token life: how long a
    /// revocation must be remembered.
    pub fn new(
        users: Arc<dyn UserRepository>,
        audit: Arc<dyn AuditLog>,
        revocations: Arc<dyn RevocationList>,
        clock: Arc<dyn Clock>,
        revocation_horizon: std::time::Duration,
        user_cache: UserCache,
    ) -> Self {
        Self {
            users,
            audit,
            revocations,
            clock,
            revocation_horizon,
            user_cache,
        }
    }

    /// A page of users.
    pub async fn list_users(
        &self,
        ctx: &RequestContext,
        filter: &UserFilter,
        page: Page,
    ) -> Result<Paginated<User>, AuthError> {
        ctx.require_admin()?;
        Ok(self.users.list(filter, page).await?)
    }

    /// Changes roles, tier or activity of a user, audited in the same transaction. Changes
    /// that make the user's tokens stale (roles, tier, deactivation) end their sessions.
    pub async fn update_user(
        &self,
        ctx: &RequestContext,
        id: Uuid,
        patch: UserPatch,
    ) -> Result<User, AuthError> {
        ctx.require_admin()?;
        if patch.is_empty() {
            return Err(ValidationErrors::single(
                "body",
                "set at least one of roles, tier, is_active",
            )
            .into());
        }
        if id == ctx.user_id {
            if patch
                .roles
                .as_ref()
                .is_some_and(|r| !r.contains(Role::Admin))
            {
                return Err(ValidationErrors::single(
                    "roles",
                    "administrators cannot remove their own admin role",
                )
                .into());
            }
            if patch.is_active == Some(false) {
                return Err(ValidationErrors::single(
                    "is_active",
                    "administrators cannot deactivate themselves",
                )
                .into());
            }
        }
        let user = self
            .users
            .find_by_id(id)
            .await?
            .ok_or(AuthError::NotFound("user"))?;
        let mut after = user.clone();
        if let Some(roles) = &patch.roles {
            after.roles = roles.clone();
        }
        if let Some(tier) = patch.tier {
            after.tier = tier;
        }
        if let Some(active) = patch.is_active {
            after.is_active = active;
        }
        let now = self.clock.now();
        let audit = NewAuditEntry {
            actor_id: Some(ctx.user_id),
            action: AuditAction::UserUpdated,
            target_type: "user".into(),
            target_id: id,
            details: serde_json::json!({"before": user_snapshot(&user), "after": user_snapshot(&after)}),
            at: now,
        };
        let revoke = patch.invalidates_sessions_of(&user);
        let (updated, revoked) = self
            .users
            .apply_patch(id, &patch, audit, revoke)
            .await
            .map_err(|e| match e {
                ainative_ports::PortError::NotFound => AuthError::NotFound("user"),
                other => other.into(),
            })?;
        self.user_cache.invalidate(&id).await;
        let until = now
            + chrono::Duration::from_std(self.revocation_horizon).unwrap_or(chrono::Duration::MAX);
        for session_id in revoked {
            self.revocations.revoke_session(session_id, until).await?;
        }
        Ok(updated)
    }

    /// A page of the audit log, newest first.
    pub async fn list_audit(
        &self,
        ctx: &RequestContext,
        page: Page,
    ) -> Result<Paginated<AuditEntry>, AuthError> {
        ctx.require_admin()?;
        Ok(self.audit.list(page).await?)
    }
}

#[cfg(test)]
#[path = "admin_tests.rs"]
mod tests;
