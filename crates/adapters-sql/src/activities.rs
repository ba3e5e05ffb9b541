//! [`ActivityRepository`].

use ainative_domain::{Activity, Page, Paginated};
use ainative_ports::{ActivityFilter, ActivityRepository, ActivityRows, PortError, PortResult};
use async_trait::async_trait;
use uuid::Uuid;

use crate::audit::{and, offset};
use crate::columns::{read_one, Columns};
use crate::dialect::Dialect;
use crate::statement::{AsJson, SqlBuilder, Stmt};
use crate::store::SqlStore;
use crate::tutoring_rows::{activity as activity_row, activity_columns};

/// Pushes the `WHERE` clause of `rows` carrying `tag` (none when nothing is filtered).
fn push_filter<D: Dialect>(q: &mut SqlBuilder<D>, rows: ActivityRows, tag: Option<&str>) {
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
            // SQLite's `+` keeps it from a multi-index OR (every match, then a sort): it
            // walks `activities_created_at_idx` and stops after the page.
            q.push(and(&mut first))
                .push("(status = 'published' OR ")
                .push(D::SYNTAX.no_index)
                .push("owner_id = ")
                .push_bind(owner)
                .push(")");
        }
        ActivityRows::OwnUnpublished(owner, status) => {
            // Spelled as the predicate of `activities_unpublished_idx`, so that it applies.
            q.push(and(&mut first))
                .push("owner_id = ")
                .push_bind(owner)
                .push(" AND status <> 'published'");
            if let Some(status) = status {
                q.push(" AND status = ").push_bind(status.as_str());
            }
        }
    }
    if let Some(tag) = tag {
        // On PostgreSQL, containment: the form `activities_tags_idx` serves.
        let contains = D::SYNTAX.list_contains;
        q.push(and(&mut first))
            .push(contains.before)
            .push("activities.tags")
            .push(contains.between)
            .push_bind(tag)
            .push(contains.after);
    }
}

/// Pushes the size of the whole list as an expression. An instructor's list is counted in
/// two disjoint parts, published and own unpublished, each from an index alone.
fn push_total<D: Dialect>(q: &mut SqlBuilder<D>, rows: ActivityRows, tag: Option<&str>) {
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
fn push_count<D: Dialect>(q: &mut SqlBuilder<D>, rows: ActivityRows, tag: Option<&str>) {
    q.push("(SELECT COUNT(*) FROM activities");
    push_filter(q, rows, tag);
    q.push(")");
}

#[async_trait]
impl<D: Dialect> ActivityRepository for SqlStore<D> {
    async fn create(&self, activity: Activity) -> PortResult<Activity> {
        self.call("activities.create", async {
            let content = &activity.content;
            let row = Stmt::<D>::new(concat!(
                "INSERT INTO activities (id, title, description, instructions, subject, \
                 difficulty, tags, evaluation_criteria, policies, owner_id, status, published_at, \
                 created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING ",
                activity_columns!()
            ))
            .bind(activity.id)
            .bind(&content.title)
            .bind(&content.description)
            .bind(&content.instructions)
            .bind(&content.subject)
            .bind(content.difficulty.as_str())
            .bind(content.tags.as_slice())
            .bind(content.evaluation_criteria.as_slice())
            .bind(AsJson(&content.policies))
            .bind(activity.owner_id)
            .bind(activity.status.as_str())
            .bind(activity.published_at)
            .bind(activity.created_at)
            .bind(activity.updated_at)
            .fetch_one(&mut *self.conn().await?)
            .await?;
            read_one(&row, "activity", activity_row::<D>)
        })
        .await
    }

    async fn find(&self, id: Uuid) -> PortResult<Option<Activity>> {
        self.call("activities.find", async {
            let row = Stmt::<D>::new(concat!(
                "SELECT ",
                activity_columns!(),
                " FROM activities WHERE id = $1"
            ))
            .bind(id)
            .fetch_optional(&mut *self.conn().await?)
            .await?;
            row.map(|row| read_one(&row, "activity", activity_row::<D>))
                .transpose()
        })
        .await
    }

    async fn find_for_session(&self, session_id: Uuid) -> PortResult<Option<Activity>> {
        self.call("activities.find_for_session", async {
            let row = Stmt::<D>::new(concat!(
                "SELECT ",
                activity_columns!(),
                " FROM activities WHERE id = \
                 (SELECT activity_id FROM study_sessions WHERE id = $1)"
            ))
            .bind(session_id)
            .fetch_optional(&mut *self.conn().await?)
            .await?;
            row.map(|row| read_one(&row, "activity", activity_row::<D>))
                .transpose()
        })
        .await
    }

    async fn list(&self, filter: &ActivityFilter, page: Page) -> PortResult<Paginated<Activity>> {
        self.call("activities.list", async {
            let Some(rows) = filter.rows() else {
                return Ok(Paginated::new(Vec::new(), 0, page));
            };
            let tag = filter.tag.as_deref();
            // The total rides along as a column (an uncorrelated subquery, evaluated once):
            // one statement per page, and the page still stops after `limit` rows.
            let mut q = SqlBuilder::<D>::new(concat!("SELECT ", activity_columns!(), ", "));
            push_total(&mut q, rows, tag);
            q.push(" AS total FROM activities");
            push_filter(&mut q, rows, tag);
            q.push(" ORDER BY created_at DESC, id DESC LIMIT ")
                .push_bind(i64::from(page.limit()))
                .push(" OFFSET ")
                .push_bind(offset(page));
            let mut conn = self.conn().await?;
            let found = q.build().fetch_all(&mut conn).await?;
            let mut items = Vec::with_capacity(found.len());
            let mut total = None;
            for row in &found {
                let mut c = Columns::<D>::new(row, "activity");
                items.push(activity_row(&mut c)?);
                total = Some(c.then("count").get::<i64>()?);
            }
            let total = match total {
                Some(total) => total,
                // An empty page (past the end, or nothing matches) carries no total.
                None => {
                    let mut q = SqlBuilder::<D>::new("SELECT ");
                    push_total(&mut q, rows, tag);
                    let row = q.build().fetch_one(&mut conn).await?;
                    Columns::<D>::new(&row, "count").get::<i64>()?
                }
            };
            Ok(Paginated::new(
                items,
                u64::try_from(total).unwrap_or(0),
                page,
            ))
        })
        .await
    }

    async fn update(&self, activity: &Activity) -> PortResult<Activity> {
        self.call("activities.update", async {
            let content = &activity.content;
            let row = Stmt::<D>::new(concat!(
                "UPDATE activities SET title = $2, description = $3, instructions = $4, \
                 subject = $5, difficulty = $6, tags = $7, evaluation_criteria = $8, \
                 policies = $9, status = $10, published_at = $11, updated_at = $12 \
                 WHERE id = $1 RETURNING ",
                activity_columns!()
            ))
            .bind(activity.id)
            .bind(&content.title)
            .bind(&content.description)
            .bind(&content.instructions)
            .bind(&content.subject)
            .bind(content.difficulty.as_str())
            .bind(content.tags.as_slice())
            .bind(content.evaluation_criteria.as_slice())
            .bind(AsJson(&content.policies))
            .bind(activity.status.as_str())
            .bind(activity.published_at)
            .bind(activity.updated_at)
            .fetch_optional(&mut *self.conn().await?)
            .await?;
            row.map(|row| read_one(&row, "activity", activity_row::<D>))
                .transpose()?
                .ok_or(PortError::NotFound)
        })
        .await
    }
}
