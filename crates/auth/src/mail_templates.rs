//! The account mails, as plain text and HTML, with the product name and links built from
//! `PUBLIC_BASE_URL` (never from a request's `Host`).

use std::time::Duration;

use ainative_ports::OutgoingMail;

use crate::AccountConfig;

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn validity(ttl: Duration) -> String {
    let minutes = ttl.as_secs() / 60;
    if minutes >= 120 && minutes.is_multiple_of(60) {
        format!("{} hours", minutes / 60)
    } else {
        format!("{minutes} minutes")
    }
}

struct Template<'a> {
    name: &'static str,
    subject: String,
    intro: String,
    action: &'a str,
    link: String,
    outro: String,
}

fn render(config: &AccountConfig, to: &str, t: Template<'_>) -> OutgoingMail {
    let product = &config.product_name;
    let text = format!(
        "{intro}\n\n{action}:\n{link}\n\n{outro}\n\n-- \n{product}\n",
        intro = t.intro,
        action = t.action,
        link = t.link,
        outro = t.outro,
    );
    let html = format!(
        "<!doctype html>\n<html><body style=\"font-family:sans-serif\">\n<p>{intro}</p>\n\
         <p><a href=\"{link}\">{action}</a></p>\n<p>{outro}</p>\n<p>&mdash; {product}</p>\n\
         </body></html>\n",
        intro = escape(&t.intro),
        link = escape(&t.link),
        action = escape(t.action),
        outro = escape(&t.outro),
        product = escape(product),
    );
    OutgoingMail {
        to: to.to_owned(),
        subject: t.subject,
        text,
        html,
        template: t.name.to_owned(),
    }
}

/// The verification mail with its link.
pub(crate) fn verification(config: &AccountConfig, to: &str, token: &str) -> OutgoingMail {
    render(
        config,
        to,
        Template {
            name: "verify_email",
            subject: format!("Confirm your e-mail address for {}", config.product_name),
            intro: format!(
                "Please confirm that {to} is your address for {}.",
                config.product_name
            ),
            action: "Confirm your address",
            link: format!("{}/verify-email?token={token}", config.public_base_url),
            outro: format!(
                "The link works once and for {}. If you did not sign up, ignore this mail.",
                validity(config.verification_ttl)
            ),
        },
    )
}

/// The password reset mail with its link.
pub(crate) fn password_reset(config: &AccountConfig, to: &str, token: &str) -> OutgoingMail {
    render(
        config,
        to,
        Template {
            name: "password_reset",
            subject: format!("Reset your {} password", config.product_name),
            intro: format!(
                "Someone asked to reset the password of the {} account of {to}.",
                config.product_name
            ),
            action: "Choose a new password",
            link: format!("{}/reset-password?token={token}", config.public_base_url),
            outro: format!(
                "The link works once and for {}; setting a new password signs out every \
                 session. If you did not ask for this, ignore this mail: your password stays \
                 as it is.",
                validity(config.reset_ttl)
            ),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> AccountConfig {
        AccountConfig {
            product_name: "Tutor <AI>".into(),
            public_base_url: "https://app.example.com".into(),
            reset_ttl: Duration::from_secs(3600),
            verification_ttl: Duration::from_secs(86_400),
            mail_per_address: 5,
            mail_per_ip: 20,
            require_verified_email: false,
        }
    }

    #[test]
    fn verification_links_to_the_public_url_in_both_parts() {
        let mail = verification(&config(), "ada@example.com", "TOKEN");
        let link = "https://app.example.com/verify-email?token=TOKEN";
        assert_eq!(mail.to, "ada@example.com");
        assert_eq!(mail.template, "verify_email");
        assert!(mail.subject.contains("Tutor <AI>"));
        assert!(mail.text.contains(link), "{}", mail.text);
        assert!(
            mail.html.contains(&format!("href=\"{link}\"")),
            "{}",
            mail.html
        );
        assert!(mail.text.contains("24 hours"));
        // The product name is escaped in HTML.
        assert!(mail.html.contains("Tutor &lt;AI&gt;"));
        assert!(!mail.html.contains("<AI>"));
    }

    #[test]
    fn reset_states_its_validity() {
        let mail = password_reset(&config(), "ada@example.com", "TOKEN");
        assert!(mail
            .text
            .contains("https://app.example.com/reset-password?token=TOKEN"));
        assert!(mail.text.contains("60 minutes"));
        assert_eq!(mail.template, "password_reset");
    }
}
