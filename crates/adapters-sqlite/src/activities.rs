//! [`ActivityRepository`] on SQLite.

use ainative_domain::{Activity, Page, Paginated};
use ainative_ports::{
    ActivityFilter, ActivityRepository, ActivityVisibility, PortError, PortResult,
};
use async_trait::async_trait;
use uuid::Uuid;

use crate::audit::{count, offset};
use crate::error::map_err;
use crate::rows::id;
use crate::store::SqliteStore;
use crate::tutoring_rows::{activity_columns, convert, to_json, ActivityRow};

/// The list filter: `?1` restricts to published ones (or, with `?2`, owned by that user),
/// `?3` is the status (or NULL), `?4` the tag (or NULL).
const LIST_FILTER: &str = "WHERE (NOT ?1 OR status = 'published' OR owner_id = ?2) \
     AND (?3 IS NULL OR status = ?3) \
     AND (?4 IS NULL OR EXISTS \
     (SELECT 1 FROM json_each(activities.tags) WHERE json_each.value = ?4))";

/// The visibility as bind values: whether only published ones are visible, and whose
/// unpublished ones are too.
fn visibility(visibility: ActivityVisibility) -> (bool, Option<Uuid>) {
    match visibility {
        ActivityVisibility::All => (false, None),
        ActivityVisibility::PublishedOrOwnedBy(owner) => (true, Some(owner)),
        ActivityVisibility::Published => (true, None),
    }
}

#[async_trait]
impl ActivityRepository for SqliteStore {
    #[tracing::instrument(name = "db.activities.create", level = "debug", skip_all, fields(db.system = "sqlite"))]
    async fn create(&self, activity: Activity) -> PortResult<Activity> {
        let content = &activity.content;
        let row: ActivityRow = sqlx::query_as(concat!(
            "INSERT INTO activities (id, title, description, instructions, subject, difficulty, \
             tags, evaluation_criteria, policies, owner_id, status, published_at, created_at, \
             updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) \
             RETURNING ",
            activity_columns!()
        ))
        .bind(id(activity.id))
        .bind(&content.title)
        .bind(&content.description)
        .bind(&content.instructions)
        .bind(&content.subject)
        .bind(content.difficulty.as_str())
        .bind(to_json("tags", &content.tags)?)
        .bind(to_json(
            "evaluation criteria",
            &content.evaluation_criteria,
        )?)
        .bind(to_json("policies", &content.policies)?)
        .bind(id(activity.owner_id))
        .bind(activity.status.as_str())
        .bind(activity.published_at)
        .bind(activity.created_at)
        .bind(activity.updated_at)
        .fetch_one(&self.pool)
        .await
        .map_err(map_err)?;
        Activity::try_from(row)
    }

    #[tracing::instrument(name = "db.activities.find", level = "debug", skip_all, fields(db.system = "sqlite"))]
    async fn find(&self, activity_id: Uuid) -> PortResult<Option<Activity>> {
        let row: Option<ActivityRow> = sqlx::query_as(concat!(
            "SELECT ",
            activity_columns!(),
            " FROM activities WHERE id = ?1"
        ))
        .bind(id(activity_id))
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        row.map(Activity::try_from).transpose()
    }

    #[tracing::instrument(name = "db.activities.list", level = "debug", skip_all, fields(db.system = "sqlite"))]
    async fn list(&self, filter: &ActivityFilter, page: Page) -> PortResult<Paginated<Activity>> {
        let (published_only, owner) = visibility(filter.visibility);
        let status = filter.status.map(|s| s.as_str());
        let rows: Vec<ActivityRow> = sqlx::query_as(&format!(
            "SELECT {} FROM activities {LIST_FILTER} \
             ORDER BY created_at DESC, id DESC LIMIT ?5 OFFSET ?6",
            activity_columns!()
        ))
        .bind(published_only)
        .bind(owner.map(id))
        .bind(status)
        .bind(filter.tag.as_deref())
        .bind(i64::from(page.limit()))
        .bind(offset(page))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        let total: i64 =
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM activities {LIST_FILTER}"))
                .bind(published_only)
                .bind(owner.map(id))
                .bind(status)
                .bind(filter.tag.as_deref())
                .fetch_one(&self.pool)
                .await
                .map_err(map_err)?;
        Ok(Paginated::new(convert(rows)?, count(total), page))
    }

    #[tracing::instrument(name = "db.activities.update", level = "debug", skip_all, fields(db.system = "sqlite"))]
    async fn update(&self, activity: &Activity) -> PortResult<Activity> {
        let content = &activity.content;
        let row: Option<ActivityRow> = sqlx::query_as(concat!(
            "UPDATE activities SET title = ?2, description = ?3, instructions = ?4, \
             subject = ?5, difficulty = ?6, tags = ?7, evaluation_criteria = ?8, policies = ?9, \
             status = ?10, published_at = ?11, updated_at = ?12 WHERE id = ?1 RETURNING ",
            activity_columns!()
        ))
        .bind(id(activity.id))
        .bind(&content.title)
        .bind(&content.description)
        .bind(&content.instructions)
        .bind(&content.subject)
        .bind(content.difficulty.as_str())
        .bind(to_json("tags", &content.tags)?)
        .bind(to_json(
            "evaluation criteria",
            &content.evaluation_criteria,
        )?)
        .bind(to_json("policies", &content.policies)?)
        .bind(activity.status.as_str())
        .bind(activity.published_at)
        .bind(activity.updated_at)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        row.map(Activity::try_from)
            .transpose()?
            .ok_or(PortError::NotFound)
    }
}
