//! [`ActivityRepository`].

use ainative_domain::{Activity, ActivityDraft, Page, Paginated};
use ainative_ports::{ActivityFilter, ActivityRepository, ActivityRows, PortError, PortResult};
use async_trait::async_trait;
use uuid::Uuid;

use crate::dialect::Dialect;
use crate::lists::{and, counted_page, offset};
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

/// Binds `$2` to `$9`: the content, as both `INSERT` and `UPDATE` list it.
fn bind_content<D: Dialect>(stmt: Stmt<D>, content: &ActivityDraft) -> Stmt<D> {
    stmt.bind(&content.title)
        .bind(&content.description)
        .bind(&content.instructions)
        .bind(&content.subject)
        .bind(content.difficulty.as_str())
        .bind(content.tags.as_slice())
        .bind(content.evaluation_criteria.as_slice())
        .bind(AsJson(&content.policies))
}

#[async_trait]
impl<D: Dialect> ActivityRepository for SqlStore<D> {
    async fn create(&self, activity: Activity) -> PortResult<Activity> {
        let insert = Stmt::new(concat!(
            "INSERT INTO activities (id, title, description, instructions, subject, difficulty, \
             tags, evaluation_criteria, policies, owner_id, status, published_at, created_at, \
             updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING ",
            activity_columns!()
        ))
        .bind(activity.id);
        let insert = bind_content(insert, &activity.content)
            .bind(activity.owner_id)
            .bind(activity.status.as_str())
            .bind(activity.published_at)
            .bind(activity.created_at)
            .bind(activity.updated_at);
        self.call("activities.create", async {
            let created = self.optional(insert, "activity", activity_row::<D>).await?;
            created.ok_or_else(|| PortError::Other("an insert returned no row".into()))
        })
        .await
    }

    async fn find(&self, id: Uuid) -> PortResult<Option<Activity>> {
        let find = Stmt::new(concat!(
            "SELECT ",
            activity_columns!(),
            " FROM activities WHERE id = $1"
        ))
        .bind(id);
        self.call(
            "activities.find",
            self.optional(find, "activity", activity_row::<D>),
        )
        .await
    }

    async fn list(&self, filter: &ActivityFilter, page: Page) -> PortResult<Paginated<Activity>> {
        let Some(rows) = filter.rows() else {
            return Ok(Paginated::new(Vec::new(), 0, page));
        };
        let tag = filter.tag.as_deref();
        // The total rides along as a column (an uncorrelated subquery, evaluated once): one
        // statement per page, and the page still stops after `limit` rows.
        let mut q = SqlBuilder::<D>::new(concat!("SELECT ", activity_columns!(), ", "));
        push_total(&mut q, rows, tag);
        q.push(" AS total FROM activities");
        push_filter(&mut q, rows, tag);
        q.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(page.limit()))
            .push(" OFFSET ")
            .push_bind(offset(page));
        let count = || {
            let mut q = SqlBuilder::<D>::new("SELECT ");
            push_total(&mut q, rows, tag);
            q.build()
        };
        self.call("activities.list", async {
            let mut conn = self.conn().await?;
            let (items, total) =
                counted_page::<D, _>(&mut conn, q.build(), "activity", activity_row::<D>, count)
                    .await?;
            Ok(Paginated::new(items, total, page))
        })
        .await
    }

    async fn update(&self, activity: &Activity) -> PortResult<Activity> {
        let update = Stmt::new(concat!(
            "UPDATE activities SET title = $2, description = $3, instructions = $4, \
             subject = $5, difficulty = $6, tags = $7, evaluation_criteria = $8, policies = $9, \
             status = $10, published_at = $11, updated_at = $12 WHERE id = $1 RETURNING ",
            activity_columns!()
        ))
        .bind(activity.id);
        let update = bind_content(update, &activity.content)
            .bind(activity.status.as_str())
            .bind(activity.published_at)
            .bind(activity.updated_at);
        self.call("activities.update", async {
            self.optional(update, "activity", activity_row::<D>)
                .await?
                .ok_or(PortError::NotFound)
        })
        .await
    }
}
