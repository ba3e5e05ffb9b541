//! Contract cases of the tutoring persistence ports: [`ActivityRepository`],
//! [`StudySessionRepository`], [`InteractionRepository`] and [`RiskRepository`].
//!
//! Like the persistence suite, each case is a plain `async fn` taking a fresh
//! [`TutoringStores`] (an empty, migrated database). An adapter runs them all with one line:
//!
//! ```ignore
//! async fn make() -> ainative_ports::testkit::tutoring::TutoringStores { /* … */ }
//! ainative_ports::tutoring_contract!(make());
//! // Backends with migrations also run the schema case (the store must be built with
//! // `TutoringStores::from_schema_store`):
//! ainative_ports::tutoring_contract!(make(); schema);
//! ```
//!
//! Times are explicit and truncated to milliseconds; lists ordered by time are given distinct
//! times except where a case checks the tie-break. The cases panic on failure, as tests do.

mod activities;
mod fixtures;
mod interactions;
mod risks;
mod schema;
mod study_sessions;

use std::any::Any;
use std::sync::Arc;

use crate::{
    ActivityRepository, AuditLog, InteractionRepository, RiskRepository, SchemaManager,
    StudySessionRepository, UserRepository,
};

pub use activities::*;
pub use fixtures::*;
pub use interactions::*;
pub use risks::*;
pub use schema::*;
pub use study_sessions::*;

/// The tutoring ports of one backend, with the identity ports the cases need to set up users
/// and to observe the audit log.
pub struct TutoringStores {
    /// Users: owners of activities and students of sessions.
    pub users: Arc<dyn UserRepository>,
    /// Activities.
    pub activities: Arc<dyn ActivityRepository>,
    /// Study sessions and evaluations.
    pub sessions: Arc<dyn StudySessionRepository>,
    /// Interactions and traces.
    pub interactions: Arc<dyn InteractionRepository>,
    /// Risks.
    pub risks: Arc<dyn RiskRepository>,
    /// The audit log, where resolutions are recorded.
    pub audit: Arc<dyn AuditLog>,
    /// Migrations, for backends that have them (the `schema` cases need it).
    pub schema: Option<Arc<dyn SchemaManager>>,
    /// See [`super::Stores::guard`]. Declared last, so it is dropped after the stores.
    pub guard: Option<Box<dyn Any + Send + Sync>>,
}

impl TutoringStores {
    /// Uses one value that implements every port for all of them (no schema manager).
    pub fn from_store<S>(store: S) -> Self
    where
        S: UserRepository
            + ActivityRepository
            + StudySessionRepository
            + InteractionRepository
            + RiskRepository
            + AuditLog
            + 'static,
    {
        let store = Arc::new(store);
        Self {
            users: store.clone(),
            activities: store.clone(),
            sessions: store.clone(),
            interactions: store.clone(),
            risks: store.clone(),
            audit: store,
            schema: None,
            guard: None,
        }
    }

    /// Like [`TutoringStores::from_store`], with the store's schema manager as well.
    pub fn from_schema_store<S>(store: S) -> Self
    where
        S: UserRepository
            + ActivityRepository
            + StudySessionRepository
            + InteractionRepository
            + RiskRepository
            + AuditLog
            + SchemaManager
            + 'static,
    {
        let store = Arc::new(store);
        let schema: Arc<dyn SchemaManager> = store.clone();
        Self {
            users: store.clone(),
            activities: store.clone(),
            sessions: store.clone(),
            interactions: store.clone(),
            risks: store.clone(),
            audit: store,
            schema: Some(schema),
            guard: None,
        }
    }

    /// [`TutoringStores::from_schema_store`] keeping the fixture's guard alive: `(store,
    /// guard)` as a fixture returns them.
    pub fn guarded_with_schema<S, G>((store, guard): (S, G)) -> Self
    where
        S: UserRepository
            + ActivityRepository
            + StudySessionRepository
            + InteractionRepository
            + RiskRepository
            + AuditLog
            + SchemaManager
            + 'static,
        G: Any + Send + Sync,
    {
        Self::from_schema_store(store).with_guard(guard)
    }

    /// Keeps `guard` alive until the stores are dropped.
    pub fn with_guard(mut self, guard: impl Any + Send + Sync) -> Self {
        self.guard = Some(Box::new(guard));
        self
    }
}

/// Expands to one `#[tokio::test]` per tutoring contract case. `$make` is an expression whose
/// `.await` yields a fresh [`TutoringStores`]; it is evaluated once per case. With `; schema`
/// the migration case runs too (it needs [`TutoringStores::schema`]).
///
/// The calling crate needs `tokio` (with `macros` and `rt-multi-thread`) as a dev-dependency.
#[macro_export]
macro_rules! tutoring_contract {
    ($make:expr) => {
        $crate::__tutoring_cases!(
            $make;
            activity_create_and_find,
            activity_list_visibility,
            activity_list_filters_and_pagination,
            activity_list_totals_for_every_filter,
            activity_update_replaces_fields,
            study_session_create_and_find,
            session_find_with_activity,
            session_find_for_turn_reads_what_find_and_past_read,
            study_session_one_active_per_student_and_activity,
            study_session_concurrent_creates,
            study_session_list_visibility_and_filters,
            study_session_end_stores_evaluation,
            study_session_transitions,
            interaction_record_assigns_seq_and_stores_all,
            interaction_rule_state_follows_the_count,
            interaction_record_many_rows_in_order,
            interaction_record_returns_what_reads_return,
            interaction_selected_traces,
            interaction_record_concurrent,
            interaction_record_max_interactions,
            interaction_record_rejected_when_inactive_or_unknown,
            interaction_record_failing_row_writes_nothing,
            interaction_duplicate_risks_are_skipped,
            interaction_list_and_recent,
            interaction_traces_filter_and_pagination,
            risk_find_and_for_session,
            risk_list_scopes_and_filters,
            risk_list_totals_for_every_filter,
            risk_resolve_writes_audit_row,
        );
    };
    ($make:expr; schema) => {
        $crate::tutoring_contract!($make);
        $crate::__tutoring_cases!($make; tutoring_schema_down_up_round_trip);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __tutoring_cases {
    ($make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let stores = $make.await;
                $crate::testkit::tutoring::$case(stores).await;
            }
        )*
    };
}
