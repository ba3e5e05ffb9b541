use std::sync::Arc;

use ainative_domain::{
    AuditAction, NewAuditEntry, Page, Paginated, Risk, RiskDimension, RiskLevel,
};
use ainative_ports::{
    ActivityRepository, Clock, RiskFilter, RiskRepository, StudySessionRepository,
};
use uuid::Uuid;

use super::{Actor, TutoringError};

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
        actor: &Actor,
        level: Option<RiskLevel>,
        dimension: Option<RiskDimension>,
        resolved: Option<bool>,
        page: Page,
    ) -> Result<Paginated<Risk>, TutoringError> {
        let filter = RiskFilter {
            scope: actor.risk_scope()?,
            level,
            dimension,
            resolved,
        };
        Ok(self.risks.list(&filter, page).await?)
    }

    /// Resolves a risk (the activity's owner or an admin), audited in the same transaction.
    pub async fn resolve(
        &self,
        actor: &Actor,
        id: Uuid,
        note: Option<String>,
    ) -> Result<Risk, TutoringError> {
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
        if !actor.owns_activity(&activity) {
            // The student may know the risk exists; others may not.
            return Err(if session.student_id == actor.user_id {
                TutoringError::Forbidden("only the activity's owner or an admin may resolve risks")
            } else {
                TutoringError::NotFound("risk")
            });
        }
        if let Some(n) = &note {
            if n.chars().count() > 2000 {
                return Err(ainative_domain::ValidationErrors::single(
                    "note",
                    "must be at most 2000 characters",
                )
                .into());
            }
        }
        let now = self.clock.now();
        let audit = NewAuditEntry {
            actor_id: Some(actor.user_id),
            action: AuditAction::RiskResolved,
            target_type: "risk".into(),
            target_id: id,
            details: serde_json::json!({"kind": risk.kind.as_str(), "level": risk.level.as_str(), "note": note}),
            at: now,
        };
        self.risks
            .resolve(id, actor.user_id, note, now, audit)
            .await
            .map_err(|e| TutoringError::from_port(e, "risk"))
    }
}
