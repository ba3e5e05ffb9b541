//! Per-user model credentials (SPEC §10.4): a user's own OpenAI-compatible endpoint. The
//! secret never appears here: only its masked hint.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The only provider kind a user may register.
pub const OPENAI_COMPATIBLE: &str = "openai-compatible";

/// Whether a credential may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CredentialStatus {
    /// In use.
    #[default]
    Active,
    /// Suspended by an administrator: never used until activated again.
    Suspended,
}

impl CredentialStatus {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
        }
    }
}

impl std::str::FromStr for CredentialStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "active" => Ok(Self::Active),
            "suspended" => Ok(Self::Suspended),
            other => Err(format!("must be active or suspended, not '{other}'")),
        }
    }
}

/// A stored credential, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LlmCredential {
    /// Id.
    pub id: Uuid,
    /// The user who registered it.
    pub owner_id: Uuid,
    /// Free text chosen by the owner.
    pub label: String,
    /// Always [`OPENAI_COMPATIBLE`] in this release.
    pub provider: String,
    /// Endpoint up to the API version (`/chat/completions` is appended).
    pub base_url: String,
    /// Model name sent with every request.
    pub model: String,
    /// Masked form of the key, such as `sk-…a1b2`.
    pub key_hint: String,
    /// The key id of the encryption key its secret is sealed with.
    pub key_id: String,
    /// Active or suspended.
    pub status: CredentialStatus,
    /// Why an administrator suspended it.
    pub suspension_reason: Option<String>,
    /// The last verification succeeded.
    pub is_verified: bool,
    /// When it was last verified.
    pub last_verified_at: Option<DateTime<Utc>>,
    /// Category of the last failed verification (`unauthorized`, `timeout`…).
    pub last_error_kind: Option<String>,
    /// Requests per minute; `None` = the configured default.
    pub rate_limit_rpm: Option<u32>,
    /// Concurrent requests; `None` = the configured default.
    pub max_concurrent_requests: Option<u32>,
    /// Turns routed through it.
    pub total_requests: u64,
    /// When a turn last used it.
    pub last_used_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// The masked hint of an API key: its first three and last four characters around an
/// ellipsis (`sk-…a1b2`), or only `…` plus the last two for keys under 12 characters, so a
/// short key is never mostly shown.
pub fn key_hint(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() >= 12 {
        let head: String = chars[..3].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{head}…{tail}")
    } else if chars.len() >= 6 {
        let tail: String = chars[chars.len() - 2..].iter().collect();
        format!("…{tail}")
    } else {
        "…".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_show_little_of_the_key() {
        assert_eq!(key_hint("sk-proj-0123456789a1b2"), "sk-…a1b2");
        assert_eq!(key_hint("abcdefgh"), "…gh");
        assert_eq!(key_hint("abc"), "…");
        assert_eq!(key_hint("ключ-ключ-ключ"), "клю…ключ");
    }

    #[test]
    fn statuses_round_trip() {
        for s in [CredentialStatus::Active, CredentialStatus::Suspended] {
            assert_eq!(s.as_str().parse::<CredentialStatus>(), Ok(s));
        }
        assert!("deleted".parse::<CredentialStatus>().is_err());
    }
}
