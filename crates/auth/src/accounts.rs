//! Account flows that go through mail: e-mail verification and password reset (SPEC §10.1).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use ainative_domain::{AuditAction, Email, NewAuditEntry, RequestContext, User, ValidationErrors};
use ainative_ports::{
    AccountToken, AccountTokenRepository, JobQueue, PortError, RateLimiter, TokenPurpose,
};
use uuid::Uuid;

use crate::account_mail::MailJob;
use crate::account_token::{self, password_fingerprint};
use crate::{AuthError, AuthService, TokenPair, TokenRejection};

/// The window of the mail limits.
pub const MAIL_WINDOW: Duration = Duration::from_secs(3600);

/// Settings of the account mails.
#[derive(Debug, Clone)]
pub struct AccountConfig {
    /// Shown in subjects and signatures.
    pub product_name: String,
    /// Base of the links in mails, without a trailing slash.
    pub public_base_url: String,
    /// Life of a reset link.
    pub reset_ttl: Duration,
    /// Life of a verification link.
    pub verification_ttl: Duration,
    /// Mails per address per hour.
    pub mail_per_address: u32,
    /// Mail requests per client IP per hour.
    pub mail_per_ip: u32,
    /// Unverified users get 403 on the tutoring endpoints.
    pub require_verified_email: bool,
}

/// What the account flows need besides the identity core.
#[derive(Clone)]
pub struct AccountDeps {
    /// Token storage.
    pub tokens: Arc<dyn AccountTokenRepository>,
    /// The durable queue mail jobs go to (`mail.send`, delivered by the workers).
    pub jobs: Arc<dyn JobQueue>,
    /// Per-address and per-IP budgets.
    pub limiter: Arc<dyn RateLimiter>,
}

/// E-mail verification and password reset.
pub struct AccountService {
    auth: Arc<AuthService>,
    deps: AccountDeps,
    config: AccountConfig,
}

impl AccountService {
    /// Builds the service on top of the identity core.
    pub fn new(auth: Arc<AuthService>, deps: AccountDeps, config: AccountConfig) -> Self {
        Self { auth, deps, config }
    }

    /// The configuration in force.
    pub fn config(&self) -> &AccountConfig {
        &self.config
    }

    /// Counts one mail against a key; `false` when its budget is spent.
    async fn within_budget(&self, key: String, limit: u32) -> Result<(bool, u64), AuthError> {
        if limit == 0 {
            return Ok((true, 0));
        }
        let decision = self.deps.limiter.check(&key, limit, MAIL_WINDOW).await?;
        Ok((decision.allowed, decision.reset_secs))
    }

    /// Puts a `mail.send` job on the durable queue; the workers issue the token and send.
    async fn enqueue(&self, mail: MailJob) -> Result<(), AuthError> {
        let now = self.auth.deps().clock.now();
        self.deps.jobs.enqueue(mail.to_job(now)).await?;
        Ok(())
    }

    /// Queues the verification mail of a newly registered user. The user row is committed
    /// already: a failure here is logged, never fails the registration (the user can ask
    /// for a link again).
    pub async fn welcome(&self, user: &User) {
        let outcome = async {
            let key = format!("mail:address:{}", user.email.as_str());
            if self
                .within_budget(key, self.config.mail_per_address)
                .await?
                .0
            {
                self.enqueue(MailJob::VerifyEmail { user_id: user.id })
                    .await?;
            }
            Ok::<_, AuthError>(())
        }
        .await;
        if let Err(err) = outcome {
            tracing::error!(error = %ainative_ports::error_chain(&err), "verification mail not queued");
        }
    }

    /// Sends the caller a new verification link. Nothing is sent when the address is
    /// verified already; over the address budget the call is refused (429), which tells
    /// the caller nothing they do not know.
    pub async fn request_verification(&self, ctx: &RequestContext) -> Result<bool, AuthError> {
        let user = self.fresh_active_user(ctx.user_id).await?;
        if user.is_verified {
            return Ok(false);
        }
        let key = format!("mail:address:{}", user.email.as_str());
        let (allowed, retry_after_secs) = self
            .within_budget(key, self.config.mail_per_address)
            .await?;
        if !allowed {
            return Err(AuthError::MailThrottled { retry_after_secs });
        }
        self.enqueue(MailJob::VerifyEmail { user_id: user.id })
            .await?;
        Ok(true)
    }

    async fn fresh_active_user(&self, id: Uuid) -> Result<User, AuthError> {
        match self.auth.deps().users.find_by_id(id).await? {
            Some(user) if user.is_active => Ok(user),
            _ => Err(AuthError::InvalidToken(TokenRejection::UserGone)),
        }
    }

    /// The valid token of `purpose` for a presented string, with its user, or
    /// `InvalidAccountToken` — one answer for malformed, unknown, used, expired, wrong-purpose
    /// and outdated (password changed since) tokens.
    async fn redeemable(
        &self,
        presented: &str,
        purpose: TokenPurpose,
    ) -> Result<(AccountToken, User), AuthError> {
        let hash = account_token::parse(presented).ok_or(AuthError::InvalidAccountToken)?;
        let now = self.auth.deps().clock.now();
        let token = self
            .deps
            .tokens
            .find_valid(purpose, &hash, now)
            .await?
            .ok_or(AuthError::InvalidAccountToken)?;
        let user = match self.auth.deps().users.find_by_id(token.user_id).await? {
            Some(user) if user.is_active => user,
            _ => return Err(AuthError::InvalidAccountToken),
        };
        let current = token.password_fingerprint == password_fingerprint(&user.password_hash)
            && token.sent_to == user.email.as_str();
        if !current {
            return Err(AuthError::InvalidAccountToken);
        }
        Ok((token, user))
    }

    /// Confirms the address a verification link was sent to; returns the verified user.
    pub async fn verify_email(&self, presented: &str) -> Result<User, AuthError> {
        let (token, user) = self
            .redeemable(presented, TokenPurpose::VerifyEmail)
            .await?;
        let now = self.auth.deps().clock.now();
        match self
            .deps
            .tokens
            .redeem_verification(token.id, user.id, now)
            .await
        {
            Err(PortError::NotFound) => return Err(AuthError::InvalidAccountToken),
            other => other?,
        }
        self.auth.deps().user_cache.invalidate(&user.id).await;
        Ok(User {
            is_verified: true,
            updated_at: now,
            ..user
        })
    }

    /// Starts a password reset for an address. Does the same work, and answers the same,
    /// whether or not an account has the address: the per-IP budget (429), the per-address
    /// budget (over it, nothing is queued, silently) and one `mail.send` job. The account
    /// is looked up by the job, off the request path.
    pub async fn request_password_reset(
        &self,
        email: &str,
        client_ip: Option<IpAddr>,
    ) -> Result<(), AuthError> {
        let email =
            Email::parse(email).map_err(|e| ValidationErrors::single("email", e.to_string()))?;
        if let Some(ip) = client_ip {
            let (allowed, retry_after_secs) = self
                .within_budget(format!("mail:ip:{ip}"), self.config.mail_per_ip)
                .await?;
            if !allowed {
                return Err(AuthError::MailThrottled { retry_after_secs });
            }
        }
        let key = format!("mail:address:{}", email.as_str());
        if !self
            .within_budget(key, self.config.mail_per_address)
            .await?
            .0
        {
            tracing::info!("password reset dropped: address over its mail budget");
            return Ok(());
        }
        self.enqueue(MailJob::ResetPassword {
            email: email.as_str().to_owned(),
        })
        .await
    }

    /// Sets a new password with a reset link: the token is consumed, every session of the
    /// user ends, the change is audited, and a new session starts (its token pair is
    /// returned). The password rules of registration apply (422).
    pub async fn reset_password(
        &self,
        presented: &str,
        new_password: &str,
    ) -> Result<TokenPair, AuthError> {
        let (token, user) = self
            .redeemable(presented, TokenPurpose::ResetPassword)
            .await?;
        let deps = self.auth.deps();
        self.auth
            .config()
            .password_policy
            .check(new_password, user.email.as_str(), user.username.as_str())
            .map_err(|e| ValidationErrors::single("new_password", e.to_string()))?;
        let password_hash = deps.hasher.hash(new_password).await?;
        let now = deps.clock.now();
        let audit = NewAuditEntry {
            actor_id: Some(user.id),
            action: AuditAction::PasswordReset,
            target_type: "user".into(),
            target_id: user.id,
            details: serde_json::json!({"via": "reset_link", "sessions_revoked": true}),
            at: now,
        };
        let revoked = match self
            .deps
            .tokens
            .redeem_reset(token.id, user.id, &password_hash, audit)
            .await
        {
            Err(PortError::NotFound) => return Err(AuthError::InvalidAccountToken),
            other => other?,
        };
        deps.user_cache.invalidate(&user.id).await;
        let until = now
            + chrono::Duration::from_std(self.auth.config().jwt.refresh_ttl)
                .unwrap_or(chrono::Duration::MAX);
        for session_id in revoked {
            deps.revocations.revoke_session(session_id, until).await?;
        }
        let user = User {
            password_hash,
            is_verified: true,
            updated_at: now,
            ..user
        };
        self.auth.start_session(&user, now).await
    }

    /// With `REQUIRE_VERIFIED_EMAIL`, refuses a caller whose address is not verified (403
    /// `EMAIL_NOT_VERIFIED`); otherwise lets everyone through.
    pub async fn ensure_verified(&self, ctx: &RequestContext) -> Result<(), AuthError> {
        if !self.config.require_verified_email {
            return Ok(());
        }
        let user = self.auth.current_user(ctx).await?;
        if user.is_verified {
            Ok(())
        } else {
            Err(AuthError::EmailNotVerified)
        }
    }
}

#[cfg(test)]
#[path = "accounts_tests.rs"]
mod tests;
