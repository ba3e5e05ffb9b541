//! Asymmetric token signing (SPEC §10.3): the JWKS, verification by an independent verifier
//! (aws-lc-rs from the published JWK, no jsonwebtoken), rotation across a restart, and the
//! rejection of forged headers by the running server.

use std::path::{Path, PathBuf};

use ainative_server::keys;
use ainative_test_support::{on_both_backends, Backend, TestApp};
use aws_lc_rs::signature::{
    RsaPublicKeyComponents, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED, ED25519,
    RSA_PKCS1_2048_8192_SHA256,
};
use base64::Engine;
use serde_json::{json, Value};

const ME: &str = "/api/v1/auth/me";
const JWKS: &str = "/.well-known/jwks.json";

fn b64d(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .expect("base64url")
}

fn b64e(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn header_of(token: &str) -> Value {
    serde_json::from_slice(&b64d(token.split('.').next().expect("header"))).expect("json")
}

/// Verifies a compact JWS against a JWK with aws-lc-rs directly.
fn verified_by(token: &str, jwk: &Value) -> bool {
    let (signed, signature) = token.rsplit_once('.').expect("three parts");
    let signature = b64d(signature);
    let part = |name: &str| b64d(jwk[name].as_str().expect(name));
    match jwk["kty"].as_str() {
        Some("OKP") => UnparsedPublicKey::new(&ED25519, part("x"))
            .verify(signed.as_bytes(), &signature)
            .is_ok(),
        Some("EC") => {
            let point = [vec![4u8], part("x"), part("y")].concat();
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
                .verify(signed.as_bytes(), &signature)
                .is_ok()
        }
        Some("RSA") => RsaPublicKeyComponents {
            n: part("n"),
            e: part("e"),
        }
        .verify(&RSA_PKCS1_2048_8192_SHA256, signed.as_bytes(), &signature)
        .is_ok(),
        other => panic!("unexpected kty {other:?}"),
    }
}

async fn jwks(app: &TestApp) -> Value {
    let res = app.get(JWKS, None).await;
    assert_eq!(res.status(), 200);
    let cache = res
        .headers()
        .get("cache-control")
        .expect("cache-control")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cache.starts_with("public, max-age=") && cache != "public, max-age=0",
        "{cache}"
    );
    res.json().await.expect("a JWK set")
}

fn published<'a>(set: &'a Value, kid: &str) -> Option<&'a Value> {
    set["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == kid)
}

/// Writes a new key for `alg` with the CLI command into `dir`; returns the path.
fn generated(dir: &Path, name: &str, alg: &str) -> PathBuf {
    let path = dir.join(name);
    keys::generate(alg, Some(&path)).expect("keys generate");
    path
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ainative-keys-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

async fn spawn(backend: Backend, vars: &[(&str, &str)]) -> TestApp {
    TestApp::spawn_with(backend, vars).await
}

async fn an_independent_verifier_accepts_tokens_from_the_jwks(app: TestApp) {
    let url = secrecy::ExposeSecret::expose_secret(&app.settings.database.url).to_owned();
    let dir = temp_dir();
    for alg in ["EdDSA", "ES256", "RS256"] {
        let file = generated(&dir, &format!("{alg}.pem"), alg);
        let file = file.display().to_string();
        let app = spawn(
            app.backend,
            &[
                ("DATABASE_URL", &url),
                ("JWT_ALGORITHM", alg),
                ("JWT_PRIVATE_KEY_FILE", &file),
            ],
        )
        .await;
        let token = app.token_of(&format!("ann{}", alg.to_lowercase())).await;
        let header = header_of(&token);
        assert_eq!(header["alg"], alg);
        let kid = header["kid"].as_str().expect("every token carries a kid");
        let set = jwks(&app).await;
        let jwk = published(&set, kid).expect("the signing key is published");
        assert_eq!(jwk["alg"], alg);
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(jwk.get(private).is_none(), "{alg} publishes {private}");
        }
        assert!(verified_by(&token, jwk), "{alg}: the signature verifies");
        // The same signature over a changed payload does not verify.
        let at = token.find('.').unwrap() + 2;
        let swapped = if &token[at..=at] == "A" { "B" } else { "A" };
        let tampered = format!("{}{swapped}{}", &token[..at], &token[at + 1..]);
        assert!(
            !verified_by(&tampered, jwk),
            "{alg}: a tampered token verifies"
        );
        assert_eq!(app.get(ME, Some(&token)).await.status(), 200);
    }
}

async fn an_eddsa_server_generates_its_key_and_hs256_publishes_none(app: TestApp) {
    let url = secrecy::ExposeSecret::expose_secret(&app.settings.database.url).to_owned();
    // Test servers run HS256 unless told otherwise; the shipped default is EdDSA.
    let eddsa = spawn(
        app.backend,
        &[("DATABASE_URL", &url), ("JWT_ALGORITHM", "EdDSA")],
    )
    .await;
    let token = eddsa.token_of("bea").await;
    let header = header_of(&token);
    assert_eq!(header["alg"], "EdDSA");
    let set = jwks(&eddsa).await;
    assert!(verified_by(
        &token,
        published(&set, header["kid"].as_str().unwrap()).unwrap()
    ));
    // HS256 publishes nothing: a shared secret is never in the JWKS.
    assert_eq!(jwks(&app).await, json!({"keys": []}));
    // A token of one instance's key is unknown to an instance with another key.
    expect_401(&app, &token).await;
}

async fn expect_401(app: &TestApp, token: &str) {
    let res = app.get(ME, Some(token)).await;
    assert_eq!(res.status(), 401, "{token}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "UNAUTHORIZED");
}

async fn rotation_keeps_old_tokens_valid_across_a_restart(app: TestApp) {
    let url = secrecy::ExposeSecret::expose_secret(&app.settings.database.url).to_owned();
    let dir = temp_dir();
    let old = generated(&dir, "old.pem", "EdDSA").display().to_string();
    let new = generated(&dir, "new.pem", "ES256").display().to_string();
    let before = spawn(
        app.backend,
        &[
            ("DATABASE_URL", &url),
            ("JWT_PRIVATE_KEY_FILE", &old),
            ("JWT_ALGORITHM", "EdDSA"),
        ],
    )
    .await;
    let data = before.register("cyd").await;
    let access = data["access_token"].as_str().unwrap().to_owned();
    let refresh = data["refresh_token"].as_str().unwrap().to_owned();
    let old_kid = header_of(&access)["kid"].as_str().unwrap().to_owned();
    drop(before);
    // The restart: a new key signs, the old one is listed as previous.
    let after = spawn(
        app.backend,
        &[
            ("DATABASE_URL", &url),
            ("JWT_ALGORITHM", "ES256"),
            ("JWT_PRIVATE_KEY_FILE", &new),
            ("JWT_PREVIOUS_KEY_FILES", &old),
        ],
    )
    .await;
    assert_eq!(
        after.get(ME, Some(&access)).await.status(),
        200,
        "old access token"
    );
    let res = after
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": refresh}),
        )
        .await;
    assert_eq!(res.status(), 200, "old refresh token");
    let body: Value = res.json().await.unwrap();
    let renewed = body["data"]["access_token"].as_str().unwrap();
    let new_kid = header_of(renewed)["kid"].as_str().unwrap().to_owned();
    assert_ne!(new_kid, old_kid);
    assert_eq!(header_of(renewed)["alg"], "ES256");
    let set = jwks(&after).await;
    assert!(verified_by(renewed, published(&set, &new_kid).unwrap()));
    assert!(verified_by(&access, published(&set, &old_kid).unwrap()));
    let listed = keys::list(&after.settings);
    assert!(
        listed.contains(&format!("{new_kid}\tES256\tcurrent")),
        "{listed}"
    );
    assert!(
        listed.contains(&format!("{old_kid}\tEdDSA\tprevious")),
        "{listed}"
    );
    drop(after);
    // Once the old key is retired from the configuration, its tokens stop verifying.
    let later = spawn(
        app.backend,
        &[
            ("DATABASE_URL", &url),
            ("JWT_ALGORITHM", "ES256"),
            ("JWT_PRIVATE_KEY_FILE", &new),
        ],
    )
    .await;
    expect_401(&later, &access).await;
    assert_eq!(later.get(ME, Some(renewed)).await.status(), 200);
}

/// Re-signs the claims of `genuine` under `header` as the attacker would.
fn resigned(genuine: &str, header: &Value, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let payload = genuine.split('.').nth(1).unwrap();
    let signed = format!("{}.{payload}", b64e(header.to_string().as_bytes()));
    let signature = sign(signed.as_bytes());
    format!("{signed}.{}", b64e(&signature))
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
    aws_lc_rs::hmac::sign(&key, data).as_ref().to_vec()
}

async fn forged_headers_are_rejected(app: TestApp) {
    let url = secrecy::ExposeSecret::expose_secret(&app.settings.database.url).to_owned();
    let server = spawn(
        app.backend,
        &[("DATABASE_URL", &url), ("JWT_ALGORITHM", "EdDSA")],
    )
    .await;
    let genuine = server.token_of("dee").await;
    let header = header_of(&genuine);
    let kid = header["kid"].as_str().unwrap();
    let set = jwks(&server).await;
    let jwk = published(&set, kid).unwrap().clone();
    let attacker = aws_lc_rs::signature::Ed25519KeyPair::generate().unwrap();
    let attacker_sign = |m: &[u8]| attacker.sign(m).as_ref().to_vec();
    let attacker_jwk = json!({"kty": "OKP", "crv": "Ed25519",
        "x": b64e(aws_lc_rs::signature::KeyPair::public_key(&attacker).as_ref())});
    let cases = [
        (
            "unknown kid",
            resigned(
                &genuine,
                &json!({"alg": "EdDSA", "kid": "nope"}),
                attacker_sign,
            ),
        ),
        (
            "no kid",
            resigned(&genuine, &json!({"alg": "EdDSA"}), attacker_sign),
        ),
        (
            "jwk header",
            resigned(
                &genuine,
                &json!({"alg": "EdDSA", "kid": kid, "jwk": attacker_jwk}),
                attacker_sign,
            ),
        ),
        (
            "jku header",
            resigned(
                &genuine,
                &json!({"alg": "EdDSA", "kid": kid, "jku": "http://127.0.0.1:9/jwks"}),
                attacker_sign,
            ),
        ),
        (
            "x5u header",
            resigned(
                &genuine,
                &json!({"alg": "EdDSA", "kid": kid, "x5u": "http://127.0.0.1:9/c"}),
                attacker_sign,
            ),
        ),
        (
            "x5c header",
            resigned(
                &genuine,
                &json!({"alg": "EdDSA", "kid": kid, "x5c": ["MIIB"]}),
                attacker_sign,
            ),
        ),
        (
            "alg none",
            resigned(&genuine, &json!({"alg": "none", "kid": kid}), |_| {
                Vec::new()
            }),
        ),
        (
            "HS256 with the public key bytes",
            resigned(&genuine, &json!({"alg": "HS256", "kid": kid}), |m| {
                hmac(&b64d(jwk["x"].as_str().unwrap()), m)
            }),
        ),
        (
            "HS256 with the JWK text",
            resigned(&genuine, &json!({"alg": "HS256", "kid": kid}), |m| {
                hmac(jwk.to_string().as_bytes(), m)
            }),
        ),
        (
            "ES256 header on the EdDSA kid",
            resigned(
                &genuine,
                &json!({"alg": "ES256", "kid": kid}),
                attacker_sign,
            ),
        ),
    ];
    for (name, token) in &cases {
        let res = server.get(ME, Some(token)).await;
        assert_eq!(res.status(), 401, "{name} was accepted");
    }
    assert_eq!(server.get(ME, Some(&genuine)).await.status(), 200);
}

on_both_backends!(
    an_independent_verifier_accepts_tokens_from_the_jwks,
    an_eddsa_server_generates_its_key_and_hs256_publishes_none,
    rotation_keeps_old_tokens_valid_across_a_restart,
    forged_headers_are_rejected,
);
