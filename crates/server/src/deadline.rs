//! A deadline on every database call. sqlx bounds only the wait for a connection; a query
//! already sent to a server that stopped answering (without closing the connection) would
//! wait for TCP to give up. Bounding the whole call keeps SPEC §9: database-backed requests
//! answer 503 within `DB_POOL_TIMEOUT_SECS`, never hang.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use ainative_domain::{
    Activity, AuditEntry, CognitiveTrace, Evaluation, Interaction, NewAuditEntry, Page, Paginated,
    Risk, SessionStatus, StudySession, TraceLevel, User, UserPatch,
};
use ainative_http_api::Metrics;
use ainative_ports::{
    ActivityFilter, ActivityRepository, AuditLog, AuthSession, AuthSessionRepository,
    InteractionRecord, InteractionRepository, NewRefreshToken, NewUser, PortError, PortResult,
    RevokedSession, RiskFilter, RiskRepository, RotateOutcome, SessionFilter,
    StudySessionRepository, TraceSelection, UserFilter, UserRepository,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Wraps a port so that every call finishes within `limit`, else fails `Unavailable`; each
/// call's latency is recorded in `db_query_duration_seconds{op}` when metrics are given.
pub struct Deadline<T: ?Sized> {
    inner: Arc<T>,
    limit: Duration,
    metrics: Option<Arc<Metrics>>,
}

impl<T: ?Sized> Deadline<T> {
    /// Bounds every call of `inner` by `limit`.
    pub fn new(inner: Arc<T>, limit: Duration, metrics: Option<Arc<Metrics>>) -> Self {
        Self {
            inner,
            limit,
            metrics,
        }
    }

    async fn run<R>(
        &self,
        op: &'static str,
        call: impl Future<Output = PortResult<R>>,
    ) -> PortResult<R> {
        let started = std::time::Instant::now();
        let outcome = tokio::time::timeout(self.limit, call).await;
        if let Some(metrics) = &self.metrics {
            metrics
                .db_query
                .with_label_values(&[op])
                .observe(started.elapsed().as_secs_f64());
        }
        match outcome {
            Ok(result) => result,
            Err(_) => {
                tracing::warn!(
                    op,
                    limit_ms = self.limit.as_millis() as u64,
                    "database call exceeded its deadline"
                );
                Err(PortError::Unavailable(
                    (format!("database call {op} timed out")).into(),
                ))
            }
        }
    }
}

#[async_trait]
impl UserRepository for Deadline<dyn UserRepository> {
    async fn create(&self, user: NewUser, audit: Option<NewAuditEntry>) -> PortResult<User> {
        self.run("users.create", self.inner.create(user, audit))
            .await
    }
    async fn find_by_id(&self, id: Uuid) -> PortResult<Option<User>> {
        self.run("users.find_by_id", self.inner.find_by_id(id))
            .await
    }
    async fn find_by_login(&self, login: &str) -> PortResult<Option<User>> {
        self.run("users.find_by_login", self.inner.find_by_login(login))
            .await
    }
    async fn record_login(&self, id: Uuid, at: DateTime<Utc>) -> PortResult<()> {
        self.run("users.record_login", self.inner.record_login(id, at))
            .await
    }
    async fn change_password(
        &self,
        id: Uuid,
        password_hash: &str,
        at: DateTime<Utc>,
    ) -> PortResult<Vec<Uuid>> {
        self.run(
            "users.change_password",
            self.inner.change_password(id, password_hash, at),
        )
        .await
    }
    async fn list(&self, filter: &UserFilter, page: Page) -> PortResult<Paginated<User>> {
        self.run("users.list", self.inner.list(filter, page)).await
    }
    async fn apply_patch(
        &self,
        id: Uuid,
        patch: &UserPatch,
        audit: NewAuditEntry,
        revoke_sessions: bool,
    ) -> PortResult<(User, Vec<Uuid>)> {
        self.run(
            "users.apply_patch",
            self.inner.apply_patch(id, patch, audit, revoke_sessions),
        )
        .await
    }
}

#[async_trait]
impl AuthSessionRepository for Deadline<dyn AuthSessionRepository> {
    async fn start(&self, session: AuthSession, first: NewRefreshToken) -> PortResult<()> {
        self.run("sessions.start", self.inner.start(session, first))
            .await
    }
    async fn rotate(
        &self,
        presented_jti: Uuid,
        presented_hash: &str,
        next: NewRefreshToken,
        now: DateTime<Utc>,
    ) -> PortResult<RotateOutcome> {
        self.run(
            "sessions.rotate",
            self.inner.rotate(presented_jti, presented_hash, next, now),
        )
        .await
    }
    async fn find(&self, id: Uuid) -> PortResult<Option<AuthSession>> {
        self.run("sessions.find", self.inner.find(id)).await
    }
    async fn revoke(&self, id: Uuid, at: DateTime<Utc>) -> PortResult<bool> {
        self.run("sessions.revoke", self.inner.revoke(id, at)).await
    }
    async fn revoked_sessions(
        &self,
        since: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> PortResult<Vec<RevokedSession>> {
        self.run(
            "sessions.revoked_sessions",
            self.inner.revoked_sessions(since, now),
        )
        .await
    }
}

#[async_trait]
impl AuditLog for Deadline<dyn AuditLog> {
    async fn list(&self, page: Page) -> PortResult<Paginated<AuditEntry>> {
        self.run("audit.list", self.inner.list(page)).await
    }
}

#[async_trait]
impl ActivityRepository for Deadline<dyn ActivityRepository> {
    async fn create(&self, activity: Activity) -> PortResult<Activity> {
        self.run("activities.create", self.inner.create(activity))
            .await
    }
    async fn find(&self, id: Uuid) -> PortResult<Option<Activity>> {
        self.run("activities.find", self.inner.find(id)).await
    }
    async fn find_for_session(&self, session_id: Uuid) -> PortResult<Option<Activity>> {
        self.run(
            "activities.find_for_session",
            self.inner.find_for_session(session_id),
        )
        .await
    }
    async fn list(&self, filter: &ActivityFilter, page: Page) -> PortResult<Paginated<Activity>> {
        self.run("activities.list", self.inner.list(filter, page))
            .await
    }
    async fn update(&self, activity: &Activity) -> PortResult<Activity> {
        self.run("activities.update", self.inner.update(activity))
            .await
    }
}

#[async_trait]
impl StudySessionRepository for Deadline<dyn StudySessionRepository> {
    async fn create(&self, session: StudySession) -> PortResult<StudySession> {
        self.run("study_sessions.create", self.inner.create(session))
            .await
    }
    async fn find(&self, id: Uuid) -> PortResult<Option<StudySession>> {
        self.run("study_sessions.find", self.inner.find(id)).await
    }
    async fn list(
        &self,
        filter: &SessionFilter,
        page: Page,
    ) -> PortResult<Paginated<StudySession>> {
        self.run("study_sessions.list", self.inner.list(filter, page))
            .await
    }
    async fn end(
        &self,
        id: Uuid,
        status: SessionStatus,
        ended_at: DateTime<Utc>,
        evaluation: Evaluation,
    ) -> PortResult<StudySession> {
        self.run(
            "study_sessions.end",
            self.inner.end(id, status, ended_at, evaluation),
        )
        .await
    }
    async fn find_evaluation(&self, session_id: Uuid) -> PortResult<Option<Evaluation>> {
        self.run(
            "study_sessions.find_evaluation",
            self.inner.find_evaluation(session_id),
        )
        .await
    }
}

#[async_trait]
impl InteractionRepository for Deadline<dyn InteractionRepository> {
    async fn record(
        &self,
        record: InteractionRecord,
        max_interactions: Option<u32>,
    ) -> PortResult<InteractionRecord> {
        self.run(
            "interactions.record",
            self.inner.record(record, max_interactions),
        )
        .await
    }
    async fn list(&self, session_id: Uuid, page: Page) -> PortResult<Paginated<Interaction>> {
        self.run("interactions.list", self.inner.list(session_id, page))
            .await
    }
    async fn recent(&self, session_id: Uuid, limit: u32) -> PortResult<Vec<Interaction>> {
        self.run("interactions.recent", self.inner.recent(session_id, limit))
            .await
    }
    async fn traces(
        &self,
        session_id: Uuid,
        level: Option<TraceLevel>,
        page: Page,
    ) -> PortResult<Paginated<CognitiveTrace>> {
        self.run(
            "interactions.traces",
            self.inner.traces(session_id, level, page),
        )
        .await
    }
    async fn all_traces(&self, session_id: Uuid) -> PortResult<Vec<CognitiveTrace>> {
        self.run("interactions.all_traces", self.inner.all_traces(session_id))
            .await
    }
    async fn selected_traces(
        &self,
        session_id: Uuid,
        selection: &TraceSelection,
    ) -> PortResult<Vec<CognitiveTrace>> {
        self.run(
            "interactions.selected_traces",
            self.inner.selected_traces(session_id, selection),
        )
        .await
    }
}

#[async_trait]
impl RiskRepository for Deadline<dyn RiskRepository> {
    async fn list(&self, filter: &RiskFilter, page: Page) -> PortResult<Paginated<Risk>> {
        self.run("risks.list", self.inner.list(filter, page)).await
    }
    async fn find(&self, id: Uuid) -> PortResult<Option<Risk>> {
        self.run("risks.find", self.inner.find(id)).await
    }
    async fn for_session(&self, session_id: Uuid) -> PortResult<Vec<Risk>> {
        self.run("risks.for_session", self.inner.for_session(session_id))
            .await
    }
    async fn resolve(
        &self,
        id: Uuid,
        resolved_by: Uuid,
        note: Option<String>,
        at: DateTime<Utc>,
        audit: NewAuditEntry,
    ) -> PortResult<Risk> {
        self.run(
            "risks.resolve",
            self.inner.resolve(id, resolved_by, note, at, audit),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An audit log whose calls never finish, like a frozen database connection.
    struct Stuck;

    #[async_trait]
    impl AuditLog for Stuck {
        async fn list(&self, _page: Page) -> PortResult<Paginated<AuditEntry>> {
            std::future::pending().await
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_stuck_call_becomes_unavailable_at_the_deadline() {
        let inner: Arc<dyn AuditLog> = Arc::new(Stuck);
        let bounded = Deadline::new(inner, Duration::from_secs(5), None);
        let started = tokio::time::Instant::now();
        let result = bounded.list(Page::default()).await;
        assert!(matches!(result, Err(PortError::Unavailable(_))));
        assert_eq!(started.elapsed(), Duration::from_secs(5));
    }
}
