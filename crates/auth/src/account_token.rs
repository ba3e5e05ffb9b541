//! One-time account token values: 256 random bits, base64url in links, SHA-256 at rest.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Random bytes per token (256 bits; SPEC asks for at least 128).
pub const TOKEN_BYTES: usize = 32;

/// Length of a token in its base64url form.
pub const TOKEN_CHARS: usize = 43;

/// A freshly generated token: the string goes into the mail, only its hash is stored.
pub struct GeneratedToken {
    /// The value for the link.
    pub value: String,
    /// Hex SHA-256 of `value`.
    pub hash: String,
}

/// Generates a token from the operating system's random source.
pub fn generate() -> GeneratedToken {
    let mut bytes = [0_u8; TOKEN_BYTES];
    OsRng.fill_bytes(&mut bytes);
    let value = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash(&value);
    GeneratedToken { value, hash }
}

/// Hex SHA-256 of a token string. A token is high-entropy, so a fast hash suffices.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The stored hash of a presented token, or `None` when it cannot be a token of ours
/// (wrong length or alphabet): such input is refused before any lookup.
pub fn parse(presented: &str) -> Option<String> {
    let well_formed = presented.len() == TOKEN_CHARS
        && URL_SAFE_NO_PAD
            .decode(presented)
            .is_ok_and(|bytes| bytes.len() == TOKEN_BYTES);
    well_formed.then(|| hash(presented))
}

/// A fingerprint of a password hash, stored with each token: when the password changes,
/// the fingerprint no longer matches and every outstanding token is dead.
pub fn password_fingerprint(password_hash: &str) -> String {
    let mut digest = Sha256::new();
    digest.update(b"ainative account token v1\0");
    digest.update(password_hash.as_bytes());
    hex::encode(digest.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tokens_are_long_unique_and_parse_back_to_their_hash() {
        let a = generate();
        let b = generate();
        assert_ne!(a.value, b.value);
        assert_eq!(a.value.len(), TOKEN_CHARS);
        assert_eq!(parse(&a.value), Some(a.hash.clone()));
        assert_eq!(a.hash.len(), 64);
        assert_ne!(a.hash, a.value, "the stored form is not the token");
    }

    #[test]
    fn fingerprints_follow_the_password_hash() {
        assert_eq!(password_fingerprint("$2b$x"), password_fingerprint("$2b$x"));
        assert_ne!(password_fingerprint("$2b$x"), password_fingerprint("$2b$y"));
    }

    proptest! {
        #[test]
        fn any_generated_token_round_trips(_seed in 0_u32..1000) {
            let token = generate();
            prop_assert_eq!(token.value.len(), TOKEN_CHARS);
            prop_assert!(token.value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            prop_assert_eq!(parse(&token.value), Some(token.hash));
        }

        #[test]
        fn arbitrary_strings_are_refused_unless_well_formed(s in ".{0,80}") {
            let parsed = parse(&s);
            let decodes = s.len() == TOKEN_CHARS
                && URL_SAFE_NO_PAD.decode(&s).is_ok_and(|b| b.len() == TOKEN_BYTES);
            prop_assert_eq!(parsed.is_some(), decodes);
            if let Some(h) = parsed {
                prop_assert_eq!(h, hash(&s));
            }
        }

        #[test]
        fn bytes_map_to_distinct_tokens_and_hashes(a in any::<[u8; 32]>(), b in any::<[u8; 32]>()) {
            prop_assume!(a != b);
            let (ta, tb) = (URL_SAFE_NO_PAD.encode(a), URL_SAFE_NO_PAD.encode(b));
            prop_assert_ne!(&ta, &tb);
            prop_assert_ne!(hash(&ta), hash(&tb));
            prop_assert!(parse(&ta).is_some());
        }
    }
}
