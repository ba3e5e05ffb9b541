use super::*;
use jsonwebtoken::{encode, EncodingKey, Header};
use proptest::prelude::*;
use secrecy::SecretString;
use serde_json::{json, Value};
use std::time::Duration;

const SECRET: &str = "0123456789abcdef0123456789abcdef";

fn settings(secret: &str) -> JwtSettings {
    JwtSettings {
        secret: SecretString::from(secret.to_owned()),
        signing_key: None,
        previous_keys: Vec::new(),
        issuer: "ainative".into(),
        audience: "ainative-api".into(),
        access_ttl: Duration::from_secs(60),
        refresh_ttl: Duration::from_secs(600),
    }
}

fn codec() -> TokenCodec {
    TokenCodec::new(&settings(SECRET))
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

fn now() -> i64 {
    Utc::now().timestamp()
}

/// The claims of a fresh access token as JSON, to be altered and signed as they are.
fn fresh_json() -> Value {
    let codec = codec();
    serde_json::to_value(fresh(TokenKind::Access, &codec)).unwrap()
}

/// Signs arbitrary JSON claims with `alg` and the test secret: a genuine signature.
fn sign_with(alg: Algorithm, claims: &Value) -> String {
    let key = EncodingKey::from_secret(SECRET.as_bytes()).unwrap();
    encode(&Header::new(alg), claims, &key).unwrap()
}

fn sign(claims: &Value) -> String {
    sign_with(Algorithm::HS256, claims)
}

fn rejection(token: &str) -> Option<TokenRejection> {
    match codec().decode(token, TokenKind::Access) {
        Ok(_) => None,
        Err(AuthError::InvalidToken(reason)) => Some(reason),
        Err(other) => panic!("unexpected error {other:?}"),
    }
}

fn b64(s: &str) -> String {
    use std::fmt::Write;
    // Minimal base64url without padding, enough to forge headers in tests.
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
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
fn a_crypto_backend_is_selected() {
    // Without exactly one backend feature jsonwebtoken panics at the first encode.
    assert!(jsonwebtoken::crypto::CryptoProvider::try_get_default().is_some());
}

#[test]
fn issued_tokens_carry_nbf_equal_to_iat_and_verify() {
    let codec = codec();
    let claims = fresh(TokenKind::Access, &codec);
    assert_eq!(claims.nbf, Some(claims.iat));
    let token = codec.encode(&claims).unwrap();
    let decoded: Value = jsonwebtoken::dangerous::insecure_decode_claims(&token).unwrap();
    assert_eq!(decoded["nbf"], decoded["iat"]);
    assert_eq!(codec.decode(&token, TokenKind::Access).unwrap(), claims);
}

#[test]
fn a_verified_access_token_is_remembered_by_its_exact_text() {
    let codec = codec();
    let claims = fresh(TokenKind::Access, &codec);
    let token = codec.encode(&claims).unwrap();
    assert_eq!(codec.decode(&token, TokenKind::Access).unwrap(), claims);
    assert_eq!(codec.verified.get(&token), Some(claims.clone()));
    // One character of the signature changed: a different text, verified, refused.
    let mut tampered = token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert!(codec.decode(&tampered, TokenKind::Access).is_err());
    assert_eq!(codec.verified.get(&tampered), None);
    // Refresh tokens are used once: never remembered.
    let refresh = codec.encode(&fresh(TokenKind::Refresh, &codec)).unwrap();
    codec.decode(&refresh, TokenKind::Refresh).unwrap();
    assert_eq!(codec.verified.get(&refresh), None);
}

#[test]
fn a_remembered_token_is_checked_for_time_and_kind_on_every_use() {
    let codec = codec();
    let mut claims = fresh(TokenKind::Access, &codec);
    claims.exp = now() - 1;
    codec
        .verified
        .insert("remembered".to_owned(), claims.clone());
    assert!(matches!(
        codec.decode("remembered", TokenKind::Access),
        Err(AuthError::InvalidToken(TokenRejection::Expired))
    ));
    claims.exp = now() + 60;
    claims.kind = TokenKind::Refresh;
    codec
        .verified
        .insert("remembered".to_owned(), claims.clone());
    assert!(matches!(
        codec.decode("remembered", TokenKind::Access),
        Err(AuthError::InvalidToken(TokenRejection::WrongType))
    ));
    claims.kind = TokenKind::Access;
    claims.nbf = Some(now() + 3600);
    codec.verified.insert("remembered".to_owned(), claims);
    assert!(matches!(
        codec.decode("remembered", TokenKind::Access),
        Err(AuthError::InvalidToken(TokenRejection::Malformed))
    ));
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
fn expired_is_rejected_without_grace() {
    let codec = codec();
    let mut claims = fresh(TokenKind::Access, &codec);
    claims.iat -= 3600;
    claims.nbf = Some(claims.iat);
    claims.exp = now() - 1;
    let token = codec.encode(&claims).unwrap();
    assert!(matches!(
        codec.decode(&token, TokenKind::Access),
        Err(AuthError::InvalidToken(TokenRejection::Expired))
    ));
    // Far past too.
    claims.exp = now() - 3600;
    let token = codec.encode(&claims).unwrap();
    assert_eq!(rejection(&token), Some(TokenRejection::Expired));
}

#[test]
fn a_future_nbf_is_rejected() {
    let mut claims = fresh_json();
    claims["nbf"] = json!(now() + 3600);
    assert_eq!(rejection(&sign(&claims)), Some(TokenRejection::Malformed));
    // Just beyond the tolerated clock skew.
    let skew = i64::try_from(TokenCodec::CLOCK_SKEW_SECS).unwrap();
    claims["nbf"] = json!(now() + skew + 2);
    assert_eq!(rejection(&sign(&claims)), Some(TokenRejection::Malformed));
    // Within the skew, and in the past: accepted.
    claims["nbf"] = json!(now() + 1);
    assert_eq!(rejection(&sign(&claims)), None);
    claims["nbf"] = json!(now() - 600);
    assert_eq!(rejection(&sign(&claims)), None);
}

#[test]
fn tokens_issued_without_nbf_stay_valid_until_they_expire() {
    // What 9.x-era builds issued: no `nbf`.
    let mut claims = fresh_json();
    claims.as_object_mut().unwrap().remove("nbf");
    claims["iat"] = json!(now() - 120);
    let token = sign(&claims);
    let decoded = codec().decode(&token, TokenKind::Access).unwrap();
    assert_eq!(decoded.nbf, None);
    // Such a token is still not valid before it was issued.
    claims["iat"] = json!(now() + 3600);
    assert_eq!(rejection(&sign(&claims)), Some(TokenRejection::Malformed));
    // And expiry still applies.
    claims["iat"] = json!(now() - 7200);
    claims["exp"] = json!(now() - 3600);
    assert_eq!(rejection(&sign(&claims)), Some(TokenRejection::Expired));
}

#[test]
fn registered_claims_of_the_wrong_json_type_are_rejected() {
    // CVE-2026-25537: a claim of the wrong type must not count as absent.
    let far = "9999999999";
    for (claim, value) in [
        ("exp", json!(far)),
        ("exp", json!(null)),
        ("exp", json!(-5)),
        ("nbf", json!(far)),
        ("nbf", json!("0")),
        ("nbf", json!({"at": 0})),
        ("iat", json!("0")),
        ("iss", json!(42)),
        ("iss", json!(["ainative", 1])),
        ("aud", json!(7)),
        ("sub", json!(12345)),
    ] {
        let mut claims = fresh_json();
        claims[claim] = value.clone();
        assert_eq!(
            rejection(&sign(&claims)),
            Some(TokenRejection::Malformed),
            "{claim}: {value}"
        );
    }
    // Missing required claims.
    for claim in ["exp", "iss", "aud", "sub", "iat"] {
        let mut claims = fresh_json();
        claims.as_object_mut().unwrap().remove(claim);
        assert!(rejection(&sign(&claims)).is_some(), "without {claim}");
    }
}

#[test]
fn other_secret_issuer_or_audience_is_rejected() {
    let codec = codec();
    let claims = fresh(TokenKind::Access, &codec);
    let forged = TokenCodec::new(&settings("another-secret-another-secret-xx"))
        .encode(&claims)
        .unwrap();
    assert!(codec.decode(&forged, TokenKind::Access).is_err());
    let mut other_iss = settings(SECRET);
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
    let mut json = fresh_json();
    json["aud"] = json!("other-api");
    assert_eq!(rejection(&sign(&json)), Some(TokenRejection::Malformed));
}

#[test]
fn alg_none_and_other_algorithms_are_rejected() {
    let codec = codec();
    let claims = serde_json::to_string(&fresh(TokenKind::Access, &codec)).unwrap();
    let token = format!("{}.{}.", b64(r#"{"alg":"none","typ":"JWT"}"#), b64(&claims));
    assert!(codec.decode(&token, TokenKind::Access).is_err());
    for alg in ["HS512", "RS256", "ES256", "EdDSA", "PS256"] {
        let token = format!(
            "{}.{}.c2ln",
            b64(&format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#)),
            b64(&claims)
        );
        assert!(codec.decode(&token, TokenKind::Access).is_err(), "{alg}");
    }
    // Genuinely signed with the right secret, but with another HMAC algorithm.
    for alg in [Algorithm::HS384, Algorithm::HS512] {
        assert_eq!(
            rejection(&sign_with(alg, &fresh_json())),
            Some(TokenRejection::Malformed),
            "{alg:?}"
        );
    }
}

#[test]
fn an_empty_secret_signs_and_verifies_nothing() {
    let empty = TokenCodec::new(&settings(""));
    let claims = fresh(TokenKind::Access, &empty);
    assert!(matches!(empty.encode(&claims), Err(AuthError::Internal(_))));
    let token = codec().encode(&claims).unwrap();
    assert!(matches!(
        empty.decode(&token, TokenKind::Access),
        Err(AuthError::InvalidToken(TokenRejection::Malformed))
    ));
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
