//! Contract suites every implementation of a port must pass.
//!
//! The persistence suite is a list of plain `async fn` cases, each taking a fresh [`Stores`].
//! An adapter runs all of them with one line in its integration tests:
//!
//! ```ignore
//! async fn make() -> ainative_ports::testkit::Stores { /* a fresh, migrated store */ }
//! ainative_ports::persistence_contract!(make());
//! ainative_ports::schema_contract!(make_schema());
//! ```
//!
//! Every case gets its own store, so cases may assume an empty database. Times are passed
//! explicitly (truncated to milliseconds, which every backend stores exactly).
//!
//! The cases panic (through `assert!`/`expect`) on failure, as tests do.

mod account_tokens;
pub mod api_keys;
mod audit;
pub mod credentials;
mod fixtures;
mod health;
mod schema;
mod server_errors;
mod sessions;
mod users;

use std::any::Any;
use std::sync::Arc;

use crate::{
    AccountTokenRepository, AuditLog, AuthSessionRepository, DatabaseHealth, SchemaManager,
    ServerErrorLog, UserRepository,
};

pub use account_tokens::*;
pub use audit::*;
pub use fixtures::*;
pub use health::*;
pub use schema::*;
pub use server_errors::*;
pub use sessions::*;
pub use users::*;

/// The persistence ports of one backend, as the contract cases use them.
pub struct Stores {
    /// Users.
    pub users: Arc<dyn UserRepository>,
    /// Sessions and refresh tokens.
    pub sessions: Arc<dyn AuthSessionRepository>,
    /// The audit log.
    pub audit: Arc<dyn AuditLog>,
    /// Health probes.
    pub health: Arc<dyn DatabaseHealth>,
    /// Server errors of every instance.
    pub errors: Arc<dyn ServerErrorLog>,
    /// One-time account tokens.
    pub account_tokens: Arc<dyn AccountTokenRepository>,
    /// Whatever the fixture must keep alive until the case ends (a temporary directory, a
    /// guard that drops a test database). Declared last, so it is dropped after the stores.
    pub guard: Option<Box<dyn Any + Send + Sync>>,
}

impl Stores {
    /// Uses one value that implements every persistence port for all of them.
    pub fn from_store<S>(store: S) -> Self
    where
        S: UserRepository
            + AuthSessionRepository
            + AuditLog
            + DatabaseHealth
            + ServerErrorLog
            + AccountTokenRepository
            + 'static,
    {
        let store = Arc::new(store);
        Self {
            users: store.clone(),
            sessions: store.clone(),
            audit: store.clone(),
            health: store.clone(),
            errors: store.clone(),
            account_tokens: store,
            guard: None,
        }
    }

    /// [`Stores::from_store`] keeping the fixture's guard alive: `(store, guard)` as a
    /// fixture returns them.
    pub fn guarded<S, G>((store, guard): (S, G)) -> Self
    where
        S: UserRepository
            + AuthSessionRepository
            + AuditLog
            + DatabaseHealth
            + ServerErrorLog
            + AccountTokenRepository
            + 'static,
        G: Any + Send + Sync,
    {
        Self::from_store(store).with_guard(guard)
    }

    /// Keeps `guard` alive until the stores are dropped.
    pub fn with_guard(mut self, guard: impl Any + Send + Sync) -> Self {
        self.guard = Some(Box::new(guard));
        self
    }
}

/// The schema manager of one backend, with enough of the other ports to observe it.
pub struct SchemaStores {
    /// Migrations.
    pub schema: Arc<dyn SchemaManager>,
    /// Reports whether every migration is applied.
    pub health: Arc<dyn DatabaseHealth>,
    /// Used to check that the schema works after a round trip.
    pub users: Arc<dyn UserRepository>,
    /// See [`Stores::guard`].
    pub guard: Option<Box<dyn Any + Send + Sync>>,
}

impl SchemaStores {
    /// Uses one value that implements the ports for all of them.
    pub fn from_store<S>(store: S) -> Self
    where
        S: SchemaManager + DatabaseHealth + UserRepository + 'static,
    {
        let store = Arc::new(store);
        Self {
            schema: store.clone(),
            health: store.clone(),
            users: store,
            guard: None,
        }
    }

    /// [`SchemaStores::from_store`] keeping the fixture's guard alive.
    pub fn guarded<S, G>((store, guard): (S, G)) -> Self
    where
        S: SchemaManager + DatabaseHealth + UserRepository + 'static,
        G: Any + Send + Sync,
    {
        Self::from_store(store).with_guard(guard)
    }

    /// Keeps `guard` alive until the stores are dropped.
    pub fn with_guard(mut self, guard: impl Any + Send + Sync) -> Self {
        self.guard = Some(Box::new(guard));
        self
    }
}

/// Expands to one `#[tokio::test]` per persistence contract case. `$make` is an expression
/// whose `.await` yields a fresh [`Stores`]; it is evaluated once per case.
///
/// The calling crate needs `tokio` (with `macros` and `rt-multi-thread`) as a dev-dependency.
#[macro_export]
macro_rules! persistence_contract {
    ($make:expr) => {
        $crate::__contract_cases!(
            $make;
            user_create_and_find,
            user_create_writes_audit_row,
            user_conflict_email,
            user_conflict_username,
            user_conflict_student_id,
            user_record_login,
            user_change_password_revokes_sessions,
            user_list_filters_and_pagination,
            user_apply_patch_writes_audit_row,
            user_apply_patch_not_found_writes_nothing,
            user_apply_patch_revokes_sessions,
            session_start_and_find,
            session_rotate_happy_path,
            session_rotate_expired,
            session_rotate_unknown,
            session_rotate_reuse,
            session_rotate_revoked_family,
            session_rotate_concurrent_race,
            session_revoked_sessions_filter,
            audit_list_newest_first,
            health_ping_stats_migrations,
            server_errors_newest_first_and_bounded,
            server_errors_record_is_idempotent,
            account_token_issue_find_and_expiry,
            account_token_reissue_replaces_the_earlier_one,
            account_token_redeem_verification_once,
            account_token_redeem_reset_is_atomic,
            account_token_purge_expired,
        );
    };
}

/// Expands to one `#[tokio::test]` per schema contract case. `$make` is an expression whose
/// `.await` yields a fresh, fully migrated [`SchemaStores`].
#[macro_export]
macro_rules! schema_contract {
    ($make:expr) => {
        $crate::__contract_cases!(
            $make;
            schema_status_lists_applied_migrations,
            schema_down_up_round_trip,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __contract_cases {
    ($make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let stores = $make.await;
                $crate::testkit::$case(stores).await;
            }
        )*
    };
}

pub mod cache;
pub mod jobs;
pub mod limits;
pub mod materials;
pub mod oauth;
pub mod reports;
pub mod tutoring;
