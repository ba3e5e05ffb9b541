//! Building the RFC 5322 message both transports send.

use ainative_ports::OutgoingMail;
use lettre::message::{Mailbox, MultiPart};
use lettre::Message;

/// A message that cannot be built (a bad address): permanent, never retried.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct MessageError(pub String);

/// A multipart/alternative message (text, then HTML) from `from` to the mail's recipient.
pub fn build_message(from: &Mailbox, mail: &OutgoingMail) -> Result<Message, MessageError> {
    let to: Mailbox = mail
        .to
        .parse()
        .map_err(|e| MessageError(format!("recipient: {e}")))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .multipart(MultiPart::alternative_plain_html(
            mail.text.clone(),
            mail.html.clone(),
        ))
        .map_err(|e| MessageError(e.to_string()))
}

/// An address for logs: the first character of the local part and the domain
/// (`a***@example.com`).
pub fn mask_address(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail() -> OutgoingMail {
        OutgoingMail {
            to: "ada@example.com".into(),
            subject: "Confirm your address".into(),
            text: "Open https://app.example.com/verify-email?token=abc".into(),
            html: "<p><a href=\"https://app.example.com/verify-email?token=abc\">Confirm</a></p>"
                .into(),
            template: "verify_email".into(),
        }
    }

    #[test]
    fn builds_a_multipart_alternative_message() {
        let from: Mailbox = "ainative <no-reply@example.com>".parse().unwrap();
        let text = String::from_utf8(build_message(&from, &mail()).unwrap().formatted()).unwrap();
        assert!(text.contains("To: ada@example.com"), "{text}");
        assert!(text.contains("Subject: Confirm your address"), "{text}");
        assert!(text.contains("multipart/alternative"), "{text}");
        assert!(text.contains("text/plain"), "{text}");
        assert!(text.contains("text/html"), "{text}");
    }

    #[test]
    fn a_bad_recipient_is_refused() {
        let from: Mailbox = "no-reply@example.com".parse().unwrap();
        let mut bad = mail();
        bad.to = "not an address".into();
        assert!(build_message(&from, &bad).is_err());
    }

    #[test]
    fn addresses_are_masked() {
        assert_eq!(mask_address("ada@example.com"), "a***@example.com");
        assert_eq!(mask_address("nobody"), "***");
    }
}
