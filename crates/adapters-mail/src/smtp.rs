//! [`SmtpMailer`]: lettre's asynchronous SMTP transport.

use std::time::Duration;

use ainative_ports::{Cause, MailError, Mailer, OutgoingMail};
use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use percent_encoding::percent_decode_str;
use url::Url;

use crate::message::{build_message, mask_address};

/// An unusable `SMTP_URL` or `MAIL_FROM`.
#[derive(Debug, thiserror::Error)]
pub enum MailConfigError {
    /// The URL does not parse or names no host.
    #[error("SMTP_URL: {0}")]
    Url(String),
    /// The sender address does not parse.
    #[error("MAIL_FROM: {0}")]
    From(String),
}

/// How the connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Security {
    /// TLS from the first byte (`smtps://`, port 465 by default).
    Implicit,
    /// Plain connection upgraded with STARTTLS, which is required (`?tls=starttls`).
    StartTls,
    /// No TLS at all (`smtp://` without `tls`): for a relay on the same host or network.
    None,
}

/// Sends through an SMTP server. One connection per message: mail is rare, and pooled
/// connections that the server closed while idle fail the next send (lettre#743).
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    timeout: Duration,
}

fn parse_url(
    raw: &str,
) -> Result<(Security, String, Option<u16>, Option<Credentials>), MailConfigError> {
    let url = Url::parse(raw).map_err(|e| MailConfigError::Url(e.to_string()))?;
    let tls = url
        .query_pairs()
        .find(|(k, _)| k == "tls")
        .map(|(_, v)| v.into_owned());
    let security = match (url.scheme(), tls.as_deref()) {
        ("smtps", None) => Security::Implicit,
        ("smtp", Some("starttls" | "required")) => Security::StartTls,
        ("smtp", None | Some("none")) => Security::None,
        (scheme, tls) => {
            return Err(MailConfigError::Url(format!(
            "expected smtps://host or smtp://host[?tls=starttls], got scheme {scheme} with tls={}",
            tls.unwrap_or("(unset)")
        )))
        }
    };
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| MailConfigError::Url("names no host".into()))?
        .to_owned();
    let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    let credentials = (!url.username().is_empty()).then(|| {
        Credentials::new(
            decode(url.username()),
            decode(url.password().unwrap_or_default()),
        )
    });
    Ok((security, host, url.port(), credentials))
}

impl SmtpMailer {
    /// A mailer for `SMTP_URL` sending as `from`; every send (connect, dialogue, data) is
    /// bounded by `timeout`.
    pub fn new(url: &str, from: &str, timeout: Duration) -> Result<Self, MailConfigError> {
        let from: Mailbox = from
            .parse()
            .map_err(|e: lettre::address::AddressError| MailConfigError::From(e.to_string()))?;
        let (security, host, port, credentials) = parse_url(url)?;
        let builder = match security {
            Security::Implicit => AsyncSmtpTransport::<Tokio1Executor>::relay(&host),
            Security::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&host),
            Security::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
                &host,
            )),
        }
        .map_err(|e| MailConfigError::Url(e.to_string()))?;
        let mut builder = builder.timeout(Some(timeout));
        if let Some(port) = port {
            builder = builder.port(port);
        }
        if let Some(credentials) = credentials {
            builder = builder.credentials(credentials);
        }
        Ok(Self {
            transport: builder.build(),
            from,
            timeout,
        })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        let message = build_message(&self.from, mail)
            .map_err(|e| MailError::Rejected(Cause::with_source("cannot build the message", e)))?;
        // lettre's own timeout covers each read and write, not a server that trickles; bound
        // the whole exchange (lettre#1027).
        let sent = tokio::time::timeout(self.timeout * 3, self.transport.send(message)).await;
        match sent {
            Ok(Ok(_)) => {
                tracing::debug!(to = %mask_address(&mail.to), template = %mail.template, "mail sent over SMTP");
                Ok(())
            }
            Ok(Err(e)) if e.is_permanent() => Err(MailError::Rejected(Cause::with_source(
                "the SMTP server refused the message",
                e,
            ))),
            Ok(Err(e)) => Err(MailError::Unavailable(Cause::with_source(
                "SMTP delivery failed",
                e,
            ))),
            Err(_) => Err(MailError::Unavailable(Cause::new(
                "SMTP exchange timed out",
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_the_security() {
        let (s, host, port, creds) = parse_url("smtps://user:p%40ss@mail.example.com:465").unwrap();
        assert_eq!(
            (s, host.as_str(), port),
            (Security::Implicit, "mail.example.com", Some(465))
        );
        assert!(creds.is_some());
        let (s, _, port, creds) = parse_url("smtp://relay:25?tls=starttls").unwrap();
        assert_eq!((s, port), (Security::StartTls, Some(25)));
        assert!(creds.is_none());
        let (s, _, _, _) = parse_url("smtp://127.0.0.1:2525").unwrap();
        assert_eq!(s, Security::None);
        for bad in [
            "http://x",
            "smtps://host?tls=starttls",
            "smtp://host?tls=maybe",
            "smtp://",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_bad_sender_is_refused() {
        let err = SmtpMailer::new(
            "smtp://127.0.0.1:25",
            "not an address",
            Duration::from_secs(1),
        );
        assert!(matches!(err, Err(MailConfigError::From(_))));
    }
}
