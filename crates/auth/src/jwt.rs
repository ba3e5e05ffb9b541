use ainative_domain::{Role, Tier};
use chrono::{DateTime, Utc};
use jsonwebtoken::{
    decode, encode, errors::ErrorKind, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
    /// Expires at (seconds since the epoch).
    pub exp: i64,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
}

/// Signs and verifies tokens with the one configured algorithm (HS256). A token whose header
/// names any other algorithm, `none` included, is rejected.
#[derive(Clone)]
pub struct TokenCodec {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
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
    const ALGORITHM: Algorithm = Algorithm::HS256;

    /// Builds a codec from settings.
    pub fn new(settings: &JwtSettings) -> Self {
        let secret = settings.secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Self::ALGORITHM);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        // Tokens are issued and checked by the same fleet; no grace past `exp`.
        validation.leeway = 0;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
        }
    }

    /// Builds the claims of a new token.
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
            exp: expires_at.timestamp(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
        }
    }

    /// Signs claims.
    pub fn encode(&self, claims: &Claims) -> Result<String, AuthError> {
        encode(&Header::new(Self::ALGORITHM), claims, &self.encoding)
            .map_err(|e| AuthError::Internal(Box::new(e)))
    }

    /// Verifies signature, algorithm, issuer, audience, expiry and kind.
    pub fn decode(&self, token: &str, expected: TokenKind) -> Result<Claims, AuthError> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation).map_err(|e| {
            let reason = match e.kind() {
                ErrorKind::ExpiredSignature => TokenRejection::Expired,
                _ => TokenRejection::Malformed,
            };
            AuthError::InvalidToken(reason)
        })?;
        if data.claims.kind != expected {
            return Err(AuthError::InvalidToken(TokenRejection::WrongType));
        }
        Ok(data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use secrecy::SecretString;
    use std::time::Duration;

    fn settings(secret: &str) -> JwtSettings {
        JwtSettings {
            secret: SecretString::from(secret.to_owned()),
            issuer: "ainative".into(),
            audience: "ainative-api".into(),
            access_ttl: Duration::from_secs(60),
            refresh_ttl: Duration::from_secs(600),
        }
    }

    fn codec() -> TokenCodec {
        TokenCodec::new(&settings("0123456789abcdef0123456789abcdef"))
    }

    fn fresh(kind: TokenKind, codec: &TokenCodec) -> Claims {
        let now = Utc::now();
        codec.claims(
            kind,
            Uuid::new_v4(),
            &[Role::Student],
            Tier::Free,
            Uuid::new_v4(),
            now,
            now + chrono::Duration::minutes(5),
        )
    }

    fn b64(s: &str) -> String {
        use std::fmt::Write;
        // Minimal base64url without padding, enough to forge headers in tests.
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let bytes = s.as_bytes();
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..(chunk.len() + 1) {
                let idx = ((n >> (18 - 6 * i)) & 63) as usize;
                out.write_char(ALPHABET[idx] as char).unwrap();
            }
        }
        out
    }

    #[test]
    fn wrong_kind_is_rejected() {
        let codec = codec();
        let token = codec.encode(&fresh(TokenKind::Refresh, &codec)).unwrap();
        assert!(matches!(
            codec.decode(&token, TokenKind::Access),
            Err(AuthError::InvalidToken(TokenRejection::WrongType))
        ));
    }

    #[test]
    fn expired_is_rejected() {
        let codec = codec();
        let mut claims = fresh(TokenKind::Access, &codec);
        claims.iat -= 3600;
        claims.exp = Utc::now().timestamp() - 1;
        let token = codec.encode(&claims).unwrap();
        assert!(matches!(
            codec.decode(&token, TokenKind::Access),
            Err(AuthError::InvalidToken(TokenRejection::Expired))
        ));
    }

    #[test]
    fn other_secret_issuer_or_audience_is_rejected() {
        let codec = codec();
        let claims = fresh(TokenKind::Access, &codec);
        let forged = TokenCodec::new(&settings("another-secret-another-secret-xx"))
            .encode(&claims)
            .unwrap();
        assert!(codec.decode(&forged, TokenKind::Access).is_err());
        let mut other_iss = settings("0123456789abcdef0123456789abcdef");
        other_iss.issuer = "evil".into();
        let other = TokenCodec::new(&other_iss);
        let token = other
            .encode(&other.claims(
                TokenKind::Access,
                claims.sub,
                &[],
                Tier::Free,
                claims.sid,
                Utc::now(),
                Utc::now() + chrono::Duration::minutes(1),
            ))
            .unwrap();
        assert!(codec.decode(&token, TokenKind::Access).is_err());
    }

    #[test]
    fn alg_none_is_rejected() {
        let codec = codec();
        let claims = serde_json::to_string(&fresh(TokenKind::Access, &codec)).unwrap();
        let token = format!("{}.{}.", b64(r#"{"alg":"none","typ":"JWT"}"#), b64(&claims));
        assert!(codec.decode(&token, TokenKind::Access).is_err());
        let token = format!(
            "{}.{}.c2ln",
            b64(r#"{"alg":"HS512","typ":"JWT"}"#),
            b64(&claims)
        );
        assert!(codec.decode(&token, TokenKind::Access).is_err());
    }

    proptest! {
        #[test]
        fn round_trip(roles in proptest::sample::subsequence(Role::ALL.to_vec(), 0..=3), minutes in 1i64..10_000) {
            let codec = codec();
            let now = Utc::now();
            let claims = codec.claims(TokenKind::Access, Uuid::new_v4(), &roles, Tier::Premium, Uuid::new_v4(), now, now + chrono::Duration::minutes(minutes));
            let token = codec.encode(&claims).unwrap();
            prop_assert_eq!(codec.decode(&token, TokenKind::Access).unwrap(), claims);
        }

        #[test]
        fn garbage_never_decodes(s in ".{0,200}") {
            prop_assert!(codec().decode(&s, TokenKind::Access).is_err());
        }
    }
}
