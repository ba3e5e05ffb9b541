//! PostgreSQL-specific behaviour: connection failures and pool exhaustion.

mod support;

use std::time::Duration;

use ainative_adapters_postgres::{PgStore, PoolSettings};
use ainative_ports::testkit::{new_user, now};
use ainative_ports::{DatabaseHealth, PortError, UserRepository};

#[tokio::test]
async fn an_unreachable_server_is_unavailable() {
    let settings = PoolSettings {
        acquire_timeout: Duration::from_millis(500),
        ..PoolSettings::new("postgres://postgres@127.0.0.1:1/postgres")
    };
    let result = PgStore::connect(&settings).await;
    assert!(
        matches!(result, Err(PortError::Unavailable(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn an_exhausted_pool_is_unavailable_not_a_hang() {
    let db = support::TestDb::create().await;
    let settings = PoolSettings {
        max_connections: 1,
        min_connections: 0,
        acquire_timeout: Duration::from_millis(200),
        ..PoolSettings::new(db.url.clone())
    };
    let store = PgStore::connect(&settings).await.expect("connect");
    let held = store.pool().acquire().await.expect("acquire");
    let result = tokio::time::timeout(Duration::from_secs(5), store.ping())
        .await
        .expect("ping must give up on its own");
    assert!(
        matches!(result, Err(PortError::Unavailable(_))),
        "{result:?}"
    );
    drop(held);
    store.ping().await.expect("ping after release");
    assert_eq!(store.backend(), "postgres");
    assert_eq!(store.migrations_applied().await, Ok(false));
}

#[tokio::test]
async fn inconsistent_pool_bounds_are_rejected() {
    let settings = PoolSettings {
        max_connections: 1,
        min_connections: 2,
        ..PoolSettings::new(support::admin_url())
    };
    let result = PgStore::connect(&settings).await;
    assert!(matches!(result, Err(PortError::Other(_))), "{result:?}");
}

#[tokio::test]
async fn roles_are_a_text_array() {
    let (store, _db) = support::store().await;
    let user = new_user("arrayed", now());
    store.create(user.clone(), None).await.expect("create");
    let roles: Vec<String> = sqlx::query_scalar("SELECT roles FROM users WHERE id = $1")
        .bind(user.id)
        .fetch_one(store.pool())
        .await
        .expect("select");
    assert_eq!(roles, vec!["student".to_owned()]);
}
