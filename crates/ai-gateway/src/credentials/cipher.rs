//! The encryption of stored API keys: AES-256-GCM with a fresh 96-bit random nonce per
//! seal, the key id in every ciphertext, and associated data binding a ciphertext to its
//! credential row and owner (a ciphertext copied into another row does not open).
//!
//! Text form: `v1:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>`. The key id is the first 8
//! bytes of SHA-256 over a label and the key, in hex: stable, derived, and says nothing
//! about the key. Old keys (`CREDENTIALS_PREVIOUS_KEYS`) open what they sealed; only the
//! active key seals.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use ainative_ports::SealedSecret;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use zeroize::Zeroizing;

const VERSION: &str = "v1";
const NONCE_BYTES: usize = 12;
/// Bytes of a key.
pub const KEY_BYTES: usize = 32;

/// Why a key set could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyringError {
    /// Not base64, or not 32 bytes once decoded (the position of the key in its list).
    #[error("key {0} is not the base64 of {KEY_BYTES} bytes")]
    BadKey(usize),
}

/// Why a sealed secret did not open. Deliberately vague: tampering, a wrong row and a
/// wrong key look the same to a caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CipherError {
    /// The key that sealed it is not configured (neither active nor previous).
    #[error("the credential is sealed with key {0}, which is not configured")]
    UnknownKey(String),
    /// Malformed, altered, or sealed for another row or owner.
    #[error("the credential's ciphertext does not open")]
    Corrupt,
    /// The AEAD refused to seal (never in practice).
    #[error("sealing failed")]
    Seal,
}

struct KeyEntry {
    id: String,
    cipher: Aes256Gcm,
}

/// The active key and the previous ones.
pub struct Keyring {
    active: KeyEntry,
    previous: Vec<KeyEntry>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("active", &self.active.id)
            .field(
                "previous",
                &self
                    .previous
                    .iter()
                    .map(|k| k.id.as_str())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// The key id of `key`.
pub fn key_id_of(key: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"ainative/credentials-key-id/v1");
    hasher.update(key);
    hex::encode(&hasher.finalize()[..8])
}

fn entry(key: &[u8], position: usize) -> Result<KeyEntry, KeyringError> {
    if key.len() != KEY_BYTES {
        return Err(KeyringError::BadKey(position));
    }
    Ok(KeyEntry {
        id: key_id_of(key),
        cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key)),
    })
}

/// Decodes one base64 key.
pub fn decode_key(text: &str, position: usize) -> Result<Zeroizing<Vec<u8>>, KeyringError> {
    let bytes = Zeroizing::new(
        STANDARD
            .decode(text.trim())
            .map_err(|_| KeyringError::BadKey(position))?,
    );
    if bytes.len() != KEY_BYTES {
        return Err(KeyringError::BadKey(position));
    }
    Ok(bytes)
}

fn aad(key_id: &str, credential_id: Uuid, owner_id: Uuid) -> String {
    format!("ainative/llm-credential/{VERSION}|{key_id}|{credential_id}|{owner_id}")
}

impl Keyring {
    /// A key set from raw keys (each 32 bytes).
    pub fn new(active: &[u8], previous: &[&[u8]]) -> Result<Self, KeyringError> {
        Ok(Self {
            active: entry(active, 0)?,
            previous: previous
                .iter()
                .enumerate()
                .map(|(i, key)| entry(key, i + 1))
                .collect::<Result<_, _>>()?,
        })
    }

    /// A key set from base64 text: the active key and a comma-separated list of previous
    /// ones (empty for none).
    pub fn from_base64(active: &str, previous: &str) -> Result<Self, KeyringError> {
        let active = decode_key(active, 0)?;
        let previous: Vec<Zeroizing<Vec<u8>>> = previous
            .split(',')
            .filter(|k| !k.trim().is_empty())
            .enumerate()
            .map(|(i, k)| decode_key(k, i + 1))
            .collect::<Result<_, _>>()?;
        let refs: Vec<&[u8]> = previous.iter().map(|k| k.as_slice()).collect();
        Self::new(&active, &refs)
    }

    /// Id of the key that seals.
    pub fn active_key_id(&self) -> &str {
        &self.active.id
    }

    /// True when `key_id` is configured (active or previous).
    pub fn knows(&self, key_id: &str) -> bool {
        self.find(key_id).is_some()
    }

    fn find(&self, key_id: &str) -> Option<&KeyEntry> {
        std::iter::once(&self.active)
            .chain(&self.previous)
            .find(|k| k.id == key_id)
    }

    /// Seals `secret` for the credential `credential_id` of `owner_id` under the active key.
    pub fn seal(
        &self,
        secret: &SecretString,
        credential_id: Uuid,
        owner_id: Uuid,
    ) -> Result<SealedSecret, CipherError> {
        let key = &self.active;
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let aad = aad(&key.id, credential_id, owner_id);
        let sealed = key
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: secret.expose_secret().as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| CipherError::Seal)?;
        let mut body = Vec::with_capacity(NONCE_BYTES + sealed.len());
        body.extend_from_slice(&nonce);
        body.extend_from_slice(&sealed);
        Ok(SealedSecret {
            key_id: key.id.clone(),
            ciphertext: format!("{VERSION}:{}:{}", key.id, STANDARD.encode(body)),
        })
    }

    /// Opens a secret sealed for the credential `credential_id` of `owner_id`.
    pub fn open(
        &self,
        sealed: &SealedSecret,
        credential_id: Uuid,
        owner_id: Uuid,
    ) -> Result<SecretString, CipherError> {
        let mut parts = sealed.ciphertext.splitn(3, ':');
        let (Some(VERSION), Some(key_id), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(CipherError::Corrupt);
        };
        if key_id != sealed.key_id {
            return Err(CipherError::Corrupt);
        }
        let key = self
            .find(key_id)
            .ok_or_else(|| CipherError::UnknownKey(key_id.to_owned()))?;
        let body = STANDARD.decode(body).map_err(|_| CipherError::Corrupt)?;
        if body.len() < NONCE_BYTES {
            return Err(CipherError::Corrupt);
        }
        let (nonce, ciphertext) = body.split_at(NONCE_BYTES);
        let aad = aad(key_id, credential_id, owner_id);
        let plain = Zeroizing::new(
            key.cipher
                .decrypt(
                    Nonce::from_slice(nonce),
                    Payload {
                        msg: ciphertext,
                        aad: aad.as_bytes(),
                    },
                )
                .map_err(|_| CipherError::Corrupt)?,
        );
        let text = std::str::from_utf8(&plain).map_err(|_| CipherError::Corrupt)?;
        Ok(SecretString::from(text.to_owned()))
    }

    /// True when `sealed` is under another key than the active one.
    pub fn needs_reseal(&self, sealed: &SealedSecret) -> bool {
        sealed.key_id != self.active.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: [u8; 32] = [7; 32];
    const B: [u8; 32] = [9; 32];

    fn secret(text: &str) -> SecretString {
        SecretString::from(text.to_owned())
    }

    fn ids() -> (Uuid, Uuid) {
        (Uuid::new_v4(), Uuid::new_v4())
    }

    #[test]
    fn round_trip_and_fresh_nonces() {
        let ring = Keyring::new(&A, &[]).unwrap();
        let (id, owner) = ids();
        let one = ring.seal(&secret("sk-live-123"), id, owner).unwrap();
        let two = ring.seal(&secret("sk-live-123"), id, owner).unwrap();
        assert_ne!(one.ciphertext, two.ciphertext);
        assert!(!one.ciphertext.contains("sk-live"));
        assert_eq!(one.key_id, ring.active_key_id());
        assert!(one.ciphertext.starts_with(&format!("v1:{}:", one.key_id)));
        let opened = ring.open(&one, id, owner).unwrap();
        assert_eq!(opened.expose_secret(), "sk-live-123");
        assert!(!format!("{ring:?}").contains(&STANDARD.encode(A)));
    }

    #[test]
    fn every_flipped_bit_is_refused() {
        let ring = Keyring::new(&A, &[]).unwrap();
        let (id, owner) = ids();
        let sealed = ring.seal(&secret("sk-abc"), id, owner).unwrap();
        let prefix = format!("v1:{}:", sealed.key_id);
        let body = STANDARD.decode(&sealed.ciphertext[prefix.len()..]).unwrap();
        for byte in 0..body.len() {
            for bit in 0..8 {
                let mut flipped = body.clone();
                flipped[byte] ^= 1 << bit;
                let tampered = SealedSecret {
                    key_id: sealed.key_id.clone(),
                    ciphertext: format!("{prefix}{}", STANDARD.encode(&flipped)),
                };
                assert_eq!(
                    ring.open(&tampered, id, owner).unwrap_err(),
                    CipherError::Corrupt
                );
            }
        }
    }

    #[test]
    fn a_ciphertext_moved_to_another_row_or_owner_does_not_open() {
        let ring = Keyring::new(&A, &[]).unwrap();
        let (id_a, owner_a) = ids();
        let (id_b, owner_b) = ids();
        let sealed_a = ring.seal(&secret("key-of-a"), id_a, owner_a).unwrap();
        let sealed_b = ring.seal(&secret("key-of-b"), id_b, owner_b).unwrap();
        // Swapped rows.
        assert!(ring.open(&sealed_a, id_b, owner_b).is_err());
        assert!(ring.open(&sealed_b, id_a, owner_a).is_err());
        // Same owner, other row; same row, other owner.
        assert!(ring.open(&sealed_a, id_b, owner_a).is_err());
        assert!(ring.open(&sealed_a, id_a, owner_b).is_err());
    }

    #[test]
    fn a_wrong_key_id_is_refused() {
        let ring = Keyring::new(&A, &[&B]).unwrap();
        let other = Keyring::new(&B, &[]).unwrap();
        let (id, owner) = ids();
        let sealed = ring.seal(&secret("k"), id, owner).unwrap();
        // The header names another (configured) key: the AAD no longer matches.
        let relabelled = SealedSecret {
            key_id: other.active_key_id().to_owned(),
            ciphertext: sealed
                .ciphertext
                .replacen(&sealed.key_id, other.active_key_id(), 1),
        };
        assert_eq!(
            ring.open(&relabelled, id, owner).unwrap_err(),
            CipherError::Corrupt
        );
        // The column and the header disagree.
        let mismatched = SealedSecret {
            key_id: other.active_key_id().to_owned(),
            ..sealed.clone()
        };
        assert_eq!(
            ring.open(&mismatched, id, owner).unwrap_err(),
            CipherError::Corrupt
        );
        // A key nobody configured.
        let unknown = Keyring::new(&[1; 32], &[]).unwrap();
        assert_eq!(
            unknown.open(&sealed, id, owner).unwrap_err(),
            CipherError::UnknownKey(sealed.key_id.clone())
        );
    }

    #[test]
    fn after_rotation_old_rows_open_until_the_old_key_is_dropped() {
        let (id, owner) = ids();
        let old = Keyring::new(&A, &[]).unwrap();
        let sealed = old.seal(&secret("sk-old"), id, owner).unwrap();
        let rotated = Keyring::new(&B, &[&A]).unwrap();
        assert!(rotated.needs_reseal(&sealed));
        assert_eq!(
            rotated.open(&sealed, id, owner).unwrap().expose_secret(),
            "sk-old"
        );
        let resealed = rotated
            .seal(&rotated.open(&sealed, id, owner).unwrap(), id, owner)
            .unwrap();
        assert!(!rotated.needs_reseal(&resealed));
        let only_new = Keyring::new(&B, &[]).unwrap();
        assert_eq!(
            only_new.open(&resealed, id, owner).unwrap().expose_secret(),
            "sk-old"
        );
        assert!(matches!(
            only_new.open(&sealed, id, owner),
            Err(CipherError::UnknownKey(_))
        ));
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        let good = STANDARD.encode(A);
        assert!(Keyring::from_base64(&good, "").is_ok());
        assert_eq!(
            Keyring::from_base64("c2hvcnQ=", "").unwrap_err(),
            KeyringError::BadKey(0)
        );
        assert_eq!(
            Keyring::from_base64(&good, &format!("{good},not-base64")).unwrap_err(),
            KeyringError::BadKey(2)
        );
        let ring = Keyring::from_base64(&STANDARD.encode(B), &format!(" {good} ,")).unwrap();
        assert!(ring.knows(&key_id_of(&A)) && ring.knows(&key_id_of(&B)));
    }
}
