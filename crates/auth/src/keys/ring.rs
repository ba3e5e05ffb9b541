//! The key ring: signs with the current key, verifies with every configured key, each pinned
//! to its own algorithm, looked up by `kid` in memory only.

use std::collections::HashMap;

use aws_lc_rs::hmac;
use base64::Engine;
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

use super::{PrivateKey, SigningAlgorithm};

/// Why a token's header is refused before its signature is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderRejection {
    /// Not a JWT header, or `alg` is `none` or unknown.
    Unparsable,
    /// `jku`, `x5u`, `jwk` or `x5c`: the token names its own key (RFC 8725 §3.10).
    KeyReference,
    /// No configured key has this `kid` (or the token has none and no legacy key applies).
    UnknownKid,
    /// The header's `alg` is not the algorithm of the key its `kid` names.
    AlgorithmMismatch,
}

impl HeaderRejection {
    /// Log label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unparsable => "unparsable_header",
            Self::KeyReference => "key_reference_header",
            Self::UnknownKid => "unknown_kid",
            Self::AlgorithmMismatch => "algorithm_mismatch",
        }
    }
}

/// One verification key and the validation pinned to its algorithm.
struct Verifier {
    algorithm: SigningAlgorithm,
    key: DecodingKey,
    validation: Validation,
}

/// What `ainative keys list` shows of a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySummary {
    /// The `kid`.
    pub kid: String,
    /// Its algorithm.
    pub algorithm: SigningAlgorithm,
    /// Signs new tokens (else verify-only).
    pub current: bool,
}

/// The signing key and every verification key (see the module documentation).
pub struct KeyRing {
    kid: String,
    algorithm: SigningAlgorithm,
    signing: EncodingKey,
    verifiers: HashMap<String, Verifier>,
    /// HS256 mode only: tokens issued before `kid` existed verify with the secret.
    legacy_kidless: Option<String>,
    jwks: Value,
    summaries: Vec<KeySummary>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("summaries", &self.summaries)
            .finish_non_exhaustive()
    }
}

/// A `kid` for an HMAC secret that reveals nothing about it (RFC 7638 would publish a hash of
/// the secret itself): HMAC of a fixed label under the secret, truncated.
fn hmac_kid(secret: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let tag = hmac::sign(&key, b"ainative jwt kid v1");
    let short = tag.as_ref().get(..12).unwrap_or_default();
    format!(
        "hs256-{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(short)
    )
}

impl KeyRing {
    /// Signs with HS256 under `secret`; `previous` asymmetric keys still verify. `None` for an
    /// empty secret (jsonwebtoken refuses empty HMAC keys).
    pub fn hmac(secret: &SecretString, previous: &[PrivateKey], base: &Validation) -> Option<Self> {
        let bytes = secret.expose_secret().as_bytes();
        let signing = EncodingKey::from_secret(bytes).ok()?;
        let decoding = DecodingKey::from_secret(bytes).ok()?;
        let kid = hmac_kid(bytes);
        let mut ring = Self::empty(kid.clone(), SigningAlgorithm::Hs256, signing);
        ring.insert(kid.clone(), SigningAlgorithm::Hs256, decoding, base, true);
        ring.legacy_kidless = Some(kid);
        ring.add_previous(previous, base);
        Some(ring)
    }

    /// Signs with `current`; it and `previous` verify, and all are published in the JWKS.
    pub fn asymmetric(current: &PrivateKey, previous: &[PrivateKey], base: &Validation) -> Self {
        let mut ring = Self::empty(
            current.kid().to_owned(),
            current.algorithm(),
            current.encoding_key(),
        );
        ring.add(current, base, true);
        ring.add_previous(previous, base);
        ring
    }

    fn empty(kid: String, algorithm: SigningAlgorithm, signing: EncodingKey) -> Self {
        Self {
            kid,
            algorithm,
            signing,
            verifiers: HashMap::new(),
            legacy_kidless: None,
            jwks: json!({"keys": []}),
            summaries: Vec::new(),
        }
    }

    fn add_previous(&mut self, previous: &[PrivateKey], base: &Validation) {
        for key in previous {
            if !self.verifiers.contains_key(key.kid()) {
                self.add(key, base, false);
            }
        }
    }

    fn add(&mut self, key: &PrivateKey, base: &Validation, current: bool) {
        // A key whose public half does not load is left out: it verifies nothing.
        let Some(decoding) = key.decoding_key() else {
            return;
        };
        if let Some(keys) = self.jwks["keys"].as_array_mut() {
            keys.push(key.public_jwk());
        }
        self.insert(
            key.kid().to_owned(),
            key.algorithm(),
            decoding,
            base,
            current,
        );
    }

    fn insert(
        &mut self,
        kid: String,
        algorithm: SigningAlgorithm,
        key: DecodingKey,
        base: &Validation,
        current: bool,
    ) {
        let mut validation = base.clone();
        validation.algorithms = vec![algorithm.jwt()];
        self.summaries.push(KeySummary {
            kid: kid.clone(),
            algorithm,
            current,
        });
        self.verifiers.insert(
            kid,
            Verifier {
                algorithm,
                key,
                validation,
            },
        );
    }

    /// The header of a new token: the signing algorithm and `kid`.
    pub(crate) fn header(&self) -> Header {
        let mut header = Header::new(self.algorithm.jwt());
        header.kid = Some(self.kid.clone());
        header
    }

    /// The signing key.
    pub(crate) fn signing_key(&self) -> &EncodingKey {
        &self.signing
    }

    /// The key (and validation) that may verify a token with this header, or why none may.
    pub(crate) fn verifier(
        &self,
        token: &str,
    ) -> Result<(&DecodingKey, &Validation), HeaderRejection> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| HeaderRejection::Unparsable)?;
        if header.jku.is_some()
            || header.x5u.is_some()
            || header.jwk.is_some()
            || header.x5c.is_some()
        {
            return Err(HeaderRejection::KeyReference);
        }
        let kid = match (&header.kid, &self.legacy_kidless) {
            (Some(kid), _) => kid.as_str(),
            (None, Some(legacy)) => legacy.as_str(),
            (None, None) => return Err(HeaderRejection::UnknownKid),
        };
        let verifier = self.verifiers.get(kid).ok_or(HeaderRejection::UnknownKid)?;
        if header.alg != verifier.algorithm.jwt() {
            return Err(HeaderRejection::AlgorithmMismatch);
        }
        Ok((&verifier.key, &verifier.validation))
    }

    /// The `kid` new tokens carry.
    pub fn current_kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm new tokens are signed with.
    pub fn algorithm(&self) -> SigningAlgorithm {
        self.algorithm
    }

    /// The JWK set of the public keys (never an HMAC secret).
    pub fn jwks(&self) -> &Value {
        &self.jwks
    }

    /// Every key, current first.
    pub fn summaries(&self) -> &[KeySummary] {
        &self.summaries
    }
}
