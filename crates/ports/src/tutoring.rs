//! Storage of the tutoring domain: activities, sessions, interactions with their traces and
//! risks, evaluations.

use ainative_domain::{
    Activity, ActivityStatus, CognitiveTrace, Evaluation, Interaction, NewAuditEntry, Page,
    Paginated, Risk, RiskDimension, RiskLevel, SessionAction, SessionStatus, StudySession,
    TraceKind, TraceLevel,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::PortResult;

/// Which activities a caller may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityVisibility {
    /// Everything (admins).
    All,
    /// Published ones plus those owned by this user (instructors).
    PublishedOrOwnedBy(Uuid),
    /// Published only (students).
    Published,
}

/// Filters of the activity list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityFilter {
    /// Visibility rule.
    pub visibility: ActivityVisibility,
    /// Only this status.
    pub status: Option<ActivityStatus>,
    /// Only activities carrying this (lower-case) tag.
    pub tag: Option<String>,
}

/// The rows an activity list selects: [`ActivityFilter`]'s visibility and status reduced to
/// one case, so that a store can give each case SQL of its own (and a plan that can use an
/// index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityRows {
    /// Every activity.
    All,
    /// Those in this status.
    Status(ActivityStatus),
    /// The published ones.
    Published,
    /// The published ones and this owner's unpublished ones.
    PublishedOrOwnedBy(Uuid),
    /// This owner's unpublished ones, optionally in one status.
    OwnUnpublished(Uuid, Option<ActivityStatus>),
}

impl ActivityFilter {
    /// The rows the filter's visibility and status select; `None` when the visibility hides
    /// the status asked for, so nothing can match.
    pub fn rows(&self) -> Option<ActivityRows> {
        Some(match (self.visibility, self.status) {
            (ActivityVisibility::All, None) => ActivityRows::All,
            (ActivityVisibility::All, Some(status)) => ActivityRows::Status(status),
            (_, Some(ActivityStatus::Published)) | (ActivityVisibility::Published, None) => {
                ActivityRows::Published
            }
            (ActivityVisibility::Published, Some(_)) => return None,
            (ActivityVisibility::PublishedOrOwnedBy(owner), None) => {
                ActivityRows::PublishedOrOwnedBy(owner)
            }
            (ActivityVisibility::PublishedOrOwnedBy(owner), Some(status)) => {
                ActivityRows::OwnUnpublished(owner, Some(status))
            }
        })
    }
}

/// Persistence of activities.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ActivityRepository: Send + Sync {
    /// Inserts an activity.
    async fn create(&self, activity: Activity) -> PortResult<Activity>;

    /// The activity with this id.
    async fn find(&self, id: Uuid) -> PortResult<Option<Activity>>;

    /// A page of visible activities matching the filter, newest first (then by id).
    async fn list(&self, filter: &ActivityFilter, page: Page) -> PortResult<Paginated<Activity>>;

    /// Replaces content, policies, status, `published_at` and `updated_at`.
    ///
    /// Errors: `NotFound` when the activity does not exist.
    async fn update(&self, activity: &Activity) -> PortResult<Activity>;
}

/// Which sessions a caller may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionVisibility {
    /// Everything (admins).
    All,
    /// Sessions of this student plus sessions on activities this user owns.
    Involving(Uuid),
}

/// Filters of the session list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionFilter {
    /// Visibility rule.
    pub visibility: SessionVisibility,
    /// Only this status.
    pub status: Option<SessionStatus>,
    /// Only sessions on this activity.
    pub activity_id: Option<Uuid>,
}

/// Persistence of study sessions and their evaluations.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait StudySessionRepository: Send + Sync {
    /// Inserts a session.
    ///
    /// Errors: `Conflict::ActiveSession` when the student already has an active session on
    /// the activity (enforced by the store, so concurrent starts cannot both succeed);
    /// `NotFound` when the student or activity does not exist.
    async fn create(&self, session: StudySession) -> PortResult<StudySession>;

    /// The session with this id.
    async fn find(&self, id: Uuid) -> PortResult<Option<StudySession>>;

    /// The session with this id and its activity, read together (one statement: every
    /// request on a session needs both).
    async fn find_with_activity(&self, id: Uuid) -> PortResult<Option<(StudySession, Activity)>>;

    /// The session with this id, its activity and its past (as [`InteractionRepository::past`]
    /// reads it, with the last `history` interactions), in one read: what a turn needs before
    /// it asks the model.
    async fn find_for_turn(
        &self,
        id: Uuid,
        history: u32,
    ) -> PortResult<Option<(StudySession, Activity, Past)>>;

    /// A page of visible sessions matching the filter, newest first (then by id).
    async fn list(&self, filter: &SessionFilter, page: Page)
        -> PortResult<Paginated<StudySession>>;

    /// Ends an active session with `status` at `ended_at` and stores its evaluation, in one
    /// transaction.
    ///
    /// Errors: `NotFound`; `Conflict::SessionNotActive` when it is not active.
    async fn end(
        &self,
        id: Uuid,
        status: SessionStatus,
        ended_at: DateTime<Utc>,
        evaluation: Evaluation,
    ) -> PortResult<StudySession>;

    /// Applies `action` to the session if its status is still `from` (compare-and-set, so of
    /// concurrent changes only one applies); a final status (aborted) sets `ended_at = at`.
    ///
    /// Errors: `NotFound`; `Conflict::SessionTransition` (with the status found) when the
    /// status is no longer `from` or `action` is not allowed from it. Nothing changes on error.
    async fn transition(
        &self,
        id: Uuid,
        from: SessionStatus,
        action: SessionAction,
        at: DateTime<Utc>,
    ) -> PortResult<StudySession>;

    /// The evaluation of a session, once it ended.
    async fn find_evaluation(&self, session_id: Uuid) -> PortResult<Option<Evaluation>>;
}

/// An interaction with everything it produced, to be stored together.
#[derive(Debug, Clone, PartialEq)]
pub struct InteractionRecord {
    /// The interaction; its `seq` is assigned by the store.
    pub interaction: Interaction,
    /// Its traces.
    pub traces: Vec<CognitiveTrace>,
    /// Risks it raised.
    pub risks: Vec<Risk>,
    /// The session's rule state after this interaction, stored with it (see
    /// [`InteractionRepository::record`]); `None` leaves the stored state behind, so readers
    /// see none until a record brings one again.
    pub rule_state: Option<RuleState>,
}

/// The risk rules' running state of a session, opaque to the store: what the rules keep of
/// the session's past so a turn reads one row, not the whole session.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleState {
    /// Interactions folded into the state: the session's `interaction_count` it belongs to.
    pub turns: u32,
    /// The state, as the rules serialise it.
    pub data: serde_json::Value,
}

/// What a session's next turn builds on ([`InteractionRepository::past`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Past {
    /// The session's last interactions (as many as asked for), oldest first.
    pub recent: Vec<Interaction>,
    /// `turns` is the session's current `interaction_count`, and `data` the state stored for
    /// that count (`{}` for a session without interactions), or JSON `null` when none is
    /// current (stored before states existed, or last recorded without one): the caller then
    /// rebuilds it from the traces.
    pub rule_state: RuleState,
}

/// Persistence of interactions and cognitive traces.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait InteractionRepository: Send + Sync {
    /// Stores an interaction, its traces and its risks in one transaction: atomically takes
    /// the next `seq` of the session (incrementing its `interaction_count`) if the session is
    /// active and, when `max_interactions` is set, below it. A risk whose
    /// (session, kind, evidence_key) is already stored is skipped, not duplicated. Returns the
    /// record as stored (with `seq` set and only the risks actually inserted).
    ///
    /// With a `rule_state`, the interaction is stored only if the session's
    /// `interaction_count` is still `rule_state.turns - 1` (the state read before this turn is
    /// current), and the state is stored with it; a concurrent turn stored meanwhile makes it
    /// `Conflict::StaleTurnState`, and the caller re-reads the state and tries again.
    ///
    /// Errors: `NotFound` (no session); `Conflict::SessionNotActive`;
    /// `Conflict::InteractionLimit`; `Conflict::StaleTurnState`. Nothing is written on error.
    async fn record(
        &self,
        record: InteractionRecord,
        max_interactions: Option<u32>,
    ) -> PortResult<InteractionRecord>;

    /// What the session's next turn builds on, read in one statement: its last `limit`
    /// interactions and its rule state. `None` when the session does not exist.
    async fn past(&self, session_id: Uuid, limit: u32) -> PortResult<Option<Past>>;

    /// A page of the session's interactions by `seq`.
    async fn list(&self, session_id: Uuid, page: Page) -> PortResult<Paginated<Interaction>>;

    /// A page of the session's traces (by creation time, then level), optionally one level.
    async fn traces(
        &self,
        session_id: Uuid,
        level: Option<TraceLevel>,
        page: Page,
    ) -> PortResult<Paginated<CognitiveTrace>>;

    /// Every trace of the session, oldest first.
    async fn all_traces(&self, session_id: Uuid) -> PortResult<Vec<CognitiveTrace>>;

    /// The session's traces that `selection` picks, oldest first (in the order of
    /// [`InteractionRepository::all_traces`]).
    async fn selected_traces(
        &self,
        session_id: Uuid,
        selection: &TraceSelection,
    ) -> PortResult<Vec<CognitiveTrace>>;
}

/// A choice of a session's traces: those at any of `levels` and those of any of `kinds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceSelection {
    /// Traces at these levels.
    pub levels: &'static [TraceLevel],
    /// Traces of these kinds, whatever their level.
    pub kinds: &'static [TraceKind],
}

impl TraceSelection {
    /// Whether `trace` is picked.
    pub fn picks(&self, trace: &CognitiveTrace) -> bool {
        self.levels.contains(&trace.level) || self.kinds.contains(&trace.kind)
    }
}

/// Which risks a caller may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RiskScope {
    /// Everything (admins).
    All,
    /// Risks of sessions on activities this instructor owns.
    ActivityOwner(Uuid),
    /// Risks of one session.
    Session(Uuid),
}

/// Filters of the risk list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskFilter {
    /// Scope.
    pub scope: RiskScope,
    /// Only this level.
    pub level: Option<RiskLevel>,
    /// Only this dimension.
    pub dimension: Option<RiskDimension>,
    /// Only resolved (true) or open (false) risks.
    pub resolved: Option<bool>,
}

/// Persistence of risks.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait RiskRepository: Send + Sync {
    /// A page of risks matching the filter, newest first (then by id).
    async fn list(&self, filter: &RiskFilter, page: Page) -> PortResult<Paginated<Risk>>;

    /// The risk with this id.
    async fn find(&self, id: Uuid) -> PortResult<Option<Risk>>;

    /// Every risk of a session, oldest first.
    async fn for_session(&self, session_id: Uuid) -> PortResult<Vec<Risk>>;

    /// Marks a risk resolved and writes the audit row, in one transaction.
    ///
    /// Errors: `NotFound`; `Conflict::AlreadyResolved`.
    async fn resolve(
        &self,
        id: Uuid,
        resolved_by: Uuid,
        note: Option<String>,
        at: DateTime<Utc>,
        audit: NewAuditEntry,
    ) -> PortResult<Risk>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(
        visibility: ActivityVisibility,
        status: Option<ActivityStatus>,
    ) -> Option<ActivityRows> {
        ActivityFilter {
            visibility,
            status,
            tag: None,
        }
        .rows()
    }

    #[test]
    fn visibility_and_status_reduce_to_one_case() {
        let owner = Uuid::new_v4();
        let mine = ActivityVisibility::PublishedOrOwnedBy(owner);
        let draft = Some(ActivityStatus::Draft);
        let published = Some(ActivityStatus::Published);
        assert_eq!(rows(ActivityVisibility::All, None), Some(ActivityRows::All));
        assert_eq!(
            rows(ActivityVisibility::All, draft),
            Some(ActivityRows::Status(ActivityStatus::Draft))
        );
        assert_eq!(
            rows(ActivityVisibility::Published, None),
            Some(ActivityRows::Published)
        );
        assert_eq!(
            rows(ActivityVisibility::Published, published),
            Some(ActivityRows::Published)
        );
        assert_eq!(rows(ActivityVisibility::Published, draft), None);
        assert_eq!(
            rows(mine, None),
            Some(ActivityRows::PublishedOrOwnedBy(owner))
        );
        assert_eq!(rows(mine, published), Some(ActivityRows::Published));
        assert_eq!(
            rows(mine, draft),
            Some(ActivityRows::OwnUnpublished(
                owner,
                Some(ActivityStatus::Draft)
            ))
        );
    }
}
