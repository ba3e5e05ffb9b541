//! [`ActivityRepository`] on SQLite.

use ainative_domain::{Activity, Page, Paginated};
use ainative_ports::{ActivityFilter, ActivityRepository, ActivityRows, PortError, PortResult};
use async_trait::async_trait;
use sqlx::{QueryBuilder, Sqlite};
use uuid::Uuid;

use crate::audit::{and, count, offset};
use crate::error::map_err;
use crate::rows::id;
use crate::store::SqliteStore;
use crate::tutoring_rows::{activity_columns, to_json, ActivityRow};

/// Pushes the `WHERE` clause of `rows` carrying `tag` (none when nothing is filtered).
fn push_filter<'a>(q: &mut QueryBuilder<'a, Sqlite>, rows: ActivityRows, tag: Option<&'a str>) {
    let mut first = true;
    match rows {
        ActivityRows::All => {}
        ActivityRows::Status(status) => {
            q.push(and(&mut first))
                .push("status = ")
                .push_bind(status.as_str());
        }
        ActivityRows::Published => {
            q.push(and(&mut first)).push("status = 'published'");
        }
        ActivityRows::PublishedOrOwnedBy(owner) => {
            // The unary `+` keeps SQLite from a multi-index OR (every match, then a sort):
            // it walks `activities_created_at_idx` and stops after the page.
            q.push(and(&mut first))
                .push("(status = 'published' OR +owner_id = ")
                .push_bind(id(owner))
                .push(")");
        }
        ActivityRows::OwnUnpublished(owner, status) => {
            // Spelled as the predicate of `activities_unpublished_idx`, so that it applies.
            q.push(and(&mut first))
                .push("owner_id = ")
                .push_bind(id(owner))
                .push(" AND status <> 'published'");
            if let Some(status) = status {
                q.push(" AND status = ").push_bind(status.as_str());
            }
        }
    }
    if let Some(tag) = tag {
        q.push(and(&mut first))
            .push("EXISTS (SELECT 1 FROM json_each(activities.tags) WHERE json_each.value = ")
            .push_bind(tag)
            .push(")");
    }
}

/// Pushes the size of the whole list as an expression. An instructor's list is counted in
/// two disjoint parts, published and own unpublished, each from an index alone.
fn push_total<'a>(q: &mut QueryBuilder<'a, Sqlite>, rows: ActivityRows, tag: Option<&'a str>) {
    match rows {
        ActivityRows::PublishedOrOwnedBy(owner) => {
            push_count(q, ActivityRows::Published, tag);
            q.push(" + ");
            push_count(q, ActivityRows::OwnUnpublished(owner, None), tag);
        }
        rows => push_count(q, rows, tag),
    }
}

/// Pushes `(SELECT COUNT(*) …)` of `rows` carrying `tag`.
fn push_count<'a>(q: &mut QueryBuilder<'a, Sqlite>, rows: ActivityRows, tag: Option<&'a str>) {
    q.push("(SELECT COUNT(*) FROM activities");
    push_filter(q, rows, tag);
    q.push(")");
}

/// A row of the page with the size of the whole list.
#[derive(Debug, sqlx::FromRow)]
struct CountedRow {
    #[sqlx(flatten)]
    row: ActivityRow,
    total: i64,
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

    #[tracing::instrument(name = "db.activities.find_for_session", level = "debug", skip_all, fields(db.system = "sqlite"))]
    async fn find_for_session(&self, session_id: Uuid) -> PortResult<Option<Activity>> {
        let row: Option<ActivityRow> = sqlx::query_as(concat!(
            "SELECT ",
            activity_columns!(),
            " FROM activities WHERE id = (SELECT activity_id FROM study_sessions WHERE id = ?1)"
        ))
        .bind(id(session_id))
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        row.map(Activity::try_from).transpose()
    }

    #[tracing::instrument(name = "db.activities.list", level = "debug", skip_all, fields(db.system = "sqlite"))]
    async fn list(&self, filter: &ActivityFilter, page: Page) -> PortResult<Paginated<Activity>> {
        let Some(rows) = filter.rows() else {
            return Ok(Paginated::new(Vec::new(), 0, page));
        };
        let tag = filter.tag.as_deref();
        // The total rides along as a column (an uncorrelated subquery, evaluated once): one
        // statement per page, and the page still stops after `limit` rows.
        let mut q = QueryBuilder::new(concat!("SELECT ", activity_columns!(), ", "));
        push_total(&mut q, rows, tag);
        q.push(" AS total FROM activities");
        push_filter(&mut q, rows, tag);
        q.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(page.limit()))
            .push(" OFFSET ")
            .push_bind(offset(page));
        let found: Vec<CountedRow> = q
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        let total = match found.first() {
            Some(first) => first.total,
            // An empty page (past the end, or nothing matches) carries no total.
            None => {
                let mut q = QueryBuilder::new("SELECT ");
                push_total(&mut q, rows, tag);
                q.build_query_scalar()
                    .fetch_one(&self.pool)
                    .await
                    .map_err(map_err)?
            }
        };
        let items = found
            .into_iter()
            .map(|found| Activity::try_from(found.row))
            .collect::<PortResult<Vec<_>>>()?;
        Ok(Paginated::new(items, count(total), page))
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
