use std::fmt;

/// Why a name is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidName(&'static str);

/// A username: 3–50 characters of ASCII letters, digits, `_` and `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    /// Parses a username. Case is kept; uniqueness is case-insensitive in storage.
    pub fn parse(raw: &str) -> Result<Self, InvalidName> {
        let value = raw.trim();
        let len = value.chars().count();
        if !(3..=50).contains(&len) {
            return Err(InvalidName("must be between 3 and 50 characters"));
        }
        if !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(InvalidName("may contain only letters, digits, '_' and '-'"));
        }
        Ok(Self(value.to_owned()))
    }

    /// The username.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person's display name: 1–200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct FullName(String);

impl FullName {
    /// Parses a display name.
    pub fn parse(raw: &str) -> Result<Self, InvalidName> {
        let value = raw.trim();
        let len = value.chars().count();
        if !(1..=200).contains(&len) {
            return Err(InvalidName("must be between 1 and 200 characters"));
        }
        if value.chars().any(char::is_control) {
            return Err(InvalidName("must not contain control characters"));
        }
        Ok(Self(value.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An institutional student number: 1–50 letters, digits, `_`, `-` or `.`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct StudentId(String);

impl StudentId {
    /// Parses a student number.
    pub fn parse(raw: &str) -> Result<Self, InvalidName> {
        let value = raw.trim();
        let len = value.chars().count();
        if !(1..=50).contains(&len) {
            return Err(InvalidName("must be between 1 and 50 characters"));
        }
        if !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            return Err(InvalidName(
                "may contain only letters, digits, '_', '-' and '.'",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    /// The student number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn username_rules() {
        assert!(Username::parse("ada_l-1").is_ok());
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse(&"a".repeat(51)).is_err());
        assert!(Username::parse("ada lovelace").is_err());
        assert!(Username::parse("adá").is_err());
    }

    #[test]
    fn full_name_rules() {
        assert!(FullName::parse("Ada Lovelace").is_ok());
        assert!(FullName::parse("  ").is_err());
        assert!(FullName::parse("a\u{0}b").is_err());
    }
}
