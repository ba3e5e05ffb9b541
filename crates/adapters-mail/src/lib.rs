//! Mail adapters of ainative (SPEC §10.1).
//!
//! - [`SmtpMailer`]: lettre over SMTP, implicit TLS (`smtps://`), STARTTLS
//!   (`smtp://…?tls=starttls`) or plain (`smtp://`, meant for a local relay), with
//!   authentication from the URL; every send is bounded in time.
//! - [`LogMailer`]: the default; logs one line per message (recipient masked) and, when
//!   given a directory, writes the whole message there as an `.eml` file a developer can
//!   open to click the link.
//! - [`InProcessOutbox`]: the [`ainative_ports::MailOutbox`] that takes mail off the request
//!   path: a bounded queue, a few concurrent sends, retries with exponential back-off.

mod log;
mod message;
mod outbox;
mod smtp;

pub use log::LogMailer;
pub use message::{build_message, mask_address, MessageError};
pub use outbox::{InProcessOutbox, OutboxConfig};
pub use smtp::{MailConfigError, SmtpMailer};
