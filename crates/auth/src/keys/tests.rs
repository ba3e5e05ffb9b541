use std::time::Duration;

use ainative_domain::{Role, Tier};
use aws_lc_rs::signature::{
    RsaPublicKeyComponents, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED, ED25519,
    RSA_PKCS1_2048_8192_SHA256,
};
use chrono::Utc;
use jsonwebtoken::{encode, EncodingKey, Header};
use uuid::Uuid;

use super::*;
use crate::{AuthError, JwtSettings, TokenCodec, TokenKind, TokenRejection};

const ASYMMETRIC: [SigningAlgorithm; 3] = [
    SigningAlgorithm::EdDsa,
    SigningAlgorithm::Es256,
    SigningAlgorithm::Rs256,
];
const SECRET: &str = "0123456789abcdef0123456789abcdef";

fn settings(signing_key: Option<PrivateKey>, previous_keys: Vec<PrivateKey>) -> JwtSettings {
    JwtSettings {
        secret: SecretString::from(SECRET.to_owned()),
        signing_key,
        previous_keys,
        issuer: "ainative".into(),
        audience: "ainative-api".into(),
        access_ttl: Duration::from_secs(60),
        refresh_ttl: Duration::from_secs(600),
    }
}

fn token(codec: &TokenCodec) -> String {
    let now = Utc::now();
    let claims = codec.claims(
        TokenKind::Access,
        Uuid::new_v4(),
        &[Role::Student],
        Tier::Free,
        Uuid::new_v4(),
        now,
        now + chrono::Duration::minutes(5),
    );
    codec.encode(&claims).expect("signs")
}

fn b64d(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .expect("base64url")
}

/// Verifies a compact JWS from a JWK with aws-lc-rs alone: no jsonwebtoken involved.
fn independently_verified(token: &str, jwk: &Value) -> bool {
    let (signed, signature) = token.rsplit_once('.').expect("three parts");
    let signature = b64d(signature);
    match jwk["kty"].as_str() {
        Some("OKP") => UnparsedPublicKey::new(&ED25519, b64d(jwk["x"].as_str().unwrap()))
            .verify(signed.as_bytes(), &signature)
            .is_ok(),
        Some("EC") => {
            let mut point = vec![4u8];
            point.extend(b64d(jwk["x"].as_str().unwrap()));
            point.extend(b64d(jwk["y"].as_str().unwrap()));
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
                .verify(signed.as_bytes(), &signature)
                .is_ok()
        }
        _ => RsaPublicKeyComponents {
            n: b64d(jwk["n"].as_str().unwrap()),
            e: b64d(jwk["e"].as_str().unwrap()),
        }
        .verify(&RSA_PKCS1_2048_8192_SHA256, signed.as_bytes(), &signature)
        .is_ok(),
    }
}

fn header_of(token: &str) -> Value {
    serde_json::from_slice(&b64d(token.split('.').next().unwrap())).unwrap()
}

fn rejected(codec: &TokenCodec, token: &str) -> bool {
    matches!(
        codec.decode(token, TokenKind::Access),
        Err(AuthError::InvalidToken(TokenRejection::Malformed))
    )
}

#[test]
fn thumbprints_follow_rfc_7638_and_8037() {
    // RFC 7638 §3.1.
    let rsa = json!({"kty": "RSA", "e": "AQAB", "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"});
    assert_eq!(
        thumbprint(&rsa),
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
    // RFC 8037 Appendix A.3.
    let okp =
        json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
    assert_eq!(
        thumbprint(&okp),
        "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    );
}

#[test]
fn generated_keys_round_trip_through_pem_with_a_stable_kid() {
    for alg in ASYMMETRIC {
        let key = PrivateKey::generate(alg).expect("generates");
        assert_eq!(key.algorithm(), alg);
        let back = PrivateKey::from_pem(&key.to_pem()).expect("reads its own PEM");
        assert_eq!(back.kid(), key.kid(), "{alg}");
        assert_eq!(back.algorithm(), alg);
        let jwk = key.public_jwk();
        assert_eq!(jwk["kid"], key.kid());
        assert_eq!(jwk["alg"], alg.as_str());
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(jwk.get(private).is_none(), "{alg} publishes {private}");
        }
        assert!(!format!("{key:?}").contains(&key.to_pem().expose_secret()[40..80]));
    }
    assert!(matches!(
        PrivateKey::generate(SigningAlgorithm::Hs256),
        Err(KeyError::Symmetric)
    ));
    assert!(PrivateKey::from_pem(&SecretString::from("nope".to_owned())).is_err());
}

#[test]
fn algorithm_names_parse() {
    for alg in SigningAlgorithm::ALL {
        assert_eq!(alg.as_str().parse::<SigningAlgorithm>().unwrap(), alg);
    }
    assert!("none".parse::<SigningAlgorithm>().is_err());
    assert!("HS512".parse::<SigningAlgorithm>().is_err());
}

#[test]
fn tokens_carry_the_kid_and_verify_with_an_independent_verifier() {
    for alg in ASYMMETRIC {
        let key = PrivateKey::generate(alg).unwrap();
        let codec = TokenCodec::new(&settings(Some(key.clone()), vec![]));
        let token = token(&codec);
        let header = header_of(&token);
        assert_eq!(header["kid"], key.kid(), "{alg}");
        assert_eq!(header["alg"], alg.as_str());
        let jwks = codec.keys().unwrap().jwks();
        let jwk = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == header["kid"])
            .expect("the kid is published");
        assert!(independently_verified(&token, jwk), "{alg}");
        let mut tampered = token.clone();
        tampered.insert(tampered.find('.').unwrap() + 5, 'A');
        assert!(!independently_verified(&tampered, jwk));
        assert!(codec.decode(&token, TokenKind::Access).is_ok());
    }
}

#[test]
fn hs256_tokens_carry_a_kid_that_is_not_a_hash_of_the_secret() {
    let codec = TokenCodec::new(&settings(None, vec![]));
    let token = token(&codec);
    let kid = header_of(&token)["kid"].as_str().unwrap().to_owned();
    assert!(kid.starts_with("hs256-"));
    assert!(codec.decode(&token, TokenKind::Access).is_ok());
    assert_eq!(codec.keys().unwrap().jwks()["keys"], json!([]));
}

#[test]
fn rotation_keeps_old_tokens_valid_and_signs_with_the_new_key() {
    let old = PrivateKey::generate(SigningAlgorithm::Es256).unwrap();
    let new = PrivateKey::generate(SigningAlgorithm::EdDsa).unwrap();
    let before = TokenCodec::new(&settings(Some(old.clone()), vec![]));
    let old_token = token(&before);
    let after = TokenCodec::new(&settings(Some(new.clone()), vec![old.clone()]));
    assert!(after.decode(&old_token, TokenKind::Access).is_ok());
    assert_eq!(header_of(&token(&after))["kid"], new.kid());
    let kids: Vec<String> = after.keys().unwrap().jwks()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kids, [new.kid(), old.kid()]);
    // Once the old key is dropped from the configuration its tokens stop verifying.
    let dropped = TokenCodec::new(&settings(Some(new), vec![]));
    assert!(rejected(&dropped, &old_token));
}

/// Re-signs the payload of `genuine` under a chosen header with a chosen key.
fn forged(genuine: &str, header: &Header, key: &EncodingKey) -> String {
    let claims: Value = jsonwebtoken::dangerous::insecure_decode_claims(genuine).unwrap();
    encode(header, &claims, key).unwrap()
}

fn raw(header: &Value, genuine: &str) -> String {
    let payload = genuine.split('.').nth(1).unwrap();
    let h = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(header.to_string());
    format!("{h}.{payload}.")
}

#[test]
fn every_header_attack_is_rejected() {
    let key = PrivateKey::generate(SigningAlgorithm::EdDsa).unwrap();
    let other = PrivateKey::generate(SigningAlgorithm::EdDsa).unwrap();
    let es = PrivateKey::generate(SigningAlgorithm::Es256).unwrap();
    let codec = TokenCodec::new(&settings(Some(key.clone()), vec![es.clone()]));
    let genuine = token(&codec);
    assert!(codec.decode(&genuine, TokenKind::Access).is_ok());
    let with = |mutate: &dyn Fn(&mut Header)| {
        let mut header = Header::new(jsonwebtoken::Algorithm::EdDSA);
        header.kid = Some(key.kid().to_owned());
        mutate(&mut header);
        forged(&genuine, &header, &key.encoding_key())
    };
    // The genuine key under the genuine header verifies: each case below differs in one way.
    assert!(codec.decode(&with(&|_| {}), TokenKind::Access).is_ok());
    let cases = [
        ("unknown kid", with(&|h| h.kid = Some("not-a-kid".into()))),
        ("no kid", with(&|h| h.kid = None)),
        (
            "jku",
            with(&|h| h.jku = Some("https://evil.example/jwks".into())),
        ),
        (
            "x5u",
            with(&|h| h.x5u = Some("https://evil.example/cert".into())),
        ),
        ("x5c", with(&|h| h.x5c = Some(vec!["MIIB".into()]))),
        (
            "jwk",
            with(&|h| h.jwk = Some(serde_json::from_value(key.public_jwk()).unwrap())),
        ),
        (
            "kid of another key",
            forged(
                &genuine,
                &{
                    let mut h = Header::new(jsonwebtoken::Algorithm::EdDSA);
                    h.kid = Some(es.kid().to_owned());
                    h
                },
                &other.encoding_key(),
            ),
        ),
        (
            "alg differs from the key's (ES256 kid, EdDSA header)",
            forged(
                &genuine,
                &{
                    let mut h = Header::new(jsonwebtoken::Algorithm::EdDSA);
                    h.kid = Some(es.kid().to_owned());
                    h
                },
                &key.encoding_key(),
            ),
        ),
        (
            "HS256 signed with the public key bytes",
            forged(
                &genuine,
                &{
                    let mut h = Header::new(jsonwebtoken::Algorithm::HS256);
                    h.kid = Some(key.kid().to_owned());
                    h
                },
                &EncodingKey::from_secret(&b64d(key.public_jwk()["x"].as_str().unwrap())).unwrap(),
            ),
        ),
        (
            "HS256 signed with the public JWK text",
            forged(
                &genuine,
                &{
                    let mut h = Header::new(jsonwebtoken::Algorithm::HS256);
                    h.kid = Some(key.kid().to_owned());
                    h
                },
                &EncodingKey::from_secret(key.public_jwk().to_string().as_bytes()).unwrap(),
            ),
        ),
        (
            "alg none",
            raw(&json!({"alg": "none", "kid": key.kid()}), &genuine),
        ),
        (
            "alg None",
            raw(&json!({"alg": "None", "kid": key.kid()}), &genuine),
        ),
    ];
    for (name, token) in &cases {
        assert!(rejected(&codec, token), "{name} was accepted");
    }
}

#[test]
fn hs256_mode_rejects_a_kidless_token_under_a_previous_public_key() {
    let previous = PrivateKey::generate(SigningAlgorithm::EdDsa).unwrap();
    let codec = TokenCodec::new(&settings(None, vec![previous.clone()]));
    let genuine = token(&codec);
    // Signed with the public key as an HMAC secret, no kid: checked against the secret, fails.
    let confused = forged(
        &genuine,
        &Header::new(jsonwebtoken::Algorithm::HS256),
        &EncodingKey::from_secret(&b64d(previous.public_jwk()["x"].as_str().unwrap())).unwrap(),
    );
    assert!(rejected(&codec, &confused));
    // The previous key itself still verifies its own tokens.
    let old = token(&TokenCodec::new(&settings(Some(previous), vec![])));
    assert!(codec.decode(&old, TokenKind::Access).is_ok());
}
