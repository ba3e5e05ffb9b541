//! Outgoing mail: the transport ([`Mailer`]). Mail leaves the request path as a `mail.send`
//! job on the durable queue ([`crate::JobQueue`]); its handler calls the transport.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::Cause;

/// A message to send: one recipient, a plain-text body and the same content as HTML.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingMail {
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body (the alternative part).
    pub html: String,
    /// The template that produced it (`verify_email`, `password_reset`), for logs and metrics.
    pub template: String,
}

/// Why a send failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// The transport could not be reached or answered with a transient error; retry later.
    #[error("mail transport unavailable")]
    Unavailable(#[source] Cause),
    /// The transport refused the message for good (a permanent SMTP reply, a bad address);
    /// retrying would not help.
    #[error("mail rejected")]
    Rejected(#[source] Cause),
}

impl MailError {
    /// True when a later retry may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

/// A mail transport (SMTP, the development log, a test double).
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Delivers one message to the transport. Implementations bound the whole exchange in
    /// time and report a stall as `Unavailable`.
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError>;
}
