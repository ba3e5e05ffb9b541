//! Key rotation: deploy the new key with the old one as previous, run
//! `rotate-credentials-key` while turns keep flowing, retire the old key; a server missing
//! a key in use refuses to start; `check-config` never shows a key.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use ainative_server::{commands, Application, Settings};
use ainative_test_support::fixtures::{data, published_activity, start};
use ainative_test_support::Backend;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use secrecy::SecretString;
use serde_json::json;

use super::{captured_logs, cast, endpoint, register, spawn_with};

fn key(byte: u8) -> String {
    STANDARD.encode([byte; 32])
}

fn with_keys(base: &Settings, active: &str, previous: Option<&str>) -> Settings {
    let mut settings = base.clone();
    settings.credentials.key = SecretString::from(active.to_owned());
    settings.credentials.previous = previous.map(|p| SecretString::from(p.to_owned()));
    settings
}

/// Another instance on the same database; returns its base URL and its stop handle.
async fn instance(settings: Settings) -> (String, actix_web::dev::ServerHandle) {
    let app = Application::build(settings).await.expect("instance builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    tokio::spawn(app.run_until(std::future::pending()));
    (base, handle)
}

async fn ask(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    session: &str,
    n: u32,
) -> serde_json::Value {
    let res = client
        .post(format!("{base}/api/v1/sessions/{session}/interactions"))
        .bearer_auth(token)
        .json(&json!({"prompt": format!("Explain iteration, please ({n})")}))
        .send()
        .await
        .unwrap();
    data(res, 201).await
}

async fn rotation_without_downtime(backend: Backend) {
    let (k1, k2, k3) = (key(1), key(2), key(3));
    let app = spawn_with(backend, &[("CREDENTIALS_ENCRYPTION_KEY", &k1)]).await;
    let c = cast(&app).await;
    let api_key = "sk-rotation-0123456789";
    let fake = endpoint(api_key, "rotated answer").await;
    let cred = register(&app, &c.alice, &fake, api_key).await;
    let activity =
        published_activity(&app, &c.alice, json!({"llm_credential_id": cred["id"]})).await;
    let session = start(&app, &c.student, &activity).await;
    let client = reqwest::Client::new();
    let first = ask(&client, &app.base, &c.student, &session, 0).await;
    assert_eq!(first["interaction"]["response"], "rotated answer");

    // Step 1: deploy the new key, the old one as previous.
    let both = with_keys(&app.settings, &k2, Some(&k1));
    let (base2, stop2) = instance(both.clone()).await;
    // Step 2: rotate while turns keep flowing through the new instance.
    let done = Arc::new(AtomicBool::new(false));
    let load = {
        let (done, client, base2, token, session) = (
            done.clone(),
            client.clone(),
            base2.clone(),
            c.student.clone(),
            session.clone(),
        );
        tokio::spawn(async move {
            let mut n = 1;
            while !done.load(Ordering::SeqCst) || n < 4 {
                let out = ask(&client, &base2, &token, &session, n).await;
                assert_eq!(out["interaction"]["response"], "rotated answer");
                n += 1;
            }
        })
    };
    commands::rotate_credentials_key(&both, 1)
        .await
        .expect("rotation");
    // Run again: nothing left to do (resumable, idempotent).
    commands::rotate_credentials_key(&both, 1)
        .await
        .expect("second rotation");
    done.store(true, Ordering::SeqCst);
    load.await.unwrap();

    // Step 3: retire the old key.
    let only_new = with_keys(&app.settings, &k2, None);
    let (base3, stop3) = instance(only_new).await;
    let after = ask(&client, &base3, &c.student, &session, 100).await;
    assert_eq!(after["interaction"]["response"], "rotated answer");

    // A server without the key in use refuses to start.
    let Err(refused) = Application::build(with_keys(&app.settings, &k3, None)).await else {
        panic!("a server without the key in use must not start");
    };
    assert!(refused.to_string().contains("sealed with key"), "{refused}");

    let shown = commands::check_config(&both);
    for secret in [k1.as_str(), k2.as_str(), api_key] {
        assert!(!shown.contains(secret), "check-config shows a secret");
        assert!(
            !captured_logs().text().contains(secret),
            "a secret reached the logs"
        );
    }
    assert!(
        shown.contains("CREDENTIALS_ENCRYPTION_KEY = ******"),
        "{shown}"
    );
    stop2.stop(false).await;
    stop3.stop(false).await;
}

crate::both_backends!(rotation_without_downtime);
