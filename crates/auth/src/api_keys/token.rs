//! The API key format: `ain_` + 32 random base62 characters (190 bits) + a 6-character
//! base62 CRC32 of the random part. The fixed prefix lets secret scanners find leaked keys;
//! the checksum lets the server refuse typos and random strings without any lookup.

use aws_lc_rs::hmac;
use secrecy::{ExposeSecret, SecretString};

/// Every key starts with this.
pub const PREFIX: &str = "ain_";
const RANDOM_LEN: usize = 32;
const CHECKSUM_LEN: usize = 6;
/// Length of a whole key.
const KEY_LEN: usize = PREFIX.len() + RANDOM_LEN + CHECKSUM_LEN;
/// How much of a key lists show (`ain_` and 8 random characters: 47 bits, not a secret).
const SHOWN_LEN: usize = PREFIX.len() + 8;
const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn checksum(random: &str) -> String {
    let mut n = crc32fast::hash(random.as_bytes());
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A new key from the operating system's random generator.
pub fn generate() -> Result<SecretString, aws_lc_rs::error::Unspecified> {
    let mut random = String::with_capacity(RANDOM_LEN);
    let mut bytes = [0u8; 64];
    while random.len() < RANDOM_LEN {
        aws_lc_rs::rand::fill(&mut bytes)?;
        // Rejection sampling: 248 = 4 × 62, so every character is equally likely.
        for b in bytes.iter().filter(|b| **b < 248) {
            if random.len() == RANDOM_LEN {
                break;
            }
            random.push(char::from(ALPHABET[usize::from(*b % 62)]));
        }
    }
    let sum = checksum(&random);
    Ok(SecretString::from(format!("{PREFIX}{random}{sum}")))
}

/// True when `token` has the shape of a key (it may still be unknown).
pub fn is_api_key(token: &str) -> bool {
    token.starts_with(PREFIX)
}

/// True when the shape and the checksum are right.
pub fn well_formed(token: &str) -> bool {
    if token.len() != KEY_LEN {
        return false;
    }
    let Some(rest) = token.strip_prefix(PREFIX) else {
        return false;
    };
    if rest.len() != RANDOM_LEN + CHECKSUM_LEN || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let (random, sum) = rest.split_at(RANDOM_LEN);
    checksum(random) == sum
}

/// The part of a key lists show.
pub fn shown_prefix(token: &SecretString) -> String {
    token
        .expose_secret()
        .get(..SHOWN_LEN)
        .unwrap_or_default()
        .to_owned()
}

/// HMAC-SHA256 under the server's pepper: what is stored and looked up. A fast keyed hash is
/// enough for 190-bit random secrets (no guessing to slow down), and without the pepper a
/// database dump cannot even confirm a key.
pub struct Pepper(hmac::Key);

impl Pepper {
    /// A pepper from secret bytes (at least 32 in production).
    pub fn new(secret: &SecretString) -> Self {
        Self(hmac::Key::new(
            hmac::HMAC_SHA256,
            secret.expose_secret().as_bytes(),
        ))
    }

    /// Hex HMAC of the whole key.
    pub fn hash(&self, token: &str) -> String {
        hex::encode(hmac::sign(&self.0, token.as_bytes()).as_ref())
    }
}

impl std::fmt::Debug for Pepper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pepper(******)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn generated_keys_are_well_formed_and_distinct() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        for key in [&a, &b] {
            let text = key.expose_secret();
            assert_eq!(text.len(), KEY_LEN);
            assert!(well_formed(text), "{text}");
            assert!(is_api_key(text));
            assert_eq!(shown_prefix(key), text[..12]);
        }
        assert_ne!(a.expose_secret(), b.expose_secret());
    }

    #[test]
    fn the_checksum_catches_typos_and_shapes() {
        let key = generate().unwrap();
        let text = key.expose_secret();
        let mut typo = text.to_owned().into_bytes();
        typo[10] = if typo[10] == b'a' { b'b' } else { b'a' };
        assert!(!well_formed(&String::from_utf8(typo).unwrap()));
        assert!(!well_formed(&text[..KEY_LEN - 1]));
        assert!(!well_formed(&format!("{text}0")));
        assert!(!well_formed(&text.replace("ain_", "aim_")));
        assert!(!well_formed(&format!("ain_{}", "-".repeat(38))));
        assert!(!well_formed(""));
    }

    #[test]
    fn the_pepper_changes_the_hash() {
        let key = "ain_0123456789abcdefghijklmnopqrstuv000000";
        let one = Pepper::new(&SecretString::from("one".to_owned()));
        let two = Pepper::new(&SecretString::from("two".to_owned()));
        assert_eq!(one.hash(key), one.hash(key));
        assert_ne!(one.hash(key), two.hash(key));
        assert_eq!(one.hash(key).len(), 64);
        assert_eq!(format!("{one:?}"), "Pepper(******)");
    }

    proptest! {
        #[test]
        fn any_random_part_round_trips(random in "[0-9A-Za-z]{32}") {
            let key = format!("{PREFIX}{random}{}", checksum(&random));
            prop_assert!(well_formed(&key));
        }
    }
}
