//! [`LogMailer`]: the default transport, for development and evaluation.

use std::io::Write;
use std::path::{Path, PathBuf};

use ainative_ports::{Cause, MailError, Mailer, OutgoingMail};
use async_trait::async_trait;
use lettre::message::Mailbox;

use crate::message::{build_message, mask_address};
use crate::MailConfigError;

/// Logs each message at info with the recipient masked. With an outbox directory it also
/// writes the whole message there as `<time>-<id>.eml` (mode 0600), and with
/// `log_bodies` the plain-text body (links included) goes into the log line too — only for
/// development, since links hold one-time tokens (SPEC §7 keeps tokens out of logs).
pub struct LogMailer {
    from: Mailbox,
    outbox: Option<PathBuf>,
    log_bodies: bool,
}

impl LogMailer {
    /// A log mailer sending as `from` (an address or `Name <address>`).
    pub fn new(
        from: &str,
        outbox: Option<PathBuf>,
        log_bodies: bool,
    ) -> Result<Self, MailConfigError> {
        let from: Mailbox = from
            .parse()
            .map_err(|e: lettre::address::AddressError| MailConfigError::From(e.to_string()))?;
        Ok(Self {
            from,
            outbox,
            log_bodies,
        })
    }

    fn write_eml(dir: &Path, bytes: &[u8]) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(dir)?;
        let name = format!(
            "{}-{}.eml",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"),
            uuid::Uuid::new_v4().simple()
        );
        let path = dir.join(name);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path)?;
        file.write_all(bytes)?;
        Ok(path)
    }
}

#[async_trait]
impl Mailer for LogMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        let message = build_message(&self.from, mail)
            .map_err(|e| MailError::Rejected(Cause::with_source("cannot build the message", e)))?;
        let file = match &self.outbox {
            Some(dir) => {
                let dir = dir.clone();
                let bytes = message.formatted();
                let written = tokio::task::spawn_blocking(move || Self::write_eml(&dir, &bytes))
                    .await
                    .map_err(|e| MailError::Unavailable(Cause::with_source("outbox writer", e)))?
                    .map_err(|e| {
                        MailError::Unavailable(Cause::with_source("cannot write the .eml file", e))
                    })?;
                Some(written.display().to_string())
            }
            None => None,
        };
        let to = mask_address(&mail.to);
        if self.log_bodies {
            tracing::info!(%to, template = %mail.template, subject = %mail.subject, file = ?file, body = %mail.text, "mail (log transport)");
        } else {
            tracing::info!(%to, template = %mail.template, subject = %mail.subject, file = ?file, "mail (log transport)");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writes_the_message_as_an_eml_file() {
        let dir = std::env::temp_dir().join(format!("ainative-outbox-{}", uuid::Uuid::new_v4()));
        let mailer =
            LogMailer::new("ainative <no-reply@example.com>", Some(dir.clone()), false).unwrap();
        let mail = OutgoingMail {
            to: "ada@example.com".into(),
            subject: "Reset your password".into(),
            text: "Open http://localhost:8000/reset-password?token=AbC-123_x".into(),
            html: "<a href=\"http://localhost:8000/reset-password?token=AbC-123_x\">Reset</a>"
                .into(),
            template: "password_reset".into(),
        };
        mailer.send(&mail).await.unwrap();
        let files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].extension().unwrap(), "eml");
        let text = std::fs::read_to_string(&files[0]).unwrap();
        assert!(text.contains("To: ada@example.com"), "{text}");
        assert!(text.contains("AbC-123_x"), "{text}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&files[0]).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn without_a_directory_only_logs() {
        let mailer = LogMailer::new("no-reply@example.com", None, true).unwrap();
        let mail = OutgoingMail {
            to: "ada@example.com".into(),
            subject: "s".into(),
            text: "t".into(),
            html: "h".into(),
            template: "verify_email".into(),
        };
        assert_eq!(mailer.send(&mail).await, Ok(()));
    }
}
