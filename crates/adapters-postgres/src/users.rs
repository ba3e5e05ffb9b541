//! [`UserRepository`] on PostgreSQL.

use ainative_domain::{NewAuditEntry, Page, Paginated, User, UserPatch};
use ainative_ports::{NewUser, PortError, PortResult, UserFilter, UserRepository};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::audit::{count, insert_audit, offset};
use crate::error::map_err;
use crate::rows::{user_columns, UserRow};
use crate::sessions::revoke_user_sessions;
use crate::store::PgStore;

/// The list filter; `$1` is the role (or NULL), `$2` the activity flag (or NULL).
const LIST_FILTER: &str =
    "WHERE ($1::TEXT IS NULL OR $1 = ANY(roles)) AND ($2::BOOLEAN IS NULL OR is_active = $2)";

#[async_trait]
impl UserRepository for PgStore {
    #[tracing::instrument(name = "db.users.create", level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn create(&self, user: NewUser, audit: Option<NewAuditEntry>) -> PortResult<User> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let row: UserRow = sqlx::query_as(concat!(
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
        .bind(user.roles.names())
        .bind(user.tier.as_str())
        .bind(user.is_active)
        .bind(user.is_verified)
        .bind(&user.password_hash)
        .bind(user.created_at)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        if let Some(entry) = &audit {
            insert_audit(&mut tx, entry).await.map_err(map_err)?;
        }
        let created = User::try_from(row)?;
        tx.commit().await.map_err(map_err)?;
        Ok(created)
    }

    #[tracing::instrument(name = "db.users.find_by_id", level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn find_by_id(&self, id: Uuid) -> PortResult<Option<User>> {
        let row: Option<UserRow> = sqlx::query_as(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        row.map(User::try_from).transpose()
    }

    #[tracing::instrument(name = "db.users.find_by_login", level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn find_by_login(&self, login: &str) -> PortResult<Option<User>> {
        let login = login.trim();
        // An e-mail address holds '@' and a username cannot, so at most one row matches.
        let row: Option<UserRow> = sqlx::query_as(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE email = $1 OR lower(username) = lower($2) LIMIT 1"
        ))
        .bind(login.to_lowercase())
        .bind(login)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        row.map(User::try_from).transpose()
    }

    #[tracing::instrument(name = "db.users.record_login", level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn record_login(&self, id: Uuid, at: DateTime<Utc>) -> PortResult<()> {
        let done = sqlx::query(
            "UPDATE users SET last_login = $2, login_count = login_count + 1 WHERE id = $1",
        )
        .bind(id)
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Err(PortError::NotFound);
        }
        Ok(())
    }

    #[tracing::instrument(name = "db.users.change_password", level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn change_password(
        &self,
        id: Uuid,
        password_hash: &str,
        at: DateTime<Utc>,
    ) -> PortResult<Vec<Uuid>> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let done =
            sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
                .bind(id)
                .bind(password_hash)
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Err(PortError::NotFound);
        }
        let revoked = revoke_user_sessions(&mut tx, id, at)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(revoked)
    }

    #[tracing::instrument(name = "db.users.list", level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn list(&self, filter: &UserFilter, page: Page) -> PortResult<Paginated<User>> {
        let role = filter.role.map(|r| r.as_str());
        let rows: Vec<UserRow> = sqlx::query_as(&format!(
            "SELECT {} FROM users {LIST_FILTER} ORDER BY created_at, id LIMIT $3 OFFSET $4",
            user_columns!()
        ))
        .bind(role)
        .bind(filter.is_active)
        .bind(i64::from(page.limit()))
        .bind(offset(page))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM users {LIST_FILTER}"))
            .bind(role)
            .bind(filter.is_active)
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        let items = rows
            .into_iter()
            .map(User::try_from)
            .collect::<PortResult<Vec<_>>>()?;
        Ok(Paginated::new(items, count(total), page))
    }

    #[tracing::instrument(name = "db.users.apply_patch", level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn apply_patch(
        &self,
        id: Uuid,
        patch: &UserPatch,
        audit: NewAuditEntry,
        revoke_sessions: bool,
    ) -> PortResult<(User, Vec<Uuid>)> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let row: Option<UserRow> = sqlx::query_as(concat!(
            "UPDATE users SET roles = COALESCE($2, roles), tier = COALESCE($3, tier), \
             is_active = COALESCE($4, is_active), updated_at = $5 WHERE id = $1 RETURNING ",
            user_columns!()
        ))
        .bind(id)
        .bind(patch.roles.as_ref().map(|r| r.names()))
        .bind(patch.tier.map(|t| t.as_str()))
        .bind(patch.is_active)
        .bind(audit.at)
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        let Some(row) = row else {
            return Err(PortError::NotFound);
        };
        let user = User::try_from(row)?;
        insert_audit(&mut tx, &audit).await.map_err(map_err)?;
        let revoked = if revoke_sessions {
            revoke_user_sessions(&mut tx, id, audit.at)
                .await
                .map_err(map_err)?
        } else {
            Vec::new()
        };
        tx.commit().await.map_err(map_err)?;
        Ok((user, revoked))
    }
}
