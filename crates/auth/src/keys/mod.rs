//! Token signing keys (SPEC §10.3): the algorithm, private keys read from or written to PKCS#8
//! PEM, their public JWK and RFC 7638 thumbprint (the `kid`), and the [`KeyRing`] that signs
//! with the current key and verifies with every configured one.
//!
//! Key generation and parsing use aws-lc-rs (already the jsonwebtoken backend), so the `rsa`
//! crate (RUSTSEC-2023-0071) is never built.

mod der;
mod ring;

pub use ring::{KeyRing, KeySummary};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING,
};
use base64::Engine;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The token signing algorithm (`JWT_ALGORITHM`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigningAlgorithm {
    /// HMAC-SHA256 with a shared secret: whoever verifies can also sign.
    Hs256,
    /// Ed25519: the default for new installs (fast, small signatures).
    EdDsa,
    /// ECDSA P-256 with SHA-256.
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit keys.
    Rs256,
}

impl SigningAlgorithm {
    /// Every algorithm, by its JOSE name.
    pub const ALL: [Self; 4] = [Self::Hs256, Self::EdDsa, Self::Es256, Self::Rs256];

    /// The JOSE `alg` name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Hs256 => "HS256",
            Self::EdDsa => "EdDSA",
            Self::Es256 => "ES256",
            Self::Rs256 => "RS256",
        }
    }

    /// The jsonwebtoken algorithm.
    pub(crate) const fn jwt(self) -> jsonwebtoken::Algorithm {
        match self {
            Self::Hs256 => jsonwebtoken::Algorithm::HS256,
            Self::EdDsa => jsonwebtoken::Algorithm::EdDSA,
            Self::Es256 => jsonwebtoken::Algorithm::ES256,
            Self::Rs256 => jsonwebtoken::Algorithm::RS256,
        }
    }

    /// True for the public-key algorithms.
    pub const fn is_asymmetric(self) -> bool {
        !matches!(self, Self::Hs256)
    }
}

impl std::fmt::Display for SigningAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for SigningAlgorithm {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, KeyError> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| KeyError::UnknownAlgorithm(s.to_owned()))
    }
}

/// Why a key could not be read or made.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Not one of HS256, EdDSA, ES256, RS256.
    #[error("unknown signing algorithm {0:?}; expected HS256, EdDSA, ES256 or RS256")]
    UnknownAlgorithm(String),
    /// No `PRIVATE KEY` (PKCS#8) or `RSA PRIVATE KEY` PEM block.
    #[error("not a PEM private key (expected -----BEGIN PRIVATE KEY-----)")]
    NotPem,
    /// PEM, but not an Ed25519, P-256 or RSA (2048–8192 bit) private key.
    #[error("not an Ed25519, P-256 or RSA (2048 to 8192 bit) private key")]
    Unsupported,
    /// HS256 uses JWT_SECRET_KEY, not a key file.
    #[error("HS256 has no key file; it signs with JWT_SECRET_KEY")]
    Symmetric,
    /// The crypto library failed.
    #[error("key generation failed")]
    Generation,
}

/// An asymmetric private key, with what is derived from it. The DER is kept secret (zeroized
/// on drop, never printed).
pub struct PrivateKey {
    algorithm: SigningAlgorithm,
    /// What jsonwebtoken signs with: PKCS#8 for Ed25519 and P-256, PKCS#1 for RSA.
    signing_der: SecretBox<[u8]>,
    /// PKCS#8, for writing the key back out.
    pkcs8: SecretBox<[u8]>,
    public_jwk: Value,
    kid: String,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateKey")
            .field("algorithm", &self.algorithm)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl Clone for PrivateKey {
    fn clone(&self) -> Self {
        Self {
            algorithm: self.algorithm,
            signing_der: SecretBox::new(self.signing_der.expose_secret().into()),
            pkcs8: SecretBox::new(self.pkcs8.expose_secret().into()),
            public_jwk: self.public_jwk.clone(),
            kid: self.kid.clone(),
        }
    }
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace.
fn thumbprint(jwk: &Value) -> String {
    let members: &[&str] = match jwk["kty"].as_str() {
        Some("OKP") => &["crv", "kty", "x"],
        Some("EC") => &["crv", "kty", "x", "y"],
        _ => &["e", "kty", "n"],
    };
    let canonical = members
        .iter()
        .map(|m| format!("\"{m}\":\"{}\"", jwk[*m].as_str().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join(",");
    b64url(&Sha256::digest(format!("{{{canonical}}}").as_bytes()))
}

impl PrivateKey {
    /// A fresh key for `algorithm` (RSA: 2048 bits).
    pub fn generate(algorithm: SigningAlgorithm) -> Result<Self, KeyError> {
        let rng = SystemRandom::new();
        let pkcs8: Vec<u8> = match algorithm {
            SigningAlgorithm::Hs256 => return Err(KeyError::Symmetric),
            SigningAlgorithm::EdDsa => Ed25519KeyPair::generate_pkcs8(&rng)
                .map_err(|_| KeyError::Generation)?
                .as_ref()
                .to_vec(),
            SigningAlgorithm::Es256 => {
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                    .map_err(|_| KeyError::Generation)?
                    .as_ref()
                    .to_vec()
            }
            SigningAlgorithm::Rs256 => RsaKeyPair::generate(KeySize::Rsa2048)
                .and_then(|k| k.as_der())
                .map_err(|_| KeyError::Generation)?
                .as_ref()
                .to_vec(),
        };
        Self::from_pkcs8(&pkcs8)
    }

    /// Reads a PEM private key (PKCS#8, or PKCS#1 for RSA); the algorithm follows from the key.
    pub fn from_pem(pem: &SecretString) -> Result<Self, KeyError> {
        let block = der::decode_pem(pem.expose_secret())?;
        let der = SecretBox::<[u8]>::new(block.der.into_boxed_slice());
        if block.pkcs1 {
            let pair =
                RsaKeyPair::from_der(der.expose_secret()).map_err(|_| KeyError::Unsupported)?;
            let pkcs8 = pair.as_der().map_err(|_| KeyError::Unsupported)?;
            return Self::from_pkcs8(pkcs8.as_ref());
        }
        Self::from_pkcs8(der.expose_secret())
    }

    fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, KeyError> {
        let (algorithm, signing_der, public_jwk) = if let Ok(pair) =
            Ed25519KeyPair::from_pkcs8(pkcs8)
        {
            let jwk =
                json!({"kty": "OKP", "crv": "Ed25519", "x": b64url(pair.public_key().as_ref())});
            (SigningAlgorithm::EdDsa, pkcs8.to_vec(), jwk)
        } else if let Ok(pair) = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8) {
            // Uncompressed point: 0x04 || x || y.
            let point = pair.public_key().as_ref();
            if point.len() != 65 {
                return Err(KeyError::Unsupported);
            }
            let jwk = json!({"kty": "EC", "crv": "P-256", "x": b64url(&point[1..33]), "y": b64url(&point[33..])});
            (SigningAlgorithm::Es256, pkcs8.to_vec(), jwk)
        } else if let Ok(pair) = RsaKeyPair::from_pkcs8(pkcs8) {
            let parts = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
            let pkcs1 = der::pkcs8_private_key(pkcs8).ok_or(KeyError::Unsupported)?;
            let jwk = json!({"kty": "RSA", "n": b64url(&parts.n), "e": b64url(&parts.e)});
            (SigningAlgorithm::Rs256, pkcs1.to_vec(), jwk)
        } else {
            return Err(KeyError::Unsupported);
        };
        let kid = thumbprint(&public_jwk);
        Ok(Self {
            algorithm,
            signing_der: SecretBox::new(signing_der.into_boxed_slice()),
            pkcs8: SecretBox::new(pkcs8.into()),
            public_jwk,
            kid,
        })
    }

    /// The algorithm the key signs with.
    pub fn algorithm(&self) -> SigningAlgorithm {
        self.algorithm
    }

    /// RFC 7638 thumbprint of the public key; the `kid` of every token it signs.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public JWK as published at `/.well-known/jwks.json`.
    pub fn public_jwk(&self) -> Value {
        let mut jwk = self.public_jwk.clone();
        if let Value::Object(map) = &mut jwk {
            map.insert("kid".into(), json!(self.kid));
            map.insert("alg".into(), json!(self.algorithm.as_str()));
            map.insert("use".into(), json!("sig"));
            map.insert("key_ops".into(), json!(["verify"]));
        }
        jwk
    }

    /// The key as a PKCS#8 PEM (for `ainative keys generate`).
    pub fn to_pem(&self) -> SecretString {
        SecretString::from(der::encode_pem(self.pkcs8.expose_secret()))
    }

    pub(crate) fn encoding_key(&self) -> jsonwebtoken::EncodingKey {
        let der = self.signing_der.expose_secret();
        match self.algorithm {
            SigningAlgorithm::Rs256 => jsonwebtoken::EncodingKey::from_rsa_der(der),
            SigningAlgorithm::Es256 => jsonwebtoken::EncodingKey::from_ec_der(der),
            _ => jsonwebtoken::EncodingKey::from_ed_der(der),
        }
    }

    pub(crate) fn decoding_key(&self) -> Option<jsonwebtoken::DecodingKey> {
        jsonwebtoken::DecodingKey::from_jwk(&serde_json::from_value(self.public_jwk()).ok()?).ok()
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
