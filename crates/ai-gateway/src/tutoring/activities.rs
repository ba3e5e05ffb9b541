use std::sync::Arc;

use ainative_domain::{
    AccessDenied, Activity, ActivityDraft, ActivityStatus, Page, Paginated, RequestContext, Scope,
    ValidationErrors,
};
use ainative_ports::{
    ActivityFilter, ActivityRepository, Clock, Conflict, LlmCredentialRepository,
};
use uuid::Uuid;

use super::{access, TutoringError};

/// Activity content as received (validated by the domain).
pub type ActivityInput = ActivityDraft;

/// A partial change of an activity: absent fields stay as they are; `policies` is merged
/// field by field (a JSON object of the fields to change).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActivityPatch {
    /// New title.
    pub title: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New instructions.
    pub instructions: Option<String>,
    /// New subject.
    pub subject: Option<String>,
    /// New difficulty.
    pub difficulty: Option<ainative_domain::Difficulty>,
    /// New tags.
    pub tags: Option<Vec<String>>,
    /// New criteria.
    pub evaluation_criteria: Option<Vec<String>>,
    /// Policy fields to change.
    pub policies: Option<serde_json::Map<String, serde_json::Value>>,
}

impl ActivityPatch {
    fn apply(self, mut content: ActivityDraft) -> Result<ActivityDraft, TutoringError> {
        if let Some(v) = self.title {
            content.title = v;
        }
        if let Some(v) = self.description {
            content.description = v;
        }
        if let Some(v) = self.instructions {
            content.instructions = v;
        }
        if let Some(v) = self.subject {
            content.subject = v;
        }
        if let Some(v) = self.difficulty {
            content.difficulty = v;
        }
        if let Some(v) = self.tags {
            content.tags = v;
        }
        if let Some(v) = self.evaluation_criteria {
            content.evaluation_criteria = v;
        }
        if let Some(changes) = self.policies {
            let mut current = serde_json::to_value(&content.policies)
                .map_err(|e| TutoringError::Internal(Box::new(e)))?;
            if let Some(fields) = current.as_object_mut() {
                fields.extend(changes);
            }
            content.policies = serde_json::from_value(current).map_err(|e| {
                ainative_domain::ValidationErrors::single("policies", e.to_string())
            })?;
        }
        Ok(content.validated()?)
    }
}

/// Activities: authoring, publication, visibility.
pub struct ActivityService {
    activities: Arc<dyn ActivityRepository>,
    clock: Arc<dyn Clock>,
    credentials: Option<Arc<dyn LlmCredentialRepository>>,
}

impl ActivityService {
    /// Builds the service.
    pub fn new(activities: Arc<dyn ActivityRepository>, clock: Arc<dyn Clock>) -> Self {
        Self {
            activities,
            clock,
            credentials: None,
        }
    }

    /// The same service checking `policies.llm_credential_id` against `credentials`
    /// (without it, an activity cannot name a credential).
    pub fn with_credentials(mut self, credentials: Arc<dyn LlmCredentialRepository>) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// A named model credential must be one of the activity owner's (422 otherwise: another
    /// user's key must not pay for this activity, nor its existence be probed).
    async fn check_credential(
        &self,
        content: &ActivityDraft,
        owner_id: Uuid,
    ) -> Result<(), TutoringError> {
        let Some(id) = content.policies.llm_credential_id else {
            return Ok(());
        };
        let owned = match &self.credentials {
            Some(repo) => repo
                .find(id)
                .await
                .map_err(|e| TutoringError::from_port(e, "credential"))?
                .is_some_and(|s| s.credential.owner_id == owner_id),
            None => false,
        };
        if owned {
            Ok(())
        } else {
            Err(ValidationErrors::single(
                "policies.llm_credential_id",
                "is not a model credential of the activity's owner",
            )
            .into())
        }
    }

    /// Creates a draft activity owned by the caller (instructors and admins).
    pub async fn create(
        &self,
        ctx: &RequestContext,
        input: ActivityInput,
    ) -> Result<Activity, TutoringError> {
        access::require(ctx, Scope::ActivitiesWrite)?;
        access::require_author(ctx)?;
        let content = input.validated()?;
        self.check_credential(&content, ctx.user_id).await?;
        let now = self.clock.now();
        let activity = Activity {
            id: Uuid::new_v4(),
            content,
            owner_id: ctx.user_id,
            status: ActivityStatus::Draft,
            published_at: None,
            created_at: now,
            updated_at: now,
        };
        Ok(self.activities.create(activity).await?)
    }

    /// A page of the activities the caller may see.
    pub async fn list(
        &self,
        ctx: &RequestContext,
        status: Option<ActivityStatus>,
        tag: Option<String>,
        page: Page,
    ) -> Result<Paginated<Activity>, TutoringError> {
        access::require(ctx, Scope::ActivitiesRead)?;
        let filter = ActivityFilter {
            visibility: access::activity_visibility(ctx),
            status,
            tag: tag.map(|t| t.trim().to_lowercase()),
        };
        Ok(self.activities.list(&filter, page).await?)
    }

    /// An activity the caller may see.
    pub async fn get(&self, ctx: &RequestContext, id: Uuid) -> Result<Activity, TutoringError> {
        access::require(ctx, Scope::ActivitiesRead)?;
        self.visible(ctx, id).await
    }

    async fn visible(&self, ctx: &RequestContext, id: Uuid) -> Result<Activity, TutoringError> {
        let activity = self
            .activities
            .find(id)
            .await?
            .ok_or(TutoringError::NotFound("activity"))?;
        if ctx.can_see_activity(&activity) {
            Ok(activity)
        } else {
            Err(TutoringError::NotFound("activity"))
        }
    }

    async fn owned(&self, ctx: &RequestContext, id: Uuid) -> Result<Activity, TutoringError> {
        access::require(ctx, Scope::ActivitiesWrite)?;
        let activity = self.visible(ctx, id).await?;
        if ctx.owns_activity(&activity) {
            Ok(activity)
        } else {
            Err(AccessDenied::Rule("only the activity's owner or an admin may change it").into())
        }
    }

    /// Changes content and policies (owner or admin).
    pub async fn update(
        &self,
        ctx: &RequestContext,
        id: Uuid,
        patch: ActivityPatch,
    ) -> Result<Activity, TutoringError> {
        let mut activity = self.owned(ctx, id).await?;
        let before = activity.content.policies.llm_credential_id;
        activity.content = patch.apply(activity.content)?;
        if activity.content.policies.llm_credential_id != before {
            self.check_credential(&activity.content, activity.owner_id)
                .await?;
        }
        activity.updated_at = self.clock.now();
        self.activities
            .update(&activity)
            .await
            .map_err(|e| TutoringError::from_port(e, "activity"))
    }

    /// Publishes (first publication sets `published_at`) or archives an activity.
    pub async fn set_status(
        &self,
        ctx: &RequestContext,
        id: Uuid,
        status: ActivityStatus,
    ) -> Result<Activity, TutoringError> {
        let mut activity = self.owned(ctx, id).await?;
        if activity.status == status {
            return Ok(activity);
        }
        if status == ActivityStatus::Draft {
            return Err(TutoringError::Conflict(Conflict::BackToDraft));
        }
        let now = self.clock.now();
        if status == ActivityStatus::Published && activity.published_at.is_none() {
            activity.published_at = Some(now);
        }
        activity.status = status;
        activity.updated_at = now;
        self.activities
            .update(&activity)
            .await
            .map_err(|e| TutoringError::from_port(e, "activity"))
    }
}
