//! Mail adapters of ainative (SPEC §10.1).
//!
//! - [`SmtpMailer`]: lettre over SMTP, implicit TLS (`smtps://`), STARTTLS
//!   (`smtp://…?tls=starttls`) or plain (`smtp://`, meant for a local relay), with
//!   authentication from the URL; every send is bounded in time.
//! - [`LogMailer`]: the default; logs one line per message (recipient masked) and, when
//!   given a directory, writes the whole message there as an `.eml` file a developer can
//!   open to click the link.
//!
//! Mail leaves the request path as a `mail.send` job on the durable queue (crate `auth`,
//! `AccountMailer`); the job's handler calls one of these transports.

mod log;
mod message;
mod smtp;

pub use log::LogMailer;
pub use message::{build_message, mask_address, MessageError};
pub use smtp::{MailConfigError, SmtpMailer};
