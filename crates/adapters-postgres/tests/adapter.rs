//! PostgreSQL-specific behaviour: connection failures, pool exhaustion, pre-ping, native
//! arrays, and the call deadline against a statement that never finishes.

mod support;

use std::time::{Duration, Instant};

use ainative_adapters_postgres::{PgStore, PoolSettings};
use ainative_ports::testkit::{new_user, now};
use ainative_ports::{DatabaseHealth, PortError, UserRepository};
use sqlx::{Connection, PgConnection};

/// One connection on `db`, pinged at every checkout when `pre_ping` is on (no threshold to
/// wait for).
fn one_connection(db: &support::TestDatabase, pre_ping: bool) -> PoolSettings {
    PoolSettings {
        max_connections: 1,
        min_connections: 0,
        test_before_acquire: pre_ping,
        pre_ping_after_idle: Duration::ZERO,
        ..PoolSettings::new(db.url().to_owned())
    }
}

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
    let db = support::TestDatabase::create().await;
    let settings = PoolSettings {
        acquire_timeout: Duration::from_millis(200),
        ..one_connection(&db, true)
    };
    let store = PgStore::connect(&settings).await.expect("connect");
    assert_eq!(store.backend(), "postgres");
    ainative_adapters_sql::testkit::an_exhausted_pool_is_unavailable_not_a_hang(store).await;
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

/// The turn's fixed vocabularies are domains (migration 0090): each allows every value of its
/// Rust enum, and nothing else, and reads back as text.
#[tokio::test]
async fn the_turn_vocabularies_allow_their_enums_values_only() {
    use ainative_domain::{
        Agent, CognitiveState, HelpLevel, Intent, RiskDimension, RiskLevel, SessionMode,
        SessionStatus, SimulatorType, TraceKind, TraceLevel,
    };
    /// A domain and the names of its enum's values.
    fn vocabulary<T>(
        domain: &'static str,
        all: &[T],
        name: fn(&T) -> &'static str,
    ) -> (&'static str, Vec<&'static str>) {
        (domain, all.iter().map(name).collect())
    }
    let (store, _db) = support::store().await;
    let domains = [
        vocabulary("agent_kind", Agent::ALL, Agent::as_str),
        vocabulary("interaction_intent", Intent::ALL, Intent::as_str),
        vocabulary("help_level", HelpLevel::ALL, HelpLevel::as_str),
        vocabulary("trace_level", TraceLevel::ALL, TraceLevel::as_str),
        vocabulary("trace_kind", TraceKind::ALL, TraceKind::as_str),
        vocabulary(
            "cognitive_state",
            CognitiveState::ALL,
            CognitiveState::as_str,
        ),
        vocabulary("risk_dimension", RiskDimension::ALL, RiskDimension::as_str),
        vocabulary("risk_level", RiskLevel::ALL, RiskLevel::as_str),
        vocabulary("session_mode", SessionMode::ALL, SessionMode::as_str),
        vocabulary("simulator_type", SimulatorType::ALL, SimulatorType::as_str),
        vocabulary("session_status", SessionStatus::ALL, SessionStatus::as_str),
    ];
    for (domain, values) in domains {
        // The domain names are this test's own constants.
        let cast = || sqlx::AssertSqlSafe(format!("SELECT CAST($1 AS {domain})"));
        for value in values {
            let back: String = sqlx::query_scalar(cast())
                .bind(value)
                .fetch_one(store.pool())
                .await
                .unwrap_or_else(|e| panic!("{value} as {domain}: {e}"));
            assert_eq!(back, value);
        }
        let refused = sqlx::query_scalar::<_, String>(cast())
            .bind("Tutor")
            .fetch_one(store.pool())
            .await
            .expect_err("a value outside the vocabulary");
        let code = refused.as_database_error().and_then(|e| e.code());
        assert_eq!(code.as_deref(), Some("23514"), "{domain}: {refused}");
    }
}

/// The backend pid of a pooled connection.
async fn backend_pid(store: &PgStore) -> i32 {
    sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(store.pool())
        .await
        .expect("pid")
}

/// Ends backend `pid` from another session, as a database restart would, and waits until
/// it is gone.
async fn terminate(db: &support::TestDatabase, pid: i32) {
    let mut admin = PgConnection::connect(db.url()).await.expect("admin");
    let ended: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .fetch_one(&mut admin)
        .await
        .expect("terminate");
    assert!(ended);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let alive: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)")
                .bind(pid)
                .fetch_one(&mut admin)
                .await
                .expect("pg_stat_activity");
        if !alive {
            return;
        }
        assert!(Instant::now() < deadline, "backend {pid} still alive");
        tokio::task::yield_now().await;
    }
}

/// With pre-ping, a pooled connection killed while idle is found dead and replaced before
/// use: the query never sees it. Without, the first query on it fails (then the pool
/// replaces it).
#[tokio::test]
async fn pre_ping_replaces_a_connection_killed_while_idle() {
    for pre_ping in [true, false] {
        let db = support::TestDatabase::create().await;
        let store = PgStore::connect(&one_connection(&db, pre_ping))
            .await
            .expect("connect");
        let first = backend_pid(&store).await;
        terminate(&db, first).await;
        let next = sqlx::query_scalar::<_, i32>("SELECT pg_backend_pid()")
            .fetch_one(store.pool())
            .await;
        if pre_ping {
            assert!(next.as_ref().is_ok_and(|pid| *pid != first), "{next:?}");
        } else {
            assert!(next.is_err(), "{next:?}");
            assert_ne!(backend_pid(&store).await, first);
        }
    }
}

#[tokio::test]
async fn a_statement_that_never_finishes_is_unavailable_at_the_deadline() {
    let (store, db) = support::store().await;
    assert_eq!(
        store.deadline(),
        support::settings(&db).acquire_timeout + ainative_adapters_sql::QUERY_GRACE
    );
    let user = new_user("locked", now());
    store.create(user.clone(), None).await.expect("create");
    // Another session holds the user's row lock and never lets go: the password change
    // waits for it, as on a database that stopped answering.
    let mut holder = PgConnection::connect(db.url()).await.expect("holder");
    sqlx::query("BEGIN")
        .execute(&mut holder)
        .await
        .expect("begin");
    sqlx::query("SELECT 1 FROM users WHERE id = $1 FOR UPDATE")
        .bind(user.id)
        .execute(&mut holder)
        .await
        .expect("lock");

    let store = store.with_deadline(Duration::from_millis(300));
    let started = Instant::now();
    let result = tokio::time::timeout(
        Duration::from_secs(10),
        store.change_password(user.id, "$2b$04$another", now()),
    )
    .await
    .expect("the deadline must end the call");
    assert!(
        matches!(result, Err(PortError::Unavailable(_))),
        "{result:?}"
    );
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(5),
        "{took:?}"
    );

    // Released, the abandoned transaction never commits, and the store works again.
    holder.close().await.expect("release");
    let found = store
        .find_by_id(user.id)
        .await
        .expect("find")
        .expect("user");
    assert_eq!(found.password_hash, user.password_hash);
    store
        .record_login(user.id, now())
        .await
        .expect("record_login");
}
