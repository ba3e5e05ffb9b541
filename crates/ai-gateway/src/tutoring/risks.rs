use std::sync::Arc;

use ainative_domain::{
    AccessDenied, AuditAction, NewAuditEntry, Page, Paginated, RequestContext, Risk, RiskDimension,
    RiskLevel, Scope,
};
use ainative_ports::{
    ActivityRepository, Clock, RiskFilter, RiskRepository, StudySessionRepository,
};
use uuid::Uuid;

use super::{access, TutoringError};

/// Risks across sessions, for instructors and admins.
pub struct RiskService {
    risks: Arc<dyn RiskRepository>,
    sessions: Arc<dyn StudySessionRepository>,
    activities: Arc<dyn ActivityRepository>,
    clock: Arc<dyn Clock>,
}

impl RiskService {
    /// Builds the service.
    pub fn new(
        risks: Arc<dyn RiskRepository>,
        sessions: Arc<dyn StudySessionRepository>,
        activities: Arc<dyn ActivityRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            risks,
            sessions,
            activities,
            clock,
        }
    }

    /// Risks of the caller's activities (instructors) or all (admins).
    pub async fn list(
        &self,
        ctx: &RequestContext,
        level: Option<RiskLevel>,
        dimension: Option<RiskDimension>,
        resolved: Option<bool>,
        page: Page,
    ) -> Result<Paginated<Risk>, TutoringError> {
        access::require(ctx, Scope::RisksRead)?;
        let filter = RiskFilter {
            scope: access::risk_scope(ctx)?,
            level,
            dimension,
            resolved,
        };
        Ok(self.risks.list(&filter, page).await?)
    }

    /// Resolves a risk (the activity's owner or an admin), audited in the same transaction.
    /// Resolving is a change to the activity's data: it takes the `activities:write` scope.
    pub async fn resolve(
        &self,
        ctx: &RequestContext,
        id: Uuid,
        note: Option<String>,
    ) -> Result<Risk, TutoringError> {
        access::require(ctx, Scope::ActivitiesWrite)?;
        let risk = self
            .risks
            .find(id)
            .await?
            .ok_or(TutoringError::NotFound("risk"))?;
        let session = self
            .sessions
            .find(risk.session_id)
            .await?
            .ok_or(TutoringError::NotFound("risk"))?;
        let activity = self
            .activities
            .find(session.activity_id)
            .await?
            .ok_or(TutoringError::NotFound("risk"))?;
        if !ctx.owns_activity(&activity) {
            // The student may know the risk exists; others may not.
            return Err(if session.student_id == ctx.user_id {
                AccessDenied::Rule("only the activity's owner or an admin may resolve risks").into()
            } else {
                TutoringError::NotFound("risk")
            });
        }
        if let Some(n) = &note {
            let problem = if n.chars().count() > 2000 {
                Some("must be at most 2000 characters")
            } else if ainative_domain::contains_nul(n) {
                Some(ainative_domain::NUL_MESSAGE)
            } else {
                None
            };
            if let Some(message) = problem {
                return Err(ainative_domain::ValidationErrors::single("note", message).into());
            }
        }
        let now = self.clock.now();
        let audit = NewAuditEntry {
            actor_id: Some(ctx.user_id),
            action: AuditAction::RiskResolved,
            target_type: "risk".into(),
            target_id: id,
            details: serde_json::json!({"kind": risk.kind.as_str(), "level": risk.level.as_str(), "note": note}),
            at: now,
        };
        self.risks
            .resolve(id, ctx.user_id, note, now, audit)
            .await
            .map_err(|e| TutoringError::from_port(e, "risk"))
    }
}
