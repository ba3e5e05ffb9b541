use std::sync::Arc;

use ainative_domain::{
    AccessDenied, Activity, ActivityStatus, CognitiveTrace, CredentialStatus, Evaluation,
    Interaction, InteractionInput, Page, Paginated, RequestContext, Risk, Scope, SessionAction,
    SessionMode, SessionStatus, SimulatorType, StudySession, TraceLevel, ValidationErrors,
};
use ainative_ports::{
    ActivityRepository, Clock, Conflict, InteractionRecord, InteractionRepository,
    LlmCredentialRepository, Past, RiskFilter, RiskRepository, RiskScope, SessionFilter,
    StudySessionRepository,
};
use uuid::Uuid;

use super::{access, TutoringError};
use crate::cognitive_path::{self, CognitivePath};
use crate::evaluator;
use crate::gateway::{GatewayFactory, InteractionStream, HISTORY_LIMIT};

/// What a student asks for when starting a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartSession {
    /// The activity to study.
    pub activity_id: Uuid,
    /// Mode.
    pub mode: SessionMode,
    /// Role of the simulator (simulator mode only).
    pub simulator_type: Option<SimulatorType>,
    /// A model credential of the student's own, where the activity allows it.
    pub llm_credential_id: Option<Uuid>,
}

/// Sessions and everything read from them; interactions go through the AI gateway.
pub struct SessionService {
    sessions: Arc<dyn StudySessionRepository>,
    activities: Arc<dyn ActivityRepository>,
    interactions: Arc<dyn InteractionRepository>,
    risks: Arc<dyn RiskRepository>,
    gateways: Arc<GatewayFactory>,
    clock: Arc<dyn Clock>,
    credentials: Option<Arc<dyn LlmCredentialRepository>>,
}

impl SessionService {
    /// Builds the service.
    pub fn new(
        sessions: Arc<dyn StudySessionRepository>,
        activities: Arc<dyn ActivityRepository>,
        interactions: Arc<dyn InteractionRepository>,
        risks: Arc<dyn RiskRepository>,
        gateways: Arc<GatewayFactory>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            sessions,
            activities,
            interactions,
            risks,
            gateways,
            clock,
            credentials: None,
        }
    }

    /// The same service checking the student's `llm_credential_id` against `credentials`
    /// (without it, a session cannot name a credential).
    pub fn with_credentials(mut self, credentials: Arc<dyn LlmCredentialRepository>) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// A credential named at start must be allowed by the activity, the caller's own and
    /// active (422 on `llm_credential_id` otherwise; another user's credential gets the
    /// message of an absent one, so its existence cannot be probed).
    async fn check_credential(
        &self,
        ctx: &RequestContext,
        activity: &Activity,
        id: Option<Uuid>,
    ) -> Result<(), TutoringError> {
        let Some(id) = id else {
            return Ok(());
        };
        let refuse = |message: &str| -> TutoringError {
            ValidationErrors::single("llm_credential_id", message).into()
        };
        if !activity.content.policies.allow_student_credentials {
            return Err(refuse(
                "the activity does not allow students' own model credentials",
            ));
        }
        let found = match &self.credentials {
            Some(repo) => repo
                .find(id)
                .await
                .map_err(|e| TutoringError::from_port(e, "credential"))?,
            None => None,
        };
        match found {
            Some(s) if s.credential.owner_id == ctx.user_id => {
                if s.credential.status == CredentialStatus::Active {
                    Ok(())
                } else {
                    Err(refuse("is suspended"))
                }
            }
            _ => Err(refuse("is not a model credential of yours")),
        }
    }

    /// Starts a session on a published activity; one active session per student and activity.
    pub async fn start(
        &self,
        ctx: &RequestContext,
        request: StartSession,
    ) -> Result<StudySession, TutoringError> {
        access::require(ctx, Scope::SessionsWrite)?;
        StudySession::check_mode(request.mode, request.simulator_type)?;
        let activity = self
            .activities
            .find(request.activity_id)
            .await?
            .filter(|a| ctx.can_see_activity(a))
            .ok_or(TutoringError::NotFound("activity"))?;
        if activity.status != ActivityStatus::Published {
            return Err(TutoringError::Conflict(Conflict::ActivityNotPublished));
        }
        self.check_credential(ctx, &activity, request.llm_credential_id)
            .await?;
        let session = StudySession {
            id: Uuid::new_v4(),
            student_id: ctx.user_id,
            activity_id: activity.id,
            mode: request.mode,
            simulator_type: request.simulator_type,
            status: SessionStatus::Active,
            interaction_count: 0,
            started_at: self.clock.now(),
            ended_at: None,
            llm_credential_id: request.llm_credential_id,
        };
        self.sessions
            .create(session)
            .await
            .map_err(|e| TutoringError::from_port(e, "activity"))
    }

    /// A page of the sessions the caller may see.
    pub async fn list(
        &self,
        ctx: &RequestContext,
        status: Option<SessionStatus>,
        activity_id: Option<Uuid>,
        page: Page,
    ) -> Result<Paginated<StudySession>, TutoringError> {
        access::require(ctx, Scope::SessionsRead)?;
        let filter = SessionFilter {
            visibility: access::session_visibility(ctx),
            status,
            activity_id,
        };
        Ok(self.sessions.list(&filter, page).await?)
    }

    /// The session and its activity, when the caller's credential carries `scope` and the
    /// caller may read them.
    async fn readable(
        &self,
        ctx: &RequestContext,
        scope: Scope,
        id: Uuid,
    ) -> Result<(StudySession, Activity), TutoringError> {
        access::require(ctx, scope)?;
        let found = self.sessions.find_with_activity(id).await?;
        let (session, activity) = found.ok_or(TutoringError::NotFound("session"))?;
        require_readable(ctx, &session, &activity)?;
        Ok((session, activity))
    }

    /// A session the caller may read.
    pub async fn get(&self, ctx: &RequestContext, id: Uuid) -> Result<StudySession, TutoringError> {
        Ok(self.readable(ctx, Scope::SessionsRead, id).await?.0)
    }

    /// Ends an active session (its student or an admin) and stores its evaluation.
    pub async fn end(
        &self,
        ctx: &RequestContext,
        id: Uuid,
    ) -> Result<(StudySession, Evaluation), TutoringError> {
        let (session, activity) = self.readable(ctx, Scope::SessionsWrite, id).await?;
        if session.student_id != ctx.user_id && !ctx.is_admin() {
            return Err(
                AccessDenied::Rule("only the session's student or an admin may end it").into(),
            );
        }
        // Spares the evaluation of a session that is over; the store's conditional end
        // settles races.
        if session.status != SessionStatus::Active {
            return Err(TutoringError::Conflict(Conflict::SessionNotActive));
        }
        let traces = self.interactions.all_traces(id).await?;
        let risks = self.risks.for_session(id).await?;
        let now = self.clock.now();
        let evaluation = evaluator::evaluate(&session, &traces, &risks, now);
        let evaluation = self.gateways.assist_evaluation(evaluation, &activity).await;
        let ended = self
            .sessions
            .end(id, SessionStatus::Completed, now, evaluation.clone())
            .await
            .map_err(|e| TutoringError::from_port(e, "session"))?;
        Ok((ended, evaluation))
    }

    /// Pauses, resumes or aborts a session. The session's student and admins may do all
    /// three; the activity's owner may abort (not pause or resume) a session on their
    /// activity. An abort is final and creates no evaluation.
    ///
    /// Errors: `NotFound` when the caller may not read the session; `Forbidden`;
    /// `Conflict::SessionTransition` when the status does not allow the action (also when a
    /// concurrent change won).
    pub async fn change_status(
        &self,
        ctx: &RequestContext,
        id: Uuid,
        action: SessionAction,
    ) -> Result<StudySession, TutoringError> {
        let (session, activity) = self.readable(ctx, Scope::SessionsWrite, id).await?;
        let student_or_admin = session.student_id == ctx.user_id || ctx.is_admin();
        let owner_aborts = action == SessionAction::Abort && activity.owner_id == ctx.user_id;
        if !student_or_admin && !owner_aborts {
            return Err(AccessDenied::Rule(
                "only the session's student or an admin may pause or resume it; the activity's \
                 owner may abort it",
            )
            .into());
        }
        self.sessions
            .transition(id, session.status, action, self.clock.now())
            .await
            .map_err(|e| TutoringError::from_port(e, "session"))
    }

    /// The session, its activity and its past, read together, when the caller is its
    /// student. Its status and limit are the gateway's to check, once (see
    /// `AIGateway::interact`).
    async fn own(
        &self,
        ctx: &RequestContext,
        id: Uuid,
    ) -> Result<(StudySession, Activity, Past), TutoringError> {
        access::require(ctx, Scope::SessionsWrite)?;
        let found = self.sessions.find_for_turn(id, HISTORY_LIMIT).await?;
        let (session, activity, past) = found.ok_or(TutoringError::NotFound("session"))?;
        require_readable(ctx, &session, &activity)?;
        if session.student_id != ctx.user_id {
            return Err(AccessDenied::Rule("only the session's student may interact").into());
        }
        Ok((session, activity, past))
    }

    /// Sends the student's input through the AI gateway; returns what was stored.
    pub async fn interact(
        &self,
        ctx: &RequestContext,
        id: Uuid,
        input: InteractionInput,
    ) -> Result<InteractionRecord, TutoringError> {
        let (session, activity, past) = self.own(ctx, id).await?;
        let gateway = self.gateways.for_request(ctx.clone());
        Ok(gateway
            .interact_after(&session, &activity, past, input)
            .await?)
    }

    /// Like [`SessionService::interact`], streaming the answer.
    pub async fn interact_stream(
        &self,
        ctx: &RequestContext,
        id: Uuid,
        input: InteractionInput,
    ) -> Result<InteractionStream, TutoringError> {
        let (session, activity, past) = self.own(ctx, id).await?;
        let gateway = self.gateways.for_request(ctx.clone());
        Ok(gateway
            .interact_stream_after(&session, &activity, past, input)
            .await?)
    }

    /// A page of the session's interactions.
    pub async fn interactions(
        &self,
        ctx: &RequestContext,
        id: Uuid,
        page: Page,
    ) -> Result<Paginated<Interaction>, TutoringError> {
        self.readable(ctx, Scope::SessionsRead, id).await?;
        Ok(self.interactions.list(id, page).await?)
    }

    /// A page of the session's traces.
    pub async fn traces(
        &self,
        ctx: &RequestContext,
        id: Uuid,
        level: Option<TraceLevel>,
        page: Page,
    ) -> Result<Paginated<CognitiveTrace>, TutoringError> {
        self.readable(ctx, Scope::SessionsRead, id).await?;
        Ok(self.interactions.traces(id, level, page).await?)
    }

    /// The reconstructed cognitive path of the session.
    pub async fn cognitive_path(
        &self,
        ctx: &RequestContext,
        id: Uuid,
    ) -> Result<CognitivePath, TutoringError> {
        self.readable(ctx, Scope::SessionsRead, id).await?;
        let traces = self.interactions.all_traces(id).await?;
        Ok(cognitive_path::reconstruct(&traces))
    }

    /// The risks of the session.
    pub async fn risks(
        &self,
        ctx: &RequestContext,
        id: Uuid,
        page: Page,
    ) -> Result<Paginated<Risk>, TutoringError> {
        self.readable(ctx, Scope::SessionsRead, id).await?;
        let filter = RiskFilter {
            scope: RiskScope::Session(id),
            level: None,
            dimension: None,
            resolved: None,
        };
        Ok(self.risks.list(&filter, page).await?)
    }

    /// The evaluation, once the session ended.
    pub async fn evaluation(
        &self,
        ctx: &RequestContext,
        id: Uuid,
    ) -> Result<Evaluation, TutoringError> {
        self.readable(ctx, Scope::SessionsRead, id).await?;
        self.sessions
            .find_evaluation(id)
            .await?
            .ok_or(TutoringError::NotFound("evaluation"))
    }
}

/// A session the caller may not read is not found: its existence is not disclosed.
fn require_readable(
    ctx: &RequestContext,
    session: &StudySession,
    activity: &Activity,
) -> Result<(), TutoringError> {
    if ctx.can_read_session(session, activity) {
        Ok(())
    } else {
        Err(TutoringError::NotFound("session"))
    }
}
