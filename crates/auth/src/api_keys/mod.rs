//! API keys for scripts and integrations (SPEC §10.3): create (shown once), list, delete,
//! admin list and revoke (audited), and authentication on the hot path.
//!
//! Each key is bound to a session of its own id, so every way a session ends (delete, owner
//! deactivated, password changed) ends the key too, on every instance, through the same
//! revocation mirror as access tokens. Checking a key costs what checking a JWT costs: the key
//! record and its owner come from in-process caches, the revocation from the mirror.

mod token;

use std::sync::Arc;
use std::time::Duration;

use ainative_domain::{
    AuditAction, NewAuditEntry, RequestContext, Scope, Scopes, TraceParent, User, ValidationErrors,
};
use ainative_ports::{ApiKey, ApiKeyRepository, Clock, NewApiKey, RevocationList, UserRepository};
use chrono::{DateTime, Utc};
use moka::future::Cache;
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

pub use token::{is_api_key, Pepper};

use crate::{AuthError, TokenRejection, UserCache};

/// Limits of key creation.
#[derive(Debug, Clone, Copy)]
pub struct ApiKeyLimits {
    /// Longest `expires_in_days` accepted.
    pub max_days: u32,
    /// Keys a user may hold at once (unrevoked).
    pub max_per_user: usize,
}

impl Default for ApiKeyLimits {
    fn default() -> Self {
        Self {
            max_days: 3650,
            max_per_user: 50,
        }
    }
}

/// The ports the key service needs.
#[derive(Clone)]
pub struct ApiKeyDeps {
    /// Key storage.
    pub keys: Arc<dyn ApiKeyRepository>,
    /// Owners.
    pub users: Arc<dyn UserRepository>,
    /// Recently read users (the one the identity services share).
    pub user_cache: UserCache,
    /// The revocation mirror.
    pub revocations: Arc<dyn RevocationList>,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

/// A key just made: the record and the secret, returned this once.
#[derive(Debug)]
pub struct CreatedApiKey {
    /// The stored record.
    pub key: ApiKey,
    /// The whole key; never stored, never shown again.
    pub token: SecretString,
}

/// What a new key should be.
#[derive(Debug, Clone)]
pub struct NewKeyInput {
    /// Label.
    pub name: String,
    /// Scope names.
    pub scopes: Vec<String>,
    /// Days until it expires; `None` = until revoked.
    pub expires_in_days: Option<u32>,
}

/// The API key use cases.
pub struct ApiKeyService {
    deps: ApiKeyDeps,
    pepper: Pepper,
    limits: ApiKeyLimits,
    /// Records by secret hash (`None` = no such key), so a request costs no query.
    records: Cache<String, Option<ApiKey>>,
    /// Keys whose use was recorded within the last minute.
    touched: Cache<Uuid, ()>,
}

/// How long a key record is trusted without re-reading it. Revocation does not wait for it:
/// the mirror is checked on every request.
const RECORD_TTL: Duration = Duration::from_secs(60);
/// `last_used_at` is written at most this often per key and instance.
const TOUCH_INTERVAL: Duration = Duration::from_secs(60);
/// Sessions of keys without an expiry end this far ahead.
const NO_EXPIRY_YEARS: i64 = 100;
const NAME_MAX_CHARS: usize = 100;

impl ApiKeyService {
    /// Builds the service.
    pub fn new(deps: ApiKeyDeps, pepper: Pepper, limits: ApiKeyLimits) -> Self {
        Self {
            deps,
            pepper,
            limits,
            records: Cache::builder()
                .time_to_live(RECORD_TTL)
                .max_capacity(100_000)
                .build(),
            touched: Cache::builder()
                .time_to_live(TOUCH_INTERVAL)
                .max_capacity(100_000)
                .build(),
        }
    }

    fn check_input(
        &self,
        ctx: &RequestContext,
        input: &NewKeyInput,
    ) -> Result<(String, Scopes), AuthError> {
        let mut errors = ValidationErrors::new();
        let name = input.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > NAME_MAX_CHARS {
            errors.push("name", format!("must be 1 to {NAME_MAX_CHARS} characters"));
        }
        let mut scopes = Vec::new();
        for raw in &input.scopes {
            match raw.parse::<Scope>() {
                Ok(scope) if ctx.scopes.contains(scope) => scopes.push(scope),
                Ok(scope) => errors.push("scopes", format!("{scope} exceeds your rights")),
                Err(_) => errors.push("scopes", format!("unknown scope {raw:?}")),
            }
        }
        if input.scopes.is_empty() {
            errors.push("scopes", "at least one scope is required");
        }
        if let Some(days) = input.expires_in_days {
            if days == 0 || days > self.limits.max_days {
                errors.push(
                    "expires_in_days",
                    format!("must be 1 to {}", self.limits.max_days),
                );
            }
        }
        errors.into_result()?;
        Ok((name, scopes.into_iter().collect()))
    }

    /// Creates a key for the caller, within the caller's own rights. The secret is in the
    /// result only.
    pub async fn create(
        &self,
        ctx: &RequestContext,
        input: NewKeyInput,
    ) -> Result<CreatedApiKey, AuthError> {
        ctx.require_identity_management()?;
        let (name, scopes) = self.check_input(ctx, &input)?;
        let held = self.deps.keys.list(Some(ctx.user_id), false).await?;
        if held.len() >= self.limits.max_per_user {
            return Err(ValidationErrors::single(
                "name",
                format!(
                    "at most {} keys per user; delete one first",
                    self.limits.max_per_user
                ),
            )
            .into());
        }
        let now = self.deps.clock.now();
        let expires_at = input
            .expires_in_days
            .map(|days| now + chrono::Duration::days(i64::from(days)));
        let token = token::generate().map_err(|e| AuthError::Internal(Box::new(e)))?;
        let key = ApiKey {
            id: Uuid::new_v4(),
            user_id: ctx.user_id,
            name,
            prefix: token::shown_prefix(&token),
            scopes,
            created_at: now,
            expires_at,
            last_used_at: None,
            revoked_at: None,
        };
        let new = NewApiKey {
            secret_hash: self.pepper.hash(token.expose_secret()),
            session_expires_at: expires_at
                .unwrap_or(now + chrono::Duration::days(365 * NO_EXPIRY_YEARS)),
            key,
        };
        let key = self.deps.keys.create(new).await?;
        tracing::info!(key_id = %key.id, user_id = %key.user_id, "API key created");
        Ok(CreatedApiKey { key, token })
    }

    /// The caller's keys that are not revoked, newest first.
    pub async fn list(&self, ctx: &RequestContext) -> Result<Vec<ApiKey>, AuthError> {
        ctx.require_identity_management()?;
        Ok(self.deps.keys.list(Some(ctx.user_id), false).await?)
    }

    /// Revokes one of the caller's keys. Another user's key is "not found".
    pub async fn delete(&self, ctx: &RequestContext, id: Uuid) -> Result<(), AuthError> {
        ctx.require_identity_management()?;
        match self.deps.keys.find(id).await? {
            Some(key) if key.user_id == ctx.user_id && key.revoked_at.is_none() => {
                self.revoke(&key, None).await
            }
            _ => Err(AuthError::NotFound("api key")),
        }
    }

    /// Every key (of one user when given), revoked ones included: admins only.
    pub async fn admin_list(
        &self,
        ctx: &RequestContext,
        user_id: Option<Uuid>,
    ) -> Result<Vec<ApiKey>, AuthError> {
        ctx.require_admin()?;
        Ok(self.deps.keys.list(user_id, true).await?)
    }

    /// Revokes any key, audited in the same transaction: admins only.
    pub async fn admin_revoke(&self, ctx: &RequestContext, id: Uuid) -> Result<(), AuthError> {
        ctx.require_admin()?;
        let key = match self.deps.keys.find(id).await? {
            Some(key) if key.revoked_at.is_none() => key,
            _ => return Err(AuthError::NotFound("api key")),
        };
        let audit = NewAuditEntry {
            actor_id: Some(ctx.user_id),
            action: AuditAction::ApiKeyRevoked,
            target_type: "api_key".into(),
            target_id: key.id,
            details: serde_json::json!({"owner_id": key.user_id, "name": key.name, "prefix": key.prefix}),
            at: self.deps.clock.now(),
        };
        self.revoke(&key, Some(audit)).await
    }

    async fn revoke(&self, key: &ApiKey, audit: Option<NewAuditEntry>) -> Result<(), AuthError> {
        let now = self.deps.clock.now();
        self.deps.keys.revoke(key.id, now, audit).await?;
        let until = key
            .expires_at
            .unwrap_or(now + chrono::Duration::days(365 * NO_EXPIRY_YEARS));
        self.deps.revocations.revoke_session(key.id, until).await?;
        tracing::info!(key_id = %key.id, user_id = %key.user_id, "API key revoked");
        Ok(())
    }

    async fn record(&self, hash: String) -> Result<Option<ApiKey>, AuthError> {
        if let Some(found) = self.records.get(&hash).await {
            return Ok(found);
        }
        let found = self.deps.keys.find_by_hash(&hash).await?;
        self.records.insert(hash, found.clone()).await;
        Ok(found)
    }

    async fn owner(&self, id: Uuid) -> Result<Option<User>, AuthError> {
        if let Some(user) = self.deps.user_cache.get(&id).await {
            return Ok(Some(user));
        }
        let found = self.deps.users.find_by_id(id).await?;
        if let Some(user) = &found {
            self.deps.user_cache.put(user.clone()).await;
        }
        Ok(found)
    }

    /// The context of a request carrying `token`: the key's scopes within its owner's current
    /// roles, limited like the owner.
    pub async fn authenticate(
        &self,
        token: &str,
        request_id: &str,
        trace: Option<TraceParent>,
    ) -> Result<RequestContext, AuthError> {
        if !token::well_formed(token) {
            return Err(AuthError::InvalidToken(TokenRejection::Malformed));
        }
        let key = self
            .record(self.pepper.hash(token))
            .await?
            .ok_or(AuthError::InvalidToken(TokenRejection::Malformed))?;
        let now = self.deps.clock.now();
        if key.revoked_at.is_some() || self.deps.revocations.is_session_revoked(key.id).await? {
            return Err(AuthError::InvalidToken(TokenRejection::Revoked));
        }
        if key.expires_at.is_some_and(|end| end <= now) {
            return Err(AuthError::InvalidToken(TokenRejection::Expired));
        }
        let user = match self.owner(key.user_id).await? {
            Some(user) if user.is_active => user,
            _ => return Err(AuthError::InvalidToken(TokenRejection::UserGone)),
        };
        self.touch(key.id, now).await;
        Ok(RequestContext::for_api_key(
            user.id, user.roles, user.tier, key.id, key.scopes, request_id, trace,
        ))
    }

    /// Records the use in the background, at most once a minute per key on this instance.
    async fn touch(&self, id: Uuid, at: DateTime<Utc>) {
        if self.touched.contains_key(&id) {
            return;
        }
        self.touched.insert(id, ()).await;
        let keys = self.deps.keys.clone();
        tokio::spawn(async move {
            if let Err(err) = keys.touch(id, at).await {
                tracing::warn!(key_id = %id, error = %err, "could not record API key use");
            }
        });
    }
}

#[cfg(test)]
mod tests;
