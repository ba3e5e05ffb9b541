use std::fmt;

/// Why a string is not an acceptable e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidEmail(&'static str);

/// An e-mail address, trimmed and stored lower-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Longest address accepted (RFC 5321 path limit).
    pub const MAX_LEN: usize = 254;

    /// Parses and normalises an address.
    pub fn parse(raw: &str) -> Result<Self, InvalidEmail> {
        let value = raw.trim().to_lowercase();
        if value.is_empty() {
            return Err(InvalidEmail("must not be empty"));
        }
        if value.len() > Self::MAX_LEN {
            return Err(InvalidEmail("must be at most 254 characters"));
        }
        let (local, domain) = value
            .split_once('@')
            .ok_or(InvalidEmail("must be a valid e-mail address"))?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local
                .chars()
                .any(|c| c.is_whitespace() || c == '@' || c.is_control());
        if !domain_ok || !local_ok {
            return Err(InvalidEmail("must be a valid e-mail address"));
        }
        Ok(Self(value))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_space() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "", "a", "a@", "@b.c", "a@b", "a@.b", "a b@c.d", "a@b..c", "a@@b.c",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} accepted");
        }
    }
}
