//! The `mail.send` job (SPEC §10.1, §10.5): account mail goes through the durable queue.
//!
//! The payload says what to send and to whom ([`MailJob`]), never a token or a link: the
//! handler ([`AccountMailer`]) issues the one-time token (only its hash is stored), renders
//! the mail and hands it to the transport at send time. A retry issues a fresh token, which
//! replaces the earlier one (only the newest link works), so a link that was never delivered
//! is never valid for long.

use std::sync::Arc;
use std::time::Duration;

use ainative_domain::{Email, User};
use ainative_ports::{
    AccountTokenRepository, Clock, MailError, Mailer, NewAccountToken, NewJob, PortError,
    TokenPurpose, UserRepository,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::account_token::{self, password_fingerprint};
use crate::{mail_templates, AccountConfig};

/// The job kind of account mail.
pub const MAIL_JOB_KIND: &str = "mail.send";

/// Attempts of a mail job: with the queue's default back-off (5 s doubling, at most 10 min)
/// about half an hour of retries, within the life of a reset link.
pub const MAIL_MAX_ATTEMPTS: u32 = 10;

/// What a `mail.send` job sends. Holds no secret: the token is made when the job runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "purpose", rename_all = "snake_case", deny_unknown_fields)]
pub enum MailJob {
    /// A verification link to the user's current address.
    VerifyEmail {
        /// The user.
        user_id: Uuid,
    },
    /// A reset link to the account with this address, if there is one (the job is queued
    /// for unknown addresses too, so the request reveals nothing).
    ResetPassword {
        /// The address asked for (normalised).
        email: String,
    },
}

impl MailJob {
    /// The job to enqueue at `at`.
    pub fn to_job(&self, at: DateTime<Utc>) -> NewJob {
        let payload = serde_json::to_value(self).unwrap_or_default();
        NewJob::new(MAIL_JOB_KIND, payload, at).max_attempts(MAIL_MAX_ATTEMPTS)
    }
}

/// Why a mail job's attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum MailJobError {
    /// The payload is not a [`MailJob`]; retrying cannot help.
    #[error("invalid mail job payload: {0}")]
    Payload(#[from] serde_json::Error),
    /// Storage failed (the token could not be stored, the user not read).
    #[error(transparent)]
    Port(#[from] PortError),
    /// The transport failed.
    #[error(transparent)]
    Mail(#[from] MailError),
}

impl MailJobError {
    /// True when a retry cannot help: a bad payload or a refusal by the mail server (5xx).
    pub fn is_permanent(&self) -> bool {
        match self {
            Self::Payload(_) => true,
            Self::Port(_) => false,
            Self::Mail(err) => !err.is_retryable(),
        }
    }
}

/// What a run of a mail job did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The mail was handed to the transport.
    Sent,
    /// Nothing to send: no such (active) account, or already verified.
    Skipped,
}

/// What the mail handler needs.
#[derive(Clone)]
pub struct AccountMailerDeps {
    /// Users, read at send time.
    pub users: Arc<dyn UserRepository>,
    /// Token storage.
    pub tokens: Arc<dyn AccountTokenRepository>,
    /// The transport.
    pub mailer: Arc<dyn Mailer>,
    /// Issue and expiry times.
    pub clock: Arc<dyn Clock>,
}

/// Runs `mail.send` jobs.
pub struct AccountMailer {
    deps: AccountMailerDeps,
    config: AccountConfig,
}

impl AccountMailer {
    /// A handler with the account mail settings.
    pub fn new(deps: AccountMailerDeps, config: AccountConfig) -> Self {
        Self { deps, config }
    }

    /// Runs one job's payload.
    pub async fn run_payload(&self, payload: serde_json::Value) -> Result<Delivery, MailJobError> {
        self.run(serde_json::from_value(payload)?).await
    }

    /// Sends what `job` asks for, issuing a fresh token.
    pub async fn run(&self, job: MailJob) -> Result<Delivery, MailJobError> {
        match self.send(job).await {
            // The user was deleted between the look-up and the token: nothing to send.
            Err(MailJobError::Port(PortError::NotFound)) => Ok(Delivery::Skipped),
            other => other,
        }
    }

    async fn send(&self, job: MailJob) -> Result<Delivery, MailJobError> {
        match job {
            MailJob::VerifyEmail { user_id } => {
                let Some(user) = self.deps.users.find_by_id(user_id).await? else {
                    return Ok(Delivery::Skipped);
                };
                if !user.is_active || user.is_verified {
                    return Ok(Delivery::Skipped);
                }
                let token = self
                    .issue(
                        &user,
                        TokenPurpose::VerifyEmail,
                        self.config.verification_ttl,
                    )
                    .await?;
                let mail = mail_templates::verification(&self.config, user.email.as_str(), &token);
                self.deps.mailer.send(&mail).await?;
            }
            MailJob::ResetPassword { email } => {
                let Ok(email) = Email::parse(&email) else {
                    return Ok(Delivery::Skipped);
                };
                let Some(user) = self.deps.users.find_by_login(email.as_str()).await? else {
                    return Ok(Delivery::Skipped);
                };
                // `find_by_login` also matches usernames: only the address itself counts.
                if !user.is_active || user.email != email {
                    return Ok(Delivery::Skipped);
                }
                let token = self
                    .issue(&user, TokenPurpose::ResetPassword, self.config.reset_ttl)
                    .await?;
                let mail =
                    mail_templates::password_reset(&self.config, user.email.as_str(), &token);
                self.deps.mailer.send(&mail).await?;
            }
        }
        Ok(Delivery::Sent)
    }

    /// Stores the hash of a new token (replacing earlier ones) and answers the token.
    async fn issue(
        &self,
        user: &User,
        purpose: TokenPurpose,
        ttl: Duration,
    ) -> Result<String, PortError> {
        let token = account_token::generate();
        let now = self.deps.clock.now();
        self.deps
            .tokens
            .issue(NewAccountToken {
                id: Uuid::new_v4(),
                user_id: user.id,
                purpose,
                token_hash: token.hash,
                password_fingerprint: password_fingerprint(&user.password_hash),
                sent_to: user.email.as_str().to_owned(),
                created_at: now,
                expires_at: now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX),
            })
            .await?;
        Ok(token.value)
    }
}

#[cfg(test)]
#[path = "account_mail_tests.rs"]
mod tests;
