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

/// The backend pid of a pooled connection.
async fn backend_pid(store: &PgStore) -> i32 {
    sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(store.pool())
        .await
        .expect("pid")
}

#[tokio::test]
async fn a_connection_killed_while_idle_is_replaced_before_use() {
    let db = support::TestDb::create().await;
    let settings = PoolSettings {
        max_connections: 1,
        min_connections: 0,
        ..PoolSettings::new(db.url.clone())
    };
    let store = PgStore::connect(&settings).await.expect("connect");
    let first = backend_pid(&store).await;
    // Another session ends the pooled connection, as a database restart would.
    let admin = sqlx::PgPool::connect(&db.url).await.expect("admin");
    let ended: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(first)
        .fetch_one(&admin)
        .await
        .expect("terminate");
    assert!(ended);
    tokio::time::sleep(
        ainative_adapters_postgres::PRE_PING_AFTER_IDLE + Duration::from_millis(100),
    )
    .await;
    // The idle connection is pinged, found dead and replaced: the query never sees it.
    let second = backend_pid(&store).await;
    assert_ne!(first, second);
}

#[tokio::test]
async fn without_pre_ping_a_killed_connection_fails_once() {
    let db = support::TestDb::create().await;
    let settings = PoolSettings {
        max_connections: 1,
        min_connections: 0,
        test_before_acquire: false,
        ..PoolSettings::new(db.url.clone())
    };
    let store = PgStore::connect(&settings).await.expect("connect");
    let first = backend_pid(&store).await;
    let admin = sqlx::PgPool::connect(&db.url).await.expect("admin");
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(first)
        .execute(&admin)
        .await
        .expect("terminate");
    tokio::time::sleep(
        ainative_adapters_postgres::PRE_PING_AFTER_IDLE + Duration::from_millis(100),
    )
    .await;
    // The contrast that shows the pre-ping at work above.
    let failed = sqlx::query_scalar::<_, i32>("SELECT pg_backend_pid()")
        .fetch_one(store.pool())
        .await;
    assert!(failed.is_err(), "{failed:?}");
    assert_ne!(backend_pid(&store).await, first);
}
