//! [`AuthSessionRepository`]: sessions, refresh-token rotation and revocation.

use ainative_ports::{
    AuthSession, AuthSessionRepository, NewRefreshToken, PortError, PortResult, RevokedSession,
    RotateOutcome,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::columns::Columns;
use crate::dialect::{Conn, Dialect};
use crate::error::map_err;
use crate::rows::{session, session_columns};
use crate::statement::Stmt;
use crate::store::SqlStore;

/// Revokes every unrevoked session of `user_id` on `conn` (inside the caller's transaction);
/// returns their ids.
pub(crate) async fn revoke_user_sessions<D: Dialect>(
    conn: &mut Conn<D>,
    user_id: Uuid,
    at: DateTime<Utc>,
) -> PortResult<Vec<Uuid>> {
    let rows = Stmt::<D>::new(
        "UPDATE auth_sessions SET revoked_at = $2 \
         WHERE user_id = $1 AND revoked_at IS NULL RETURNING id",
    )
    .bind(user_id)
    .bind(at)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| Columns::<D>::new(row, "session").uuid())
        .collect()
}

async fn insert_token<D: Dialect>(
    conn: &mut Conn<D>,
    session_id: Uuid,
    token: &NewRefreshToken,
) -> PortResult<()> {
    Stmt::<D>::new(
        "INSERT INTO refresh_tokens (jti, session_id, token_hash, issued_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(token.jti)
    .bind(session_id)
    .bind(&token.token_hash)
    .bind(token.issued_at)
    .execute(conn)
    .await?;
    Ok(())
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
impl<D: Dialect> AuthSessionRepository for SqlStore<D> {
    async fn start(&self, session: AuthSession, first: NewRefreshToken) -> PortResult<()> {
        self.call("sessions.start", async {
            let mut tx = self.begin_write().await?;
            Stmt::<D>::new(
                "INSERT INTO auth_sessions (id, user_id, created_at, expires_at, revoked_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(session.id)
            .bind(session.user_id)
            .bind(session.created_at)
            .bind(session.expires_at)
            .bind(session.revoked_at)
            .execute(&mut tx)
            .await?;
            insert_token::<D>(&mut tx, session.id, &first).await?;
            tx.commit().await.map_err(map_err::<D>)
        })
        .await
    }

    async fn rotate(
        &self,
        presented_jti: Uuid,
        presented_hash: &str,
        next: NewRefreshToken,
        now: DateTime<Utc>,
    ) -> PortResult<RotateOutcome> {
        self.call("sessions.rotate", async {
            // On SQLite the write transaction serialises rotations: the read below already
            // sees the outcome of every earlier one.
            let mut tx = self.begin_write().await?;
            let found = Stmt::<D>::new(
                "SELECT t.token_hash, t.used_at, s.id, s.user_id, s.created_at, s.expires_at, \
                 s.revoked_at FROM refresh_tokens t JOIN auth_sessions s ON s.id = t.session_id \
                 WHERE t.jti = $1",
            )
            .bind(presented_jti)
            .fetch_optional(&mut tx)
            .await?;
            let Some(found) = found else {
                return Ok(RotateOutcome::Unknown);
            };
            let mut c = Columns::<D>::new(&found, "refresh token");
            let token_hash: String = c.get()?;
            let used_at: Option<DateTime<Utc>> = c.get()?;
            let session = session(c.then("session"))?;
            if !constant_time_eq(&token_hash, presented_hash) {
                return Ok(RotateOutcome::Unknown);
            }
            if session.revoked_at.is_some() {
                return Ok(RotateOutcome::Revoked);
            }
            if now >= session.expires_at {
                return Ok(RotateOutcome::Expired);
            }
            if let Some(retired_at) = used_at {
                return Ok(RotateOutcome::Reused {
                    session,
                    retired_at,
                });
            }

            // The race is decided here: of concurrent transactions only one sees
            // `used_at IS NULL` (on PostgreSQL the others wait for its row lock and then
            // re-check the condition).
            let retired = Stmt::<D>::new(
                "UPDATE refresh_tokens SET used_at = $2, replaced_by = $3 \
                 WHERE jti = $1 AND used_at IS NULL",
            )
            .bind(presented_jti)
            .bind(now)
            .bind(next.jti)
            .execute(&mut tx)
            .await?;
            if retired == 1 {
                insert_token::<D>(&mut tx, session.id, &next).await?;
                tx.commit().await.map_err(map_err::<D>)?;
                return Ok(RotateOutcome::Rotated(session));
            }

            // Lost the race: a concurrent rotation retired the token and committed.
            let row = Stmt::<D>::new("SELECT used_at FROM refresh_tokens WHERE jti = $1")
                .bind(presented_jti)
                .fetch_optional(&mut tx)
                .await?;
            let used_at: Option<DateTime<Utc>> = match &row {
                Some(row) => Columns::<D>::new(row, "refresh token").get()?,
                None => None,
            };
            match used_at {
                Some(retired_at) => Ok(RotateOutcome::Reused {
                    session,
                    retired_at,
                }),
                None => Err(PortError::Other(
                    "refresh token changed concurrently during rotation".into(),
                )),
            }
        })
        .await
    }

    async fn find(&self, id: Uuid) -> PortResult<Option<AuthSession>> {
        let find = Stmt::new(concat!(
            "SELECT ",
            session_columns!(),
            " FROM auth_sessions WHERE id = $1"
        ))
        .bind(id);
        self.call(
            "sessions.find",
            self.optional(find, "session", session::<D>),
        )
        .await
    }

    async fn revoke(&self, id: Uuid, at: DateTime<Utc>) -> PortResult<bool> {
        self.call("sessions.revoke", async {
            let mut conn = self.conn().await?;
            let changed = Stmt::<D>::new(
                "UPDATE auth_sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            )
            .bind(id)
            .bind(at)
            .execute(&mut conn)
            .await?;
            if changed == 1 {
                return Ok(true);
            }
            let exists =
                Stmt::<D>::new("SELECT EXISTS (SELECT 1 FROM auth_sessions WHERE id = $1)")
                    .bind(id)
                    .fetch_one(&mut conn)
                    .await?;
            if Columns::<D>::new(&exists, "session").get::<bool>()? {
                Ok(false)
            } else {
                Err(PortError::NotFound)
            }
        })
        .await
    }

    async fn revoked_sessions(
        &self,
        since: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> PortResult<Vec<RevokedSession>> {
        // Not traced: the revocation mirror polls this every few seconds outside any
        // request. On SQLite, times are RFC 3339 UTC text of one format: text order is time
        // order.
        let select = Stmt::new(
            "SELECT id, expires_at FROM auth_sessions \
             WHERE revoked_at IS NOT NULL AND expires_at > $2 \
             AND ($1 IS NULL OR revoked_at >= $1) \
             ORDER BY revoked_at, id",
        )
        .bind(since)
        .bind(now);
        self.call_untraced(
            "sessions.revoked_sessions",
            self.all(select, "session", revoked_session::<D>),
        )
        .await
    }
}

/// A revoked session from `id, expires_at`.
fn revoked_session<D: Dialect>(c: &mut Columns<'_, D>) -> PortResult<RevokedSession> {
    Ok(RevokedSession {
        id: c.id()?,
        expires_at: c.get()?,
    })
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn compares_hashes() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }
}
