//! [`UserRepository`].

use ainative_domain::{NewAuditEntry, Page, Paginated, User, UserPatch};
use ainative_ports::{NewUser, PortError, PortResult, UserFilter, UserRepository};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::audit::insert_audit;
use crate::columns::{read_all, read_one};
use crate::dialect::{Conn, Dialect, DialectSql};
use crate::error::map_err;
use crate::lists::{count, offset};
use crate::rows::{user as user_row, user_columns};
use crate::sessions::revoke_user_sessions;
use crate::statement::Stmt;
use crate::store::SqlStore;

/// The list filter; `$1` is the role (or NULL), `$2` the activity flag (or NULL).
fn list_filter(syntax: &crate::dialect::Syntax) -> String {
    format!(
        "WHERE ($1 IS NULL OR {}) AND ($2 IS NULL OR is_active = $2)",
        syntax.list_contains.apply("users.roles", "$1")
    )
}

static LIST: DialectSql = DialectSql::new(|syntax| {
    format!(
        "SELECT {} FROM users {} ORDER BY created_at, id LIMIT $3 OFFSET $4",
        user_columns!(),
        list_filter(syntax)
    )
});

static COUNT: DialectSql =
    DialectSql::new(|syntax| format!("SELECT COUNT(*) FROM users {}", list_filter(syntax)));

// An e-mail address holds '@' and a username cannot, so at most one row matches.
static FIND_BY_LOGIN: DialectSql = DialectSql::new(|syntax| {
    format!(
        "SELECT {} FROM users WHERE email = $1 OR {} LIMIT 1",
        user_columns!(),
        syntax.caseless_equals.apply("username", "$2")
    )
});

/// Inserts `user` on `conn` (inside the caller's transaction) and returns it as stored.
pub(crate) async fn insert_user<D: Dialect>(
    conn: &mut Conn<D>,
    user: &NewUser,
) -> PortResult<User> {
    let roles = user.roles.names();
    let row = Stmt::<D>::new(concat!(
        "INSERT INTO users (id, email, username, full_name, student_id, roles, tier, \
         is_active, is_verified, password_hash, login_count, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, $11, $11) RETURNING ",
        user_columns!()
    ))
    .bind(user.id)
    .bind(user.email.as_str())
    .bind(user.username.as_str())
    .bind(&user.full_name)
    .bind(user.student_id.as_deref())
    .bind(roles.as_slice())
    .bind(user.tier.as_str())
    .bind(user.is_active)
    .bind(user.is_verified)
    .bind(&user.password_hash)
    .bind(user.created_at)
    .fetch_one(conn)
    .await?;
    read_one(&row, "user", user_row::<D>)
}

#[async_trait]
impl<D: Dialect> UserRepository for SqlStore<D> {
    async fn create(&self, user: NewUser, audit: Option<NewAuditEntry>) -> PortResult<User> {
        self.call("users.create", async {
            let mut tx = self.begin_write().await?;
            let created = insert_user::<D>(&mut tx, &user).await?;
            if let Some(entry) = &audit {
                insert_audit::<D>(&mut tx, entry).await?;
            }
            tx.commit().await.map_err(map_err::<D>)?;
            Ok(created)
        })
        .await
    }

    async fn find_by_id(&self, id: Uuid) -> PortResult<Option<User>> {
        let find = Stmt::new(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE id = $1"
        ))
        .bind(id);
        self.call(
            "users.find_by_id",
            self.optional(find, "user", user_row::<D>),
        )
        .await
    }

    async fn find_by_login(&self, login: &str) -> PortResult<Option<User>> {
        let login = login.trim();
        let find = Stmt::new(FIND_BY_LOGIN.get::<D>())
            .bind(login.to_lowercase())
            .bind(login);
        self.call(
            "users.find_by_login",
            self.optional(find, "user", user_row::<D>),
        )
        .await
    }

    async fn record_login(&self, id: Uuid, at: DateTime<Utc>) -> PortResult<()> {
        self.call("users.record_login", async {
            let changed = Stmt::<D>::new(
                "UPDATE users SET last_login = $2, login_count = login_count + 1 WHERE id = $1",
            )
            .bind(id)
            .bind(at)
            .execute(&mut *self.conn().await?)
            .await?;
            if changed == 0 {
                return Err(PortError::NotFound);
            }
            Ok(())
        })
        .await
    }

    async fn change_password(
        &self,
        id: Uuid,
        password_hash: &str,
        at: DateTime<Utc>,
    ) -> PortResult<Vec<Uuid>> {
        self.call("users.change_password", async {
            let mut tx = self.begin_write().await?;
            let changed = Stmt::<D>::new(
                "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1",
            )
            .bind(id)
            .bind(password_hash)
            .bind(at)
            .execute(&mut tx)
            .await?;
            if changed == 0 {
                return Err(PortError::NotFound);
            }
            let revoked = revoke_user_sessions::<D>(&mut tx, id, at).await?;
            tx.commit().await.map_err(map_err::<D>)?;
            Ok(revoked)
        })
        .await
    }

    async fn list(&self, filter: &UserFilter, page: Page) -> PortResult<Paginated<User>> {
        self.call("users.list", async {
            let role = filter.role.map(|r| r.as_str());
            let mut conn = self.conn().await?;
            let rows = Stmt::<D>::new(LIST.get::<D>())
                .bind(role)
                .bind(filter.is_active)
                .bind(i64::from(page.limit()))
                .bind(offset(page))
                .fetch_all(&mut conn)
                .await?;
            let total = Stmt::<D>::new(COUNT.get::<D>())
                .bind(role)
                .bind(filter.is_active)
                .fetch_one(&mut conn)
                .await?;
            let total = count::<D>(&total)?;
            Ok(Paginated::new(
                read_all(&rows, "user", user_row::<D>)?,
                total,
                page,
            ))
        })
        .await
    }

    async fn apply_patch(
        &self,
        id: Uuid,
        patch: &UserPatch,
        audit: NewAuditEntry,
        revoke_sessions: bool,
    ) -> PortResult<(User, Vec<Uuid>)> {
        self.call("users.apply_patch", async {
            let mut tx = self.begin_write().await?;
            let roles = patch.roles.as_ref().map(|r| r.names());
            let row = Stmt::<D>::new(concat!(
                "UPDATE users SET roles = COALESCE($2, roles), tier = COALESCE($3, tier), \
                 is_active = COALESCE($4, is_active), updated_at = $5 WHERE id = $1 RETURNING ",
                user_columns!()
            ))
            .bind(id)
            .bind(roles.as_deref())
            .bind(patch.tier.map(|t| t.as_str()))
            .bind(patch.is_active)
            .bind(audit.at)
            .fetch_optional(&mut tx)
            .await?;
            let Some(row) = row else {
                return Err(PortError::NotFound);
            };
            let user = read_one(&row, "user", user_row::<D>)?;
            insert_audit::<D>(&mut tx, &audit).await?;
            let revoked = if revoke_sessions {
                revoke_user_sessions::<D>(&mut tx, id, audit.at).await?
            } else {
                Vec::new()
            };
            tx.commit().await.map_err(map_err::<D>)?;
            Ok((user, revoked))
        })
        .await
    }
}
