use std::sync::Arc;

use ainative_domain::{
    Activity, ActivityStatus, CognitiveTrace, Evaluation, Interaction, InteractionInput, Page,
    Paginated, Risk, SessionMode, SessionStatus, SimulatorType, StudySession, TraceLevel,
};
use ainative_ports::{
    ActivityRepository, Clock, InteractionRecord, InteractionRepository, RiskFilter,
    RiskRepository, RiskScope, SessionFilter, StudySessionRepository,
};
use uuid::Uuid;

use super::{Actor, TutoringError};
use crate::cognitive_path::{self, CognitivePath};
use crate::evaluator;
use crate::gateway::{GatewayFactory, InteractionStream, RequestContext};

/// What a student asks for when starting a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartSession {
    /// The activity to study.
    pub activity_id: Uuid,
    /// Mode.
    pub mode: SessionMode,
    /// Role of the simulator (simulator mode only).
    pub simulator_type: Option<SimulatorType>,
}

/// Sessions and everything read from them; interactions go through the AI gateway.
pub struct SessionService {
    sessions: Arc<dyn StudySessionRepository>,
    activities: Arc<dyn ActivityRepository>,
    interactions: Arc<dyn InteractionRepository>,
    risks: Arc<dyn RiskRepository>,
    gateways: Arc<GatewayFactory>,
    clock: Arc<dyn Clock>,
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
        }
    }

    /// Starts a session on a published activity; one active session per student and activity.
    pub async fn start(
        &self,
        actor: &Actor,
        request: StartSession,
    ) -> Result<StudySession, TutoringError> {
        StudySession::check_mode(request.mode, request.simulator_type)?;
        let activity = self
            .activities
            .find(request.activity_id)
            .await?
            .filter(|a| actor.can_see_activity(a))
            .ok_or(TutoringError::NotFound("activity"))?;
        if activity.status != ActivityStatus::Published {
            return Err(TutoringError::Conflict(
                "sessions can be started only on published activities".into(),
            ));
        }
        let session = StudySession {
            id: Uuid::new_v4(),
            student_id: actor.user_id,
            activity_id: activity.id,
            mode: request.mode,
            simulator_type: request.simulator_type,
            status: SessionStatus::Active,
            interaction_count: 0,
            started_at: self.clock.now(),
            ended_at: None,
        };
        self.sessions
            .create(session)
            .await
            .map_err(|e| TutoringError::from_port(e, "activity"))
    }

    /// A page of the sessions the caller may see.
    pub async fn list(
        &self,
        actor: &Actor,
        status: Option<SessionStatus>,
        activity_id: Option<Uuid>,
        page: Page,
    ) -> Result<Paginated<StudySession>, TutoringError> {
        let filter = SessionFilter {
            visibility: actor.session_visibility(),
            status,
            activity_id,
        };
        Ok(self.sessions.list(&filter, page).await?)
    }

    /// The session and its activity, when the caller may read them.
    async fn readable(
        &self,
        actor: &Actor,
        id: Uuid,
    ) -> Result<(StudySession, Activity), TutoringError> {
        // Both reads at once: a session never changes activity.
        let (session, activity) =
            futures::try_join!(self.sessions.find(id), self.activities.find_for_session(id))?;
        let (Some(session), Some(activity)) = (session, activity) else {
            return Err(TutoringError::NotFound("session"));
        };
        if actor.can_read_session(&session, &activity) {
            Ok((session, activity))
        } else {
            Err(TutoringError::NotFound("session"))
        }
    }

    /// A session the caller may read.
    pub async fn get(&self, actor: &Actor, id: Uuid) -> Result<StudySession, TutoringError> {
        Ok(self.readable(actor, id).await?.0)
    }

    /// Ends an active session (its student or an admin) and stores its evaluation.
    pub async fn end(
        &self,
        actor: &Actor,
        id: Uuid,
    ) -> Result<(StudySession, Evaluation), TutoringError> {
        let (session, activity) = self.readable(actor, id).await?;
        if session.student_id != actor.user_id && !actor.is_admin() {
            return Err(TutoringError::Forbidden(
                "only the session's student or an admin may end it",
            ));
        }
        if session.status != SessionStatus::Active {
            return Err(TutoringError::Conflict("the session is not active".into()));
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

    async fn owned_active(
        &self,
        actor: &Actor,
        id: Uuid,
    ) -> Result<(StudySession, Activity), TutoringError> {
        let (session, activity) = self.readable(actor, id).await?;
        if session.student_id != actor.user_id {
            return Err(TutoringError::Forbidden(
                "only the session's student may interact",
            ));
        }
        if session.status != SessionStatus::Active {
            return Err(TutoringError::Conflict("the session is not active".into()));
        }
        Ok((session, activity))
    }

    /// Sends the student's input through the AI gateway; returns what was stored.
    pub async fn interact(
        &self,
        actor: &Actor,
        id: Uuid,
        input: InteractionInput,
        request_id: String,
    ) -> Result<InteractionRecord, TutoringError> {
        let (session, activity) = self.owned_active(actor, id).await?;
        let gateway = self.gateways.for_request(RequestContext {
            user_id: actor.user_id,
            request_id,
        });
        Ok(gateway.interact(&session, &activity, input).await?)
    }

    /// Like [`SessionService::interact`], streaming the answer.
    pub async fn interact_stream(
        &self,
        actor: &Actor,
        id: Uuid,
        input: InteractionInput,
        request_id: String,
    ) -> Result<InteractionStream, TutoringError> {
        let (session, activity) = self.owned_active(actor, id).await?;
        let gateway = self.gateways.for_request(RequestContext {
            user_id: actor.user_id,
            request_id,
        });
        Ok(gateway.interact_stream(&session, &activity, input).await?)
    }

    /// A page of the session's interactions.
    pub async fn interactions(
        &self,
        actor: &Actor,
        id: Uuid,
        page: Page,
    ) -> Result<Paginated<Interaction>, TutoringError> {
        self.readable(actor, id).await?;
        Ok(self.interactions.list(id, page).await?)
    }

    /// A page of the session's traces.
    pub async fn traces(
        &self,
        actor: &Actor,
        id: Uuid,
        level: Option<TraceLevel>,
        page: Page,
    ) -> Result<Paginated<CognitiveTrace>, TutoringError> {
        self.readable(actor, id).await?;
        Ok(self.interactions.traces(id, level, page).await?)
    }

    /// The reconstructed cognitive path of the session.
    pub async fn cognitive_path(
        &self,
        actor: &Actor,
        id: Uuid,
    ) -> Result<CognitivePath, TutoringError> {
        self.readable(actor, id).await?;
        let traces = self.interactions.all_traces(id).await?;
        Ok(cognitive_path::reconstruct(&traces))
    }

    /// The risks of the session.
    pub async fn risks(
        &self,
        actor: &Actor,
        id: Uuid,
        page: Page,
    ) -> Result<Paginated<Risk>, TutoringError> {
        self.readable(actor, id).await?;
        let filter = RiskFilter {
            scope: RiskScope::Session(id),
            level: None,
            dimension: None,
            resolved: None,
        };
        Ok(self.risks.list(&filter, page).await?)
    }

    /// The evaluation, once the session ended.
    pub async fn evaluation(&self, actor: &Actor, id: Uuid) -> Result<Evaluation, TutoringError> {
        self.readable(actor, id).await?;
        self.sessions
            .find_evaluation(id)
            .await?
            .ok_or(TutoringError::NotFound("evaluation"))
    }
}
