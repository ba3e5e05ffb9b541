use std::collections::HashSet;
use std::sync::OnceLock;

/// The rule a candidate password broke. `Display` is the message shown to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRuleViolation {
    /// Fewer characters than the configured minimum.
    #[error("must be at least {0} characters long")]
    TooShort(usize),
    /// More than 72 bytes of UTF-8: bcrypt would silently ignore the rest.
    #[error("must be at most 72 bytes of UTF-8")]
    TooLong,
    /// No upper-case letter.
    #[error("must contain at least one upper-case letter")]
    MissingUppercase,
    /// No lower-case letter.
    #[error("must contain at least one lower-case letter")]
    MissingLowercase,
    /// No digit.
    #[error("must contain at least one digit")]
    MissingDigit,
    /// Same as (or built on) the e-mail address or username.
    #[error("must not be the e-mail address or the username")]
    MatchesIdentity,
    /// On the list of common passwords.
    #[error("is too common; choose a less predictable password")]
    TooCommon,
    /// Holds U+0000, which bcrypt implementations read as the end of the password.
    #[error("must not contain the NUL character (\\u0000)")]
    ContainsNul,
}

/// The password rules of SPEC §4. Checks are cheap and run before any hashing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    min_length: usize,
}

impl PasswordPolicy {
    /// bcrypt reads at most this many bytes.
    pub const MAX_BYTES: usize = 72;

    /// A policy with the given minimum length in characters (at least 1).
    pub fn new(min_length: usize) -> Self {
        Self {
            min_length: min_length.max(1),
        }
    }

    /// The minimum length in characters.
    pub fn min_length(&self) -> usize {
        self.min_length
    }

    /// Only the length rules; enough to reject a login attempt before hashing.
    pub fn check_length(&self, password: &str) -> Result<(), PasswordRuleViolation> {
        if password.len() > Self::MAX_BYTES {
            return Err(PasswordRuleViolation::TooLong);
        }
        if password.chars().count() < self.min_length {
            return Err(PasswordRuleViolation::TooShort(self.min_length));
        }
        Ok(())
    }

    /// Every rule, for a new password of the user with this e-mail and username.
    pub fn check(
        &self,
        password: &str,
        email: &str,
        username: &str,
    ) -> Result<(), PasswordRuleViolation> {
        self.check_length(password)?;
        if crate::contains_nul(password) {
            return Err(PasswordRuleViolation::ContainsNul);
        }
        if !password.chars().any(char::is_uppercase) {
            return Err(PasswordRuleViolation::MissingUppercase);
        }
        if !password.chars().any(char::is_lowercase) {
            return Err(PasswordRuleViolation::MissingLowercase);
        }
        if !password.chars().any(|c| c.is_ascii_digit()) {
            return Err(PasswordRuleViolation::MissingDigit);
        }
        let lower = password.to_lowercase();
        let base = strip_decoration(&lower);
        let email = email.trim().to_lowercase();
        let local_part = email.split('@').next().unwrap_or_default().to_owned();
        let username = username.trim().to_lowercase();
        let identities = [email, local_part, username];
        if identities
            .iter()
            .filter(|id| !id.is_empty())
            .any(|id| lower == *id || base == *id)
        {
            return Err(PasswordRuleViolation::MatchesIdentity);
        }
        if is_common(&lower) {
            return Err(PasswordRuleViolation::TooCommon);
        }
        Ok(())
    }
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self::new(8)
    }
}

fn common_list() -> &'static HashSet<&'static str> {
    static LIST: OnceLock<HashSet<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| {
        include_str!("common_passwords.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    })
}

/// Trailing digits and symbols are the usual way to satisfy composition rules
/// ("Password1!"), so they do not make a common word uncommon.
fn strip_decoration(lower: &str) -> String {
    lower
        .trim_end_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation())
        .to_owned()
}

fn undo_leet(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0' => 'o',
            '1' | '!' => 'i',
            '3' => 'e',
            '4' | '@' => 'a',
            '5' | '$' => 's',
            '7' => 't',
            other => other,
        })
        .collect()
}

fn is_common(lower: &str) -> bool {
    let list = common_list();
    let base = strip_decoration(lower);
    let candidates = [
        lower.to_owned(),
        base.clone(),
        undo_leet(&base),
        strip_decoration(&undo_leet(lower)),
    ];
    candidates
        .iter()
        .any(|c| c.is_empty() || list.contains(c.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(p: &str) -> Result<(), PasswordRuleViolation> {
        PasswordPolicy::new(8).check(p, "ada@example.com", "ada_l")
    }

    #[test]
    fn accepts_a_reasonable_password() {
        assert_eq!(check("Correct7Horse"), Ok(()));
    }

    #[test]
    fn each_rule_reports_itself() {
        assert_eq!(check("Sh0rt"), Err(PasswordRuleViolation::TooShort(8)));
        assert_eq!(
            check(&"Aa1".repeat(25)),
            Err(PasswordRuleViolation::TooLong)
        );
        assert_eq!(
            check("lowercase7x"),
            Err(PasswordRuleViolation::MissingUppercase)
        );
        assert_eq!(
            check("UPPERCASE7X"),
            Err(PasswordRuleViolation::MissingLowercase)
        );
        assert_eq!(
            check("NoDigitsHere"),
            Err(PasswordRuleViolation::MissingDigit)
        );
        assert_eq!(
            check("Correct7\0Horse"),
            Err(PasswordRuleViolation::ContainsNul)
        );
    }

    #[test]
    fn common_passwords_fail_even_decorated() {
        for p in [
            "Password1",
            "P@ssw0rd1",
            "Qwerty123!",
            "Welcome2024",
            "Letmein99",
            "Dragon12",
        ] {
            assert_eq!(check(p), Err(PasswordRuleViolation::TooCommon), "{p}");
        }
    }

    #[test]
    fn identity_is_rejected() {
        let policy = PasswordPolicy::new(4);
        assert_eq!(
            policy.check("Ada_L123", "x@example.com", "ada_l"),
            Err(PasswordRuleViolation::MatchesIdentity)
        );
        assert_eq!(
            policy.check("Ada@Example.com1", "ada@example.com", "someone"),
            Err(PasswordRuleViolation::MatchesIdentity)
        );
    }

    #[test]
    fn length_counts_characters_but_caps_bytes() {
        let policy = PasswordPolicy::new(8);
        // 8 characters, 16 bytes: long enough.
        assert!(policy.check_length("ééééééé1").is_ok());
        // 36 two-byte characters = 72 bytes: allowed; one more byte is not.
        assert!(policy.check_length(&"é".repeat(36)).is_ok());
        assert_eq!(
            policy.check_length(&format!("{}a", "é".repeat(36))),
            Err(PasswordRuleViolation::TooLong)
        );
    }
}
