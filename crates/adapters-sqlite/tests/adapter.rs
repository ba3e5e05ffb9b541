//! SQLite-specific behaviour: connection set-up, storage formats, pool exhaustion, the call
//! deadline against a write waiting for the lock, the writer's own connection (decision
//! 142): on an in-memory database, after a failed record, and when the store closes, and the
//! turns that queue behind the writer committed together (decision 144).

mod support;

use std::time::Duration;

use ainative_adapters_sqlite::{PoolSettings, SqliteStore};
use ainative_domain::Page;
use ainative_ports::testkit::tutoring::{active_session, record, TutoringStores};
use ainative_ports::testkit::{new_user, now, plus_secs};
use ainative_ports::{DatabaseHealth, InteractionRecord, PortError, SchemaManager, UserRepository};
use sqlx::{Connection, SqliteConnection};

#[tokio::test]
async fn connect_creates_the_file_with_wal_foreign_keys_and_busy_timeout() {
    let dir = ainative_test_support::TempDir::new("sqlite");
    let file = dir.path().join("a").join("b").join("ainative.db");
    assert!(!file.exists());
    let store = SqliteStore::connect(&support::settings(&file))
        .await
        .expect("connect");
    assert!(file.exists(), "the database file is created");

    let pool = store.pool();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(pool)
        .await
        .expect("journal_mode");
    assert_eq!(mode, "wal");
    let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(pool)
        .await
        .expect("foreign_keys");
    assert_eq!(foreign_keys, 1);
    let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
        .fetch_one(pool)
        .await
        .expect("busy_timeout");
    assert_eq!(busy, 5000);
    assert_eq!(store.backend(), "sqlite");
    assert_eq!(store.migrations_applied().await, Ok(false));
}

#[tokio::test]
async fn ids_and_times_are_stored_as_text() {
    let (store, _dir) = support::store().await;
    let user = new_user("texty", now());
    store.create(user.clone(), None).await.expect("create");
    let (id_type, id, roles): (String, String, String) =
        sqlx::query_as("SELECT typeof(id), id, roles FROM users")
            .fetch_one(store.pool())
            .await
            .expect("select");
    assert_eq!(id_type, "text");
    assert_eq!(id, user.id.hyphenated().to_string());
    assert_eq!(roles, r#"["student"]"#);
}

#[tokio::test]
async fn an_exhausted_pool_is_unavailable_not_a_hang() {
    let dir = ainative_test_support::TempDir::new("sqlite");
    let settings = PoolSettings {
        max_connections: 1,
        acquire_timeout: Duration::from_millis(200),
        ..support::settings(&dir.path().join("x.db"))
    };
    let store = SqliteStore::connect(&settings).await.expect("connect");
    ainative_adapters_sql::testkit::an_exhausted_pool_is_unavailable_not_a_hang(store).await;
}

#[tokio::test]
async fn a_write_waiting_for_the_lock_is_unavailable_at_the_deadline() {
    let (store, dir) = support::store().await;
    // Another connection holds the write lock; the busy timeout (5 s) is longer than the
    // call's deadline, which ends the wait.
    let writer = take_write_lock(dir.file()).await;
    let store = store.with_deadline(Duration::from_millis(300));
    let blocked = tokio::time::timeout(
        Duration::from_secs(4),
        store.create(new_user("blocked", now()), None),
    )
    .await
    .expect("the deadline must end the call before the busy timeout");
    assert!(
        matches!(blocked, Err(PortError::Unavailable(_))),
        "{blocked:?}"
    );
    release_write_lock(writer).await;
    store
        .create(new_user("unblocked", now()), None)
        .await
        .expect("create once the lock is free");
}

/// A connection of its own to the database `file`, beside the store's.
async fn second_connection(file: &std::path::Path) -> SqliteConnection {
    SqliteConnection::connect(&format!("sqlite://{}", file.display()))
        .await
        .expect("second connection")
}

/// A second connection holding the write lock of `file` until [`release_write_lock`].
async fn take_write_lock(file: &std::path::Path) -> SqliteConnection {
    let mut conn = second_connection(file).await;
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut conn)
        .await
        .expect("take the write lock");
    conn
}

async fn release_write_lock(mut conn: SqliteConnection) {
    sqlx::query("ROLLBACK")
        .execute(&mut conn)
        .await
        .expect("release the lock");
}

/// The versions of the shipped SQLite migrations, in order.
fn shipped_versions() -> Vec<i64> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations/sqlite");
    let mut versions: Vec<i64> = std::fs::read_dir(dir)
        .expect("migrations directory")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".up.sql")?
                .split('_')
                .next()?
                .parse()
                .ok()
        })
        .collect();
    versions.sort_unstable();
    versions
}

/// A store on a new in-memory database, not migrated, with a pool of one connection.
async fn in_memory_store() -> SqliteStore {
    let settings = PoolSettings {
        max_connections: 1,
        ..PoolSettings::new("sqlite::memory:")
    };
    SqliteStore::connect(&settings).await.expect("connect")
}

#[tokio::test]
async fn in_memory_databases_work() {
    let store = in_memory_store().await;
    assert_eq!(store.migrate_up().await, Ok(shipped_versions()));
    let user = new_user("in_memory", now());
    store.create(user.clone(), None).await.expect("create");
    let found = store.find_by_id(user.id).await.expect("find");
    assert_eq!(found.map(|u| u.id), Some(user.id));
}

/// A turn is written on the writer's own connection, outside the pool: on an in-memory
/// database it must be the pool's database, and a failed record must not leave it inside
/// a transaction.
#[tokio::test]
async fn turns_of_an_in_memory_database_are_written_to_it() {
    let store = in_memory_store().await;
    store.migrate_up().await.expect("migrate");
    let s = TutoringStores::from_store(store);
    let at = now();
    let session = active_session(&s, at).await;
    let first = record(&session, at, Vec::new());
    s.interactions
        .record(first.clone(), None)
        .await
        .expect("recorded");
    let mut again = record(&session, plus_secs(at, 1), Vec::new());
    again.interaction.id = first.interaction.id;
    assert!(s.interactions.record(again, None).await.is_err());
    let next = s
        .interactions
        .record(record(&session, plus_secs(at, 2), Vec::new()), None)
        .await
        .expect("recorded after the failure");
    assert_eq!(next.interaction.seq, 2);
    let stored = s
        .interactions
        .list(session.id, Page::new(Some(10), None).expect("page"))
        .await
        .expect("read");
    let ids: Vec<_> = stored.items.iter().map(|i| i.id).collect();
    assert_eq!(ids.len(), 2, "both turns are in the pool's database");
    assert!(ids.contains(&first.interaction.id) && ids.contains(&next.interaction.id));
}

#[tokio::test]
async fn inconsistent_pool_bounds_are_rejected() {
    let settings = PoolSettings {
        max_connections: 1,
        min_connections: 2,
        ..PoolSettings::new("sqlite::memory:")
    };
    let result = SqliteStore::connect(&settings).await;
    assert!(matches!(result, Err(PortError::Other(_))), "{result:?}");
}

/// Closing the store closes the writer's connection too: SQLite then copies the log into
/// the database file and removes it (a copy of the file alone is the whole database), and a
/// turn recorded after it is refused.
#[tokio::test]
async fn closing_the_store_leaves_no_log_behind() {
    let (store, db) = support::store().await;
    let s = TutoringStores::from_store(store.clone());
    let at = now();
    let session = active_session(&s, at).await;
    s.interactions
        .record(record(&session, at, Vec::new()), None)
        .await
        .expect("recorded");
    let wal = std::path::PathBuf::from(format!("{}-wal", db.file().display()));
    assert!(wal.exists(), "the database is in WAL mode");

    store.close().await;
    assert!(!wal.exists(), "the log is checkpointed and removed");
    let late = s
        .interactions
        .record(record(&session, plus_secs(at, 1), Vec::new()), None)
        .await;
    assert!(matches!(late, Err(PortError::Unavailable(_))), "{late:?}");
}

/// The log frames (pages) written since the last full checkpoint, after truncating the log
/// when `reset`.
async fn log_frames(file: &std::path::Path, reset: bool) -> i64 {
    let mut conn = second_connection(file).await;
    let mode = if reset { "TRUNCATE" } else { "PASSIVE" };
    let (busy, frames, _): (i64, i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "PRAGMA wal_checkpoint({mode})"
    )))
    .fetch_one(&mut conn)
    .await
    .expect("checkpoint");
    assert_eq!(busy, 0, "nothing else holds the database");
    conn.close().await.expect("close");
    frames
}

/// Records `turns` concurrently while another connection holds the write lock, so they
/// queue behind the writer, then lets them run; returns their outcomes in the order given.
async fn queued_behind_a_lock(
    file: &std::path::Path,
    s: &TutoringStores,
    turns: Vec<InteractionRecord>,
) -> Vec<Result<InteractionRecord, PortError>> {
    let blocker = take_write_lock(file).await;
    let tasks: Vec<_> = turns
        .into_iter()
        .map(|turn| {
            let interactions = s.interactions.clone();
            tokio::spawn(async move { interactions.record(turn, None).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    release_write_lock(blocker).await;
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.expect("joined"));
    }
    outcomes
}

/// Turns that queue behind the writer share one transaction: their common pages (the
/// session's row, the last leaves of the tables and indexes) go into the log once, not
/// once per turn (decision 144).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_turns_are_committed_together() {
    let (store, db) = support::store().await;
    let s = TutoringStores::from_store(store);
    let at = now();
    let session = active_session(&s, at).await;
    log_frames(db.file(), true).await;
    s.interactions
        .record(record(&session, at, Vec::new()), None)
        .await
        .expect("recorded alone");
    let one = log_frames(db.file(), false).await;
    log_frames(db.file(), true).await;

    let turns = (1..=32)
        .map(|i| record(&session, plus_secs(at, i), Vec::new()))
        .collect();
    let outcomes = queued_behind_a_lock(db.file(), &s, turns).await;
    let mut seqs: Vec<u32> = outcomes
        .into_iter()
        .map(|outcome| outcome.expect("recorded").interaction.seq)
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (2..=33).collect::<Vec<_>>());
    let together = log_frames(db.file(), false).await;
    assert!(
        together * 4 < 32 * one,
        "32 queued turns wrote {together} log frames, one alone {one}"
    );
}

/// A turn that fails in a group fails alone: the others are stored whole, the failed one
/// not at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_turn_in_a_group_does_not_fail_the_others() {
    let (store, db) = support::store().await;
    let s = TutoringStores::from_store(store);
    let at = now();
    let session = active_session(&s, at).await;
    let first = s
        .interactions
        .record(record(&session, at, Vec::new()), None)
        .await
        .expect("recorded alone");

    let mut turns: Vec<InteractionRecord> = (1..=16)
        .map(|i| record(&session, plus_secs(at, i), Vec::new()))
        .collect();
    // The same id as a stored interaction: its insert fails after its seq was taken.
    turns[7].interaction.id = first.interaction.id;
    let failing_traces: Vec<_> = turns[7].traces.iter().map(|t| t.id).collect();
    let outcomes = queued_behind_a_lock(db.file(), &s, turns).await;
    assert!(outcomes[7].is_err(), "{:?}", outcomes[7]);
    let mut seqs: Vec<u32> = outcomes
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 7)
        .map(|(_, outcome)| outcome.as_ref().expect("recorded").interaction.seq)
        .collect();
    seqs.sort_unstable();
    assert_eq!(
        seqs,
        (2..=16).collect::<Vec<_>>(),
        "no seq is lost or reused"
    );

    let stored = s
        .interactions
        .list(session.id, Page::new(Some(100), None).expect("page"))
        .await
        .expect("read");
    assert_eq!(stored.items.len(), 16);
    let traces = s.interactions.all_traces(session.id).await.expect("traces");
    assert_eq!(traces.len(), 32, "two per stored turn");
    assert!(traces.iter().all(|t| !failing_traces.contains(&t.id)));
}
