//! A new user's username and display name, derived from what the provider shared.

use ainative_ports::ProviderIdentity;
use rand::Rng;

/// Usernames tried before giving up (the first without a suffix).
pub(super) const USERNAME_ATTEMPTS: u32 = 5;

/// Longest base before a suffix (usernames are at most 50 characters).
const BASE_MAX: usize = 30;

/// The provider's login name or the e-mail's local part, reduced to the username alphabet;
/// attempts after the first add a random suffix.
pub(super) fn username(identity: &ProviderIdentity, attempt: u32) -> String {
    let source = identity
        .preferred_username
        .as_deref()
        .or_else(|| identity.email.as_deref().and_then(|e| e.split('@').next()))
        .unwrap_or("");
    let mut base: String = source
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .take(BASE_MAX)
        .collect();
    if base.chars().count() < 3 {
        base = "user".into();
    }
    if attempt == 0 {
        base
    } else {
        let suffix: u32 = rand::thread_rng().gen_range(0..0x100_0000);
        format!("{base}-{suffix:06x}")
    }
}

/// The provider's display name, else the username source, else "New user".
pub(super) fn full_name(identity: &ProviderIdentity) -> String {
    identity
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty() && !n.chars().any(char::is_control))
        .map(|n| n.chars().take(200).collect())
        .or_else(|| identity.preferred_username.clone())
        .unwrap_or_else(|| "New user".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ainative_domain::{FullName, Username};

    fn identity(login: Option<&str>, email: Option<&str>, name: Option<&str>) -> ProviderIdentity {
        ProviderIdentity {
            subject: "1".into(),
            email: email.map(Into::into),
            email_verified: true,
            name: name.map(Into::into),
            preferred_username: login.map(Into::into),
        }
    }

    #[test]
    fn usernames_are_valid_whatever_the_provider_sends() {
        for id in [
            identity(Some("octo-cat"), None, None),
            identity(None, Some("josé.müller+x@example.org"), None),
            identity(Some("a"), None, None),
            identity(None, None, None),
            identity(Some(&"x".repeat(80)), None, None),
        ] {
            for attempt in 0..USERNAME_ATTEMPTS {
                let name = username(&id, attempt);
                assert!(Username::parse(&name).is_ok(), "{name}");
            }
        }
        assert_eq!(
            username(&identity(Some("octo-cat"), None, None), 0),
            "octo-cat"
        );
        assert_eq!(
            username(&identity(None, Some("ada.l@x.org"), None), 0),
            "adal"
        );
        assert!(username(&identity(Some("ada"), None, None), 1).starts_with("ada-"));
    }

    #[test]
    fn display_names_fall_back() {
        assert_eq!(
            full_name(&identity(Some("octo"), None, Some(" Ada L "))),
            "Ada L"
        );
        assert_eq!(full_name(&identity(Some("octo"), None, Some(""))), "octo");
        assert_eq!(full_name(&identity(None, None, None)), "New user");
        assert!(FullName::parse(&full_name(&identity(None, None, Some("x\u{7}y")))).is_ok());
    }
}
