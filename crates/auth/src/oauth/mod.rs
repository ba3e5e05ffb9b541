//! Social login (SPEC §10.2): the authorization-code flow with PKCE against a configured
//! provider, account resolution without silent linking by e-mail, one-time login codes,
//! and the management of linked identities.

mod error;
mod names;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use ainative_domain::{
    AuditAction, Email, NewAuditEntry, RequestContext, RoleSet, Tier, User, Username,
};
use ainative_ports::{
    Clock, Conflict, IdentityProvider, NewLoginCode, NewUser, OAuthAccount, OAuthFlow, OAuthStore,
    PortError, ProviderIdentity, UnlinkOutcome, UserRepository,
};
use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub use error::OAuthError;

use crate::{AuthService, LoginOutcome};

/// Social-login settings.
#[derive(Debug, Clone)]
pub struct OAuthConfig {
    /// Application URLs a flow may return to (exact match).
    pub redirect_allowlist: Vec<String>,
    /// Public base URL of this API (the callback is built from it, never from `Host`).
    pub public_base_url: String,
    /// Life of a started flow.
    pub flow_ttl: Duration,
    /// Life of a one-time login code.
    pub login_code_ttl: Duration,
}

/// A started flow: where to send the browser and the value of the browser-binding cookie.
#[derive(Debug, Clone)]
pub struct StartedFlow {
    /// The provider's authorization URL.
    pub authorization_url: String,
    /// Value of the `__Host-` cookie that binds the flow to this browser.
    pub browser_binding: String,
    /// Seconds until the flow expires.
    pub expires_in: u64,
}

/// What the provider sent back to the callback, and the browser's binding cookie.
#[derive(Debug, Clone, Default)]
pub struct CallbackInput {
    /// `code`.
    pub code: Option<String>,
    /// `state`.
    pub state: Option<String>,
    /// `error` (e.g. `access_denied` when consent was refused).
    pub error: Option<String>,
    /// The binding cookie, if the browser sent it.
    pub browser_binding: Option<String>,
}

/// Social-login use cases.
pub struct OAuthService {
    providers: BTreeMap<String, Arc<dyn IdentityProvider>>,
    store: Arc<dyn OAuthStore>,
    users: Arc<dyn UserRepository>,
    auth: Arc<AuthService>,
    clock: Arc<dyn Clock>,
    config: OAuthConfig,
}

/// A random secret: 32 bytes, hex.
fn secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// `uri` with `name=value` added to its query (before any fragment). Values here are hex or
/// provider names: nothing to escape.
fn with_param(uri: &str, name: &str, value: &str) -> String {
    let (base, fragment) = match uri.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (uri, None),
    };
    let joiner = if base.contains('?') { '&' } else { '?' };
    let mut out = format!("{base}{joiner}{name}={value}");
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

impl OAuthService {
    /// Builds the service over the enabled providers (by name).
    pub fn new(
        providers: BTreeMap<String, Arc<dyn IdentityProvider>>,
        store: Arc<dyn OAuthStore>,
        users: Arc<dyn UserRepository>,
        auth: Arc<AuthService>,
        clock: Arc<dyn Clock>,
        config: OAuthConfig,
    ) -> Self {
        Self {
            providers,
            store,
            users,
            auth,
            clock,
            config,
        }
    }

    /// Names of the enabled providers.
    pub fn provider_names(&self) -> Vec<String> {
        self.providers.keys().cloned().collect()
    }

    fn provider(&self, name: &str) -> Result<&Arc<dyn IdentityProvider>, OAuthError> {
        self.providers.get(name).ok_or(OAuthError::UnknownProvider)
    }

    fn callback_url(&self, provider: &str) -> String {
        format!(
            "{}/api/v1/auth/oauth/{provider}/callback",
            self.config.public_base_url.trim_end_matches('/')
        )
    }

    /// Starts a flow with `provider` that returns to `redirect_uri` (which must be on the
    /// allow-list). With `link_user`, the callback links the identity to that user instead
    /// of signing in.
    pub async fn start(
        &self,
        provider: &str,
        redirect_uri: &str,
        link_user: Option<Uuid>,
    ) -> Result<StartedFlow, OAuthError> {
        let client = self.provider(provider)?;
        if !self
            .config
            .redirect_allowlist
            .iter()
            .any(|allowed| allowed == redirect_uri)
        {
            return Err(OAuthError::RedirectNotAllowed);
        }
        let started = client.start(&self.callback_url(provider)).await?;
        let browser_binding = secret();
        let now = self.clock.now();
        self.store
            .save_flow(OAuthFlow {
                state_hash: sha256_hex(&started.state),
                provider: provider.to_owned(),
                pkce_verifier: started.pkce_verifier,
                nonce: started.nonce,
                redirect_uri: redirect_uri.to_owned(),
                browser_hash: sha256_hex(&browser_binding),
                link_user_id: link_user,
                created_at: now,
                expires_at: now + to_chrono(self.config.flow_ttl),
            })
            .await?;
        Ok(StartedFlow {
            authorization_url: started.url,
            browser_binding,
            expires_in: self.config.flow_ttl.as_secs(),
        })
    }

    /// Finishes a flow: checks state, browser binding and provider, exchanges the code,
    /// then signs in (or creates) the user, or links the identity. Returns the URL to send
    /// the browser to: the flow's `redirect_uri` with `code=<one-time login code>`, or with
    /// `linked=<provider>` after a link.
    pub async fn callback(
        &self,
        provider: &str,
        input: CallbackInput,
    ) -> Result<String, OAuthError> {
        let client = self.provider(provider)?.clone();
        let state = input.state.as_deref().ok_or(OAuthError::InvalidState)?;
        let now = self.clock.now();
        // Taken (deleted) before anything else: a state works once, even when this fails.
        let flow = self
            .store
            .take_flow(&sha256_hex(state), now)
            .await?
            .ok_or(OAuthError::InvalidState)?;
        let bound = input
            .browser_binding
            .as_deref()
            .is_some_and(|cookie| sha256_hex(cookie) == flow.browser_hash);
        if flow.provider != provider || !bound {
            return Err(OAuthError::InvalidState);
        }
        if let Some(error) = input.error {
            return Err(OAuthError::Denied(error));
        }
        let code = input.code.as_deref().ok_or(OAuthError::InvalidState)?;
        let identity = client
            .identify(
                code,
                &flow.pkce_verifier,
                flow.nonce.clone(),
                &self.callback_url(provider),
            )
            .await?;
        match flow.link_user_id {
            Some(user_id) => {
                self.link(user_id, provider, &identity, now).await?;
                Ok(with_param(&flow.redirect_uri, "linked", provider))
            }
            None => {
                let user_id = self.resolve(provider, identity, now).await?;
                let code = self.issue_login_code(user_id, now).await?;
                Ok(with_param(&flow.redirect_uri, "code", &code))
            }
        }
    }

    async fn link(
        &self,
        user_id: Uuid,
        provider: &str,
        identity: &ProviderIdentity,
        now: DateTime<Utc>,
    ) -> Result<(), OAuthError> {
        if let Some(existing) = self.store.find_account(provider, &identity.subject).await? {
            return if existing.user_id == user_id {
                Ok(())
            } else {
                Err(OAuthError::IdentityLinkedElsewhere)
            };
        }
        let account = new_account(user_id, provider, identity, now);
        let audit = NewAuditEntry {
            actor_id: Some(user_id),
            action: AuditAction::OAuthLinked,
            target_type: "oauth_account".into(),
            target_id: account.id,
            details: serde_json::json!({"provider": provider, "user_id": user_id}),
            at: now,
        };
        match self.store.link_account(account, audit).await {
            Ok(()) => Ok(()),
            Err(PortError::Conflict(Conflict::IdentityLinked)) => {
                Err(OAuthError::IdentityLinkedElsewhere)
            }
            Err(err) => Err(err.into()),
        }
    }

    /// The user this identity signs in: the linked one, else a new student. An e-mail
    /// address that belongs to a local user is never linked silently.
    async fn resolve(
        &self,
        provider: &str,
        identity: ProviderIdentity,
        now: DateTime<Utc>,
    ) -> Result<Uuid, OAuthError> {
        if let Some(account) = self.store.find_account(provider, &identity.subject).await? {
            return Ok(account.user_id);
        }
        let email = identity
            .email
            .as_deref()
            .and_then(|e| Email::parse(e).ok())
            .ok_or(OAuthError::NoEmail)?;
        if self.users.find_by_login(email.as_str()).await?.is_some() {
            return Err(OAuthError::AccountExists);
        }
        let full_name = names::full_name(&identity);
        let mut last_error = OAuthError::AccountExists;
        for attempt in 0..names::USERNAME_ATTEMPTS {
            let username = names::username(&identity, attempt);
            let Ok(username) = Username::parse(&username) else {
                continue;
            };
            let user = NewUser {
                id: Uuid::new_v4(),
                email: email.clone(),
                username,
                full_name: full_name.clone(),
                student_id: None,
                roles: RoleSet::student(),
                tier: Tier::Free,
                is_active: true,
                is_verified: identity.email_verified,
                password_hash: User::NO_PASSWORD.to_owned(),
                created_at: now,
            };
            let account = new_account(user.id, provider, &identity, now);
            let audit = NewAuditEntry {
                actor_id: Some(user.id),
                action: AuditAction::OAuthSignUp,
                target_type: "user".into(),
                target_id: user.id,
                details: serde_json::json!({"provider": provider}),
                at: now,
            };
            match self
                .store
                .create_user_with_account(user, account, audit)
                .await
            {
                Ok(created) => return Ok(created.id),
                Err(PortError::Conflict(Conflict::Username)) => {
                    last_error = OAuthError::Internal("no free username".into());
                }
                Err(PortError::Conflict(Conflict::Email)) => return Err(OAuthError::AccountExists),
                // A concurrent callback of the same identity created it first.
                Err(PortError::Conflict(Conflict::IdentityLinked)) => {
                    return self
                        .store
                        .find_account(provider, &identity.subject)
                        .await?
                        .map(|a| a.user_id)
                        .ok_or(OAuthError::IdentityLinkedElsewhere);
                }
                Err(err) => return Err(err.into()),
            }
        }
        Err(last_error)
    }

    async fn issue_login_code(
        &self,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<String, OAuthError> {
        let code = secret();
        self.store
            .save_login_code(NewLoginCode {
                code_hash: sha256_hex(&code),
                user_id,
                created_at: now,
                expires_at: now + to_chrono(self.config.login_code_ttl),
            })
            .await?;
        Ok(code)
    }

    /// Exchanges a one-time login code for a new session.
    pub async fn exchange(&self, code: &str) -> Result<LoginOutcome, OAuthError> {
        let now = self.clock.now();
        let user_id = self
            .store
            .take_login_code(&sha256_hex(code.trim()), now)
            .await?
            .ok_or(OAuthError::InvalidLoginCode)?;
        Ok(self.auth.sign_in_user(user_id).await?)
    }

    /// The caller's linked identities.
    pub async fn accounts(&self, ctx: &RequestContext) -> Result<Vec<OAuthAccount>, OAuthError> {
        Ok(self.store.list_accounts(ctx.user_id).await?)
    }

    /// Removes one of the caller's linked identities, unless it is their last way to sign in.
    pub async fn unlink(&self, ctx: &RequestContext, account_id: Uuid) -> Result<(), OAuthError> {
        let now = self.clock.now();
        let audit = NewAuditEntry {
            actor_id: Some(ctx.user_id),
            action: AuditAction::OAuthUnlinked,
            target_type: "oauth_account".into(),
            target_id: account_id,
            details: serde_json::json!({"user_id": ctx.user_id}),
            at: now,
        };
        match self
            .store
            .unlink_account(ctx.user_id, account_id, audit)
            .await
        {
            Ok(UnlinkOutcome::Unlinked) => Ok(()),
            Ok(UnlinkOutcome::LastSignInMethod) => Err(OAuthError::LastSignInMethod),
            Err(PortError::NotFound) => Err(OAuthError::NotFound),
            Err(err) => Err(err.into()),
        }
    }
}

fn new_account(
    user_id: Uuid,
    provider: &str,
    identity: &ProviderIdentity,
    now: DateTime<Utc>,
) -> OAuthAccount {
    OAuthAccount {
        id: Uuid::new_v4(),
        user_id,
        provider: provider.to_owned(),
        provider_user_id: identity.subject.clone(),
        email: identity.email.clone(),
        created_at: now,
    }
}
