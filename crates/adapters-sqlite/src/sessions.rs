//! [`AuthSessionRepository`] on SQLite: sessions, refresh-token rotation and revocation.

use ainative_ports::{
    AuthSession, AuthSessionRepository, NewRefreshToken, PortError, PortResult, RevokedSession,
    RotateOutcome,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;
use uuid::fmt::Hyphenated;
use uuid::Uuid;

use crate::error::map_err;
use crate::rows::{id, session_columns, SessionRow};
use crate::store::SqliteStore;

/// Revokes every unrevoked session of `user_id` on `conn` (inside the caller's transaction);
/// returns their ids.
pub(crate) async fn revoke_user_sessions(
    conn: &mut SqliteConnection,
    user_id: Uuid,
    at: DateTime<Utc>,
) -> Result<Vec<Uuid>, sqlx::Error> {
    let ids: Vec<Hyphenated> = sqlx::query_scalar(
        "UPDATE auth_sessions SET revoked_at = ?2 \
         WHERE user_id = ?1 AND revoked_at IS NULL RETURNING id",
    )
    .bind(id(user_id))
    .bind(at)
    .fetch_all(conn)
    .await?;
    Ok(ids.into_iter().map(Hyphenated::into_uuid).collect())
}

async fn insert_token(
    conn: &mut SqliteConnection,
    session_id: Uuid,
    token: &NewRefreshToken,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO refresh_tokens (jti, session_id, token_hash, issued_at) \
         VALUES (?1, ?2, ?3, ?4)",
    )
    .bind(id(token.jti))
    .bind(id(session_id))
    .bind(&token.token_hash)
    .bind(token.issued_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The presented token with its family.
#[derive(sqlx::FromRow)]
struct Presented {
    token_hash: String,
    used_at: Option<DateTime<Utc>>,
    #[sqlx(flatten)]
    session: SessionRow,
}

/// Compares two strings in time independent of where they differ.
fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}

#[async_trait]
impl AuthSessionRepository for SqliteStore {
    #[tracing::instrument(name = "db.sessions.start", level = "debug", skip_all, fields(db.system = "sqlite"))]
    async fn start(&self, session: AuthSession, first: NewRefreshToken) -> PortResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO auth_sessions (id, user_id, created_at, expires_at, revoked_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(id(session.id))
        .bind(id(session.user_id))
        .bind(session.created_at)
        .bind(session.expires_at)
        .bind(session.revoked_at)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        insert_token(&mut tx, session.id, &first)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    #[tracing::instrument(name = "db.sessions.rotate", level = "debug", skip_all, fields(db.system = "sqlite"))]
    async fn rotate(
        &self,
        presented_jti: Uuid,
        presented_hash: &str,
        next: NewRefreshToken,
        now: DateTime<Utc>,
    ) -> PortResult<RotateOutcome> {
        // `BEGIN IMMEDIATE` serialises rotations: the read below already sees the outcome of
        // every earlier rotation, and the write needs no lock upgrade.
        let mut tx = self.begin_write().await?;
        let found: Option<Presented> = sqlx::query_as(
            "SELECT t.token_hash, t.used_at, s.id, s.user_id, s.created_at, s.expires_at, \
             s.revoked_at FROM refresh_tokens t JOIN auth_sessions s ON s.id = t.session_id \
             WHERE t.jti = ?1",
        )
        .bind(id(presented_jti))
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        let Some(found) = found else {
            return Ok(RotateOutcome::Unknown);
        };
        if !constant_time_eq(&found.token_hash, presented_hash) {
            return Ok(RotateOutcome::Unknown);
        }
        let session = AuthSession::from(found.session);
        if session.revoked_at.is_some() {
            return Ok(RotateOutcome::Revoked);
        }
        if now >= session.expires_at {
            return Ok(RotateOutcome::Expired);
        }
        if let Some(retired_at) = found.used_at {
            return Ok(RotateOutcome::Reused {
                session,
                retired_at,
            });
        }

        let retired = sqlx::query(
            "UPDATE refresh_tokens SET used_at = ?2, replaced_by = ?3 \
             WHERE jti = ?1 AND used_at IS NULL",
        )
        .bind(id(presented_jti))
        .bind(now)
        .bind(id(next.jti))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if retired.rows_affected() == 1 {
            insert_token(&mut tx, session.id, &next)
                .await
                .map_err(map_err)?;
            tx.commit().await.map_err(map_err)?;
            return Ok(RotateOutcome::Rotated(session));
        }

        // Not reachable while the transaction holds the write lock; kept so that the retire
        // step alone decides the race.
        let used_at: Option<DateTime<Utc>> =
            sqlx::query_scalar("SELECT used_at FROM refresh_tokens WHERE jti = ?1")
                .bind(id(presented_jti))
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?
                .flatten();
        match used_at {
            Some(retired_at) => Ok(RotateOutcome::Reused {
                session,
                retired_at,
            }),
            None => Err(PortError::Other(
                "refresh token changed concurrently during rotation".into(),
            )),
        }
    }

    #[tracing::instrument(name = "db.sessions.find", level = "debug", skip_all, fields(db.system = "sqlite"))]
    async fn find(&self, session_id: Uuid) -> PortResult<Option<AuthSession>> {
        let row: Option<SessionRow> = sqlx::query_as(concat!(
            "SELECT ",
            session_columns!(),
            " FROM auth_sessions WHERE id = ?1"
        ))
        .bind(id(session_id))
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(row.map(AuthSession::from))
    }

    #[tracing::instrument(name = "db.sessions.revoke", level = "debug", skip_all, fields(db.system = "sqlite"))]
    async fn revoke(&self, session_id: Uuid, at: DateTime<Utc>) -> PortResult<bool> {
        let done = sqlx::query(
            "UPDATE auth_sessions SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        )
        .bind(id(session_id))
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        if done.rows_affected() == 1 {
            return Ok(true);
        }
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM auth_sessions WHERE id = ?1)")
                .bind(id(session_id))
                .fetch_one(&self.pool)
                .await
                .map_err(map_err)?;
        if exists {
            Ok(false)
        } else {
            Err(PortError::NotFound)
        }
    }

    // Not traced: the revocation mirror polls this every few seconds outside any request,
    // and a root trace per poll would drown the useful ones.
    async fn revoked_sessions(
        &self,
        since: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> PortResult<Vec<RevokedSession>> {
        // Timestamps are RFC 3339 UTC text of one format, so text order is time order.
        let rows: Vec<(Hyphenated, DateTime<Utc>)> = sqlx::query_as(
            "SELECT id, expires_at FROM auth_sessions \
             WHERE revoked_at IS NOT NULL AND expires_at > ?2 \
             AND (?1 IS NULL OR revoked_at >= ?1) \
             ORDER BY revoked_at, id",
        )
        .bind(since)
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(rows
            .into_iter()
            .map(|(id, expires_at)| RevokedSession {
                id: id.into_uuid(),
                expires_at,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn compares_hashes() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
    }
}
