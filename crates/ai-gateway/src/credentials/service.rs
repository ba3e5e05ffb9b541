//! The use cases of model credentials: an owner registers, reads, changes, verifies and
//! deletes their own; an administrator lists, suspends, activates and limits any (audited
//! in the same transaction). No use case ever returns the key.

use std::sync::Arc;

use ainative_domain::{
    key_hint, AccessDenied, Agent, AuditAction, CredentialStatus, HelpLevel, Intent, LlmCredential,
    NewAuditEntry, Page, Paginated, RequestContext, ValidationErrors, OPENAI_COMPATIBLE,
};
use ainative_ports::{
    AdminCredentialChange, ChatMessage, ChatRole, Clock, CredentialEdit, CredentialFilter,
    Guidance, LlmCredentialRepository, LlmError, LlmRequest, NewCredential, PortError,
    UpstreamKind, Verification,
};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use super::endpoint::{check_base_url, check_resolved, EndpointError};
use super::router::{build_client, CredentialRouter};
use crate::llm::LanguageModel;

/// Longest API key accepted, in bytes.
pub const MAX_KEY_BYTES: usize = 4096;
/// Longest label, model name and suspension reason, in characters.
const MAX_TEXT: usize = 200;
/// Longest base URL, in characters.
const MAX_URL: usize = 2048;

/// Errors of the credential use cases; `http-api` maps each to one status.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// Bad input (422).
    #[error(transparent)]
    Validation(#[from] ValidationErrors),
    /// Not allowed (403).
    #[error("forbidden")]
    Forbidden(#[from] AccessDenied),
    /// Absent, or not the caller's (404).
    #[error("credential not found")]
    NotFound,
    /// Storage unavailable (503).
    #[error("service unavailable")]
    Unavailable(#[source] PortError),
    /// Anything else (500).
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<PortError> for CredentialError {
    fn from(err: PortError) -> Self {
        match err {
            PortError::NotFound => Self::NotFound,
            err @ PortError::Unavailable(_) => Self::Unavailable(err),
            err => Self::Internal(Box::new(err)),
        }
    }
}

/// A credential to register.
pub struct CredentialInput {
    /// Must be `openai-compatible`.
    pub provider: String,
    /// Endpoint up to the API version.
    pub base_url: String,
    /// Model name.
    pub model: String,
    /// The key; never returned.
    pub api_key: SecretString,
    /// Free text.
    pub label: String,
}

/// An owner's change; `None` keeps a field.
#[derive(Default)]
pub struct CredentialPatch {
    /// New label.
    pub label: Option<String>,
    /// New model.
    pub model: Option<String>,
    /// New endpoint.
    pub base_url: Option<String>,
    /// A new key (rotation by the owner).
    pub api_key: Option<SecretString>,
}

/// An administrator's limits change; `Some(None)` returns to the default.
#[derive(Debug, Default, Clone, Copy)]
pub struct LimitsPatch {
    /// Requests per minute (0 = unlimited).
    pub rate_limit_rpm: Option<Option<u32>>,
    /// Concurrent requests (at least 1).
    pub max_concurrent_requests: Option<Option<u32>>,
}

/// Model credentials use cases.
pub struct CredentialService {
    repo: Arc<dyn LlmCredentialRepository>,
    router: Arc<CredentialRouter>,
    clock: Arc<dyn Clock>,
}

fn text(errors: &mut ValidationErrors, field: &str, value: &str, max: usize) -> String {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max {
        errors.push(field, format!("must be between 1 and {max} characters"));
    } else if value.chars().any(char::is_control) {
        errors.push(field, "must not contain control characters");
    }
    value.to_owned()
}

fn check_key(errors: &mut ValidationErrors, key: &SecretString) {
    let key = key.expose_secret();
    if key.trim().is_empty() {
        errors.push("api_key", "must not be empty");
    } else if key.len() > MAX_KEY_BYTES {
        errors.push("api_key", format!("must be at most {MAX_KEY_BYTES} bytes"));
    } else if key.chars().any(|c| c.is_control() || c == ' ') {
        errors.push("api_key", "must not contain spaces or control characters");
    }
}

fn endpoint_message(err: &EndpointError) -> String {
    err.to_string()
}

/// The category recorded for a failed verification (never the upstream text).
pub fn error_kind(err: &LlmError) -> &'static str {
    match err {
        LlmError::Timeout => "timeout",
        LlmError::CircuitOpen => "circuit_open",
        LlmError::Upstream { kind, .. } => match kind {
            UpstreamKind::Status(401 | 403) => "unauthorized",
            UpstreamKind::Status(404) => "not_found",
            UpstreamKind::Status(429) => "rate_limited",
            UpstreamKind::Status(400..=499) => "rejected",
            UpstreamKind::Status(_) => "upstream_error",
            UpstreamKind::Connection => "connection",
            UpstreamKind::Malformed => "malformed",
            _ => "upstream_error",
        },
    }
}

impl CredentialService {
    /// Builds the service over the router (which holds the keys and the HTTP client).
    pub fn new(
        repo: Arc<dyn LlmCredentialRepository>,
        router: Arc<CredentialRouter>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            repo,
            router,
            clock,
        }
    }

    fn allow_private(&self) -> bool {
        self.router.settings().allow_private
    }

    async fn checked_url(&self, errors: &mut ValidationErrors, url: &str) -> Option<String> {
        if url.chars().count() > MAX_URL {
            errors.push("base_url", format!("must be at most {MAX_URL} characters"));
            return None;
        }
        let checked = match check_base_url(url, self.allow_private()) {
            Ok(checked) => checked,
            Err(e) => {
                errors.push("base_url", endpoint_message(&e));
                return None;
            }
        };
        if let Err(e) = check_resolved(&checked, self.allow_private()).await {
            errors.push("base_url", endpoint_message(&e));
            return None;
        }
        Some(checked)
    }

    /// Registers a credential of the caller. Students may too: registering spends nothing,
    /// and only activities with `policies.allow_student_credentials` let a session use it.
    pub async fn create(
        &self,
        ctx: &RequestContext,
        input: CredentialInput,
    ) -> Result<LlmCredential, CredentialError> {
        let mut errors = ValidationErrors::new();
        if input.provider != OPENAI_COMPATIBLE {
            errors.push("provider", format!("must be {OPENAI_COMPATIBLE}"));
        }
        let label = text(&mut errors, "label", &input.label, MAX_TEXT);
        let model = text(&mut errors, "model", &input.model, MAX_TEXT);
        check_key(&mut errors, &input.api_key);
        let base_url = self.checked_url(&mut errors, &input.base_url).await;
        errors.into_result()?;
        let base_url = base_url.unwrap_or_default();
        let id = Uuid::new_v4();
        let sealed = self
            .router
            .keyring()
            .seal(&input.api_key, id, ctx.user_id)
            .map_err(|e| CredentialError::Internal(Box::new(e)))?;
        let created = self
            .repo
            .create(NewCredential {
                id,
                owner_id: ctx.user_id,
                label,
                provider: OPENAI_COMPATIBLE.to_owned(),
                base_url,
                model,
                key_hint: key_hint(input.api_key.expose_secret()),
                sealed,
                at: self.clock.now(),
            })
            .await?;
        tracing::info!(credential = %created.id, owner = %ctx.user_id, "model credential registered");
        Ok(created)
    }

    /// The caller's credentials.
    pub async fn list_mine(
        &self,
        ctx: &RequestContext,
        page: Page,
    ) -> Result<Paginated<LlmCredential>, CredentialError> {
        let filter = CredentialFilter {
            owner_id: Some(ctx.user_id),
            status: None,
        };
        Ok(self.repo.list(filter, page).await?)
    }

    /// A credential of the caller (404 for anyone else's, admins included: they use the
    /// admin list).
    pub async fn get_mine(
        &self,
        ctx: &RequestContext,
        id: Uuid,
    ) -> Result<LlmCredential, CredentialError> {
        match self.repo.find(id).await? {
            Some(stored) if stored.credential.owner_id == ctx.user_id => Ok(stored.credential),
            _ => Err(CredentialError::NotFound),
        }
    }

    /// Changes a credential of the caller.
    pub async fn update_mine(
        &self,
        ctx: &RequestContext,
        id: Uuid,
        patch: CredentialPatch,
    ) -> Result<LlmCredential, CredentialError> {
        self.get_mine(ctx, id).await?;
        let mut errors = ValidationErrors::new();
        let label = patch
            .label
            .as_deref()
            .map(|l| text(&mut errors, "label", l, MAX_TEXT));
        let model = patch
            .model
            .as_deref()
            .map(|m| text(&mut errors, "model", m, MAX_TEXT));
        let base_url = match patch.base_url.as_deref() {
            Some(url) => self.checked_url(&mut errors, url).await,
            None => None,
        };
        if let Some(key) = &patch.api_key {
            check_key(&mut errors, key);
        }
        errors.into_result()?;
        let secret = match &patch.api_key {
            Some(key) => Some((
                self.router
                    .keyring()
                    .seal(key, id, ctx.user_id)
                    .map_err(|e| CredentialError::Internal(Box::new(e)))?,
                key_hint(key.expose_secret()),
            )),
            None => None,
        };
        let edit = CredentialEdit {
            label,
            base_url,
            model,
            secret,
        };
        Ok(self
            .repo
            .edit(id, ctx.user_id, edit, self.clock.now())
            .await?)
    }

    /// Deletes a credential of the caller.
    pub async fn delete_mine(&self, ctx: &RequestContext, id: Uuid) -> Result<(), CredentialError> {
        Ok(self.repo.delete(id, ctx.user_id).await?)
    }

    /// Makes one cheap call (one token) through the same provider adapter the gateway uses
    /// and records the outcome.
    pub async fn verify_mine(
        &self,
        ctx: &RequestContext,
        id: Uuid,
    ) -> Result<LlmCredential, CredentialError> {
        let stored = match self.repo.find(id).await? {
            Some(stored) if stored.credential.owner_id == ctx.user_id => stored,
            _ => return Err(CredentialError::NotFound),
        };
        let outcome = if check_base_url(&stored.credential.base_url, self.allow_private()).is_err()
        {
            Some("blocked_address".to_owned())
        } else {
            let client = build_client(
                self.router.http().clone(),
                Arc::clone(self.router.keyring()),
                &stored,
                self.router.settings(),
                Arc::new(NoCache),
                self.router.observer(),
                None,
            );
            let request = LlmRequest {
                messages: vec![ChatMessage {
                    role: ChatRole::User,
                    content: "ping".to_owned(),
                }],
                temperature: 0.0,
                max_tokens: 1,
                guidance: Guidance {
                    agent: Agent::Tutor,
                    intent: Intent::ConceptualQuestion,
                    help_level: HelpLevel::Minimal,
                    simulator_type: None,
                    activity_title: String::new(),
                    subject: String::new(),
                    allow_code_snippets: false,
                    grounding: Vec::new(),
                },
            };
            match client.complete(&request).await {
                Ok(_) => None,
                Err(e) => {
                    tracing::info!(credential = %id, error = %ainative_ports::error_chain(&e), "credential verification failed");
                    Some(error_kind(&e).to_owned())
                }
            }
        };
        let verification = Verification {
            at: self.clock.now(),
            error_kind: outcome,
        };
        Ok(self.repo.record_verification(id, verification).await?)
    }

    /// Every credential, filtered (admins).
    pub async fn admin_list(
        &self,
        ctx: &RequestContext,
        filter: CredentialFilter,
        page: Page,
    ) -> Result<Paginated<LlmCredential>, CredentialError> {
        ctx.require_admin()?;
        Ok(self.repo.list(filter, page).await?)
    }

    /// Suspends a credential (admins): from the next turn on, it is not used.
    pub async fn suspend(
        &self,
        ctx: &RequestContext,
        id: Uuid,
        reason: String,
    ) -> Result<LlmCredential, CredentialError> {
        ctx.require_admin()?;
        let mut errors = ValidationErrors::new();
        let reason = text(&mut errors, "reason", &reason, MAX_TEXT);
        errors.into_result()?;
        let change = AdminCredentialChange {
            status: Some(CredentialStatus::Suspended),
            suspension_reason: Some(reason.clone()),
            ..AdminCredentialChange::default()
        };
        let details = serde_json::json!({"status": "suspended", "reason": reason});
        self.admin_change(ctx, id, change, AuditAction::CredentialSuspended, details)
            .await
    }

    /// Activates a suspended credential (admins).
    pub async fn activate(
        &self,
        ctx: &RequestContext,
        id: Uuid,
    ) -> Result<LlmCredential, CredentialError> {
        ctx.require_admin()?;
        let change = AdminCredentialChange {
            status: Some(CredentialStatus::Active),
            ..AdminCredentialChange::default()
        };
        let details = serde_json::json!({"status": "active"});
        self.admin_change(ctx, id, change, AuditAction::CredentialActivated, details)
            .await
    }

    /// Changes a credential's limits (admins).
    pub async fn set_limits(
        &self,
        ctx: &RequestContext,
        id: Uuid,
        limits: LimitsPatch,
    ) -> Result<LlmCredential, CredentialError> {
        ctx.require_admin()?;
        let mut errors = ValidationErrors::new();
        if limits.rate_limit_rpm.is_none() && limits.max_concurrent_requests.is_none() {
            errors.push(
                "rate_limit_rpm",
                "give rate_limit_rpm or max_concurrent_requests",
            );
        }
        if limits.max_concurrent_requests == Some(Some(0)) {
            errors.push("max_concurrent_requests", "must be at least 1");
        }
        errors.into_result()?;
        let change = AdminCredentialChange {
            rate_limit_rpm: limits.rate_limit_rpm,
            max_concurrent_requests: limits.max_concurrent_requests,
            ..AdminCredentialChange::default()
        };
        let details = serde_json::json!({
            "rate_limit_rpm": limits.rate_limit_rpm,
            "max_concurrent_requests": limits.max_concurrent_requests,
        });
        self.admin_change(
            ctx,
            id,
            change,
            AuditAction::CredentialLimitsChanged,
            details,
        )
        .await
    }

    async fn admin_change(
        &self,
        ctx: &RequestContext,
        id: Uuid,
        change: AdminCredentialChange,
        action: AuditAction,
        details: serde_json::Value,
    ) -> Result<LlmCredential, CredentialError> {
        let audit = NewAuditEntry {
            actor_id: Some(ctx.user_id),
            action,
            target_type: "llm_credential".to_owned(),
            target_id: id,
            details,
            at: self.clock.now(),
        };
        Ok(self.repo.admin_change(id, change, audit).await?)
    }

    /// Whether `id` is a credential of `owner_id` (the activity rule of
    /// `policies.llm_credential_id`).
    pub async fn belongs_to(&self, id: Uuid, owner_id: Uuid) -> Result<bool, PortError> {
        Ok(self
            .repo
            .find(id)
            .await?
            .is_some_and(|s| s.credential.owner_id == owner_id))
    }
}

/// Verification answers are never cached.
struct NoCache;

#[async_trait::async_trait]
impl ainative_ports::ResponseCache for NoCache {
    async fn get(&self, _key: &str) -> ainative_ports::PortResult<Option<String>> {
        Ok(None)
    }
    async fn put(
        &self,
        _key: &str,
        _value: &str,
        _ttl: std::time::Duration,
    ) -> ainative_ports::PortResult<()> {
        Ok(())
    }
}
