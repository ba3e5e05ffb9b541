use std::time::Duration;

use ainative_domain::{Role, Tier};
use chrono::{DateTime, Utc};
use jsonwebtoken::{
    decode, encode, errors::ErrorKind, get_current_timestamp, Algorithm, Validation,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::keys::KeyRing;
use crate::{AuthError, JwtSettings, TokenRejection};

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// Authenticates API calls.
    Access,
    /// Accepted only at `/auth/refresh`.
    Refresh,
}

/// The claims of every token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: Uuid,
    /// Roles at issue time.
    pub roles: Vec<Role>,
    /// Tier at issue time.
    pub tier: Tier,
    /// Access or refresh.
    #[serde(rename = "type")]
    pub kind: TokenKind,
    /// Token id.
    pub jti: Uuid,
    /// Session (refresh family) id; revocation is keyed by it.
    pub sid: Uuid,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Not before (seconds since the epoch); equal to `iat` in every token issued now. Tokens
    /// issued before `nbf` was introduced lack it and stay valid until they expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Expires at (seconds since the epoch).
    pub exp: i64,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
}

/// Signs tokens with the current key (its `kid` in the header) and verifies them with the key
/// their `kid` names, pinned to that key's algorithm. `none`, an unknown `kid`, an `alg` other
/// than the key's and headers naming a key (`jku`, `x5u`, `jwk`, `x5c`) are rejected.
#[derive(Clone)]
pub struct TokenCodec {
    /// `None` only for HS256 with an empty secret, which settings never produce: then nothing
    /// is signed and nothing verifies (fail closed).
    keys: Option<std::sync::Arc<KeyRing>>,
    issuer: String,
    audience: String,
    /// Access tokens whose signature and claims were verified, by their whole text: a client
    /// sends the same token for many requests, and an Ed25519 or ECDSA check costs tens of
    /// microseconds where this lookup costs well under one. Time and kind are re-checked on
    /// every hit; revocation is the caller's, per request, as before.
    verified: moka::sync::Cache<String, Claims>,
}

impl std::fmt::Debug for TokenCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCodec")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl TokenCodec {
    /// Tolerated clock difference between the instance that issued a token and the one that
    /// checks its `nbf` (`iat` truncated to the second, clocks of a fleet a little apart).
    /// `exp` gets no such grace.
    pub const CLOCK_SKEW_SECS: u64 = 5;

    /// How many verified access tokens are remembered (about 0.6 KB each), and for how long.
    const VERIFIED_CAPACITY: u64 = 10_000;
    const VERIFIED_TTL: Duration = Duration::from_secs(60);

    /// Builds a codec from settings.
    pub fn new(settings: &JwtSettings) -> Self {
        // The algorithm here is replaced by each key's own (see `KeyRing`).
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        // `nbf` is checked when present (and must then be a number) but not required, so
        // tokens issued before it existed keep working until they expire.
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        // The library applies one leeway to `exp` and `nbf`; `decode` re-checks `exp` exactly.
        validation.leeway = Self::CLOCK_SKEW_SECS;
        let keys = match &settings.signing_key {
            Some(current) => Some(KeyRing::asymmetric(
                current,
                &settings.previous_keys,
                &validation,
            )),
            None => KeyRing::hmac(&settings.secret, &settings.previous_keys, &validation),
        };
        Self {
            keys: keys.map(std::sync::Arc::new),
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            verified: moka::sync::Cache::builder()
                .max_capacity(Self::VERIFIED_CAPACITY)
                .time_to_live(Self::VERIFIED_TTL)
                .build(),
        }
    }

    /// The key ring (JWKS, current `kid`); `None` only for an empty HS256 secret.
    pub fn keys(&self) -> Option<&KeyRing> {
        self.keys.as_deref()
    }

    /// Builds the claims of a new token; it is valid from `issued_at` (`nbf` = `iat`).
    #[allow(clippy::too_many_arguments)]
    pub fn claims(
        &self,
        kind: TokenKind,
        user_id: Uuid,
        roles: &[Role],
        tier: Tier,
        session_id: Uuid,
        issued_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Claims {
        Claims {
            sub: user_id,
            roles: roles.to_vec(),
            tier,
            kind,
            jti: Uuid::new_v4(),
            sid: session_id,
            iat: issued_at.timestamp(),
            nbf: Some(issued_at.timestamp()),
            exp: expires_at.timestamp(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
        }
    }

    /// Signs claims.
    pub fn encode(&self, claims: &Claims) -> Result<String, AuthError> {
        let keys = self
            .keys
            .as_ref()
            .ok_or_else(|| AuthError::Internal("token signing failed: empty JWT secret".into()))?;
        encode(&keys.header(), claims, keys.signing_key())
            .map_err(|e| AuthError::Internal(Box::new(e)))
    }

    /// Verifies signature, algorithm, issuer, audience, the types of the registered claims,
    /// expiry, not-before and kind. An access token verified in the last minute is not
    /// verified again (its exact text is remembered); its expiry, not-before and kind are.
    pub fn decode(&self, token: &str, expected: TokenKind) -> Result<Claims, AuthError> {
        if expected == TokenKind::Access {
            if let Some(claims) = self.verified.get(token) {
                return Self::current(claims, expected);
            }
        }
        let claims = self.verify(token)?;
        let claims = Self::current(claims, expected)?;
        if expected == TokenKind::Access {
            self.verified.insert(token.to_owned(), claims.clone());
        }
        Ok(claims)
    }

    /// Signature, algorithm, issuer, audience and the types of the registered claims.
    fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let malformed = AuthError::InvalidToken(TokenRejection::Malformed);
        let keys = self.keys.as_ref().ok_or(malformed)?;
        let (key, validation) = keys.verifier(token).map_err(|rejection| {
            tracing::debug!(reason = rejection.as_str(), "token header refused");
            AuthError::InvalidToken(TokenRejection::Malformed)
        })?;
        let data = decode::<Claims>(token, key, validation).map_err(|e| {
            let reason = match e.kind() {
                ErrorKind::ExpiredSignature => TokenRejection::Expired,
                _ => TokenRejection::Malformed,
            };
            AuthError::InvalidToken(reason)
        })?;
        Ok(data.claims)
    }

    /// The claims if they are valid now (expiry exact, not-before with the clock skew) and
    /// of the expected kind.
    fn current(claims: Claims, expected: TokenKind) -> Result<Claims, AuthError> {
        let now = i64::try_from(get_current_timestamp()).unwrap_or(i64::MAX);
        if claims.exp < now {
            return Err(AuthError::InvalidToken(TokenRejection::Expired));
        }
        // RFC 7519 §4.1.5; a token from before `nbf` existed is not valid before its `iat`.
        let not_before = claims.nbf.unwrap_or(claims.iat);
        let skew = i64::try_from(Self::CLOCK_SKEW_SECS).unwrap_or(0);
        if not_before > now.saturating_add(skew) {
            return Err(AuthError::InvalidToken(TokenRejection::Malformed));
        }
        if claims.kind != expected {
            return Err(AuthError::InvalidToken(TokenRejection::WrongType));
        }
        Ok(claims)
    }
}

#[cfg(test)]
#[path = "jwt_tests.rs"]
mod tests;
