//! [`AccountTokenRepository`]: one-time links for e-mail verification and password reset.

use ainative_domain::NewAuditEntry;
use ainative_ports::{
    AccountToken, AccountTokenRepository, NewAccountToken, PortError, PortResult, TokenPurpose,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::audit::insert_audit;
use crate::columns::Columns;
use crate::dialect::{Conn, Dialect};
use crate::error::map_err;
use crate::sessions::revoke_user_sessions;
use crate::statement::Stmt;
use crate::store::SqlStore;

/// A token from `id, user_id, purpose, password_fingerprint, sent_to, expires_at`.
fn account_token<D: Dialect>(c: &mut Columns<'_, D>) -> PortResult<AccountToken> {
    Ok(AccountToken {
        id: c.id()?,
        user_id: c.uuid()?,
        purpose: c.parsed("purpose")?,
        password_fingerprint: c.get()?,
        sent_to: c.get()?,
        expires_at: c.get()?,
    })
}

/// Marks one unconsumed token consumed; `NotFound` when another call was first.
async fn consume<D: Dialect>(conn: &mut Conn<D>, id: Uuid, at: DateTime<Utc>) -> PortResult<()> {
    let changed = Stmt::<D>::new(
        "UPDATE account_tokens SET consumed_at = $2 WHERE id = $1 AND consumed_at IS NULL",
    )
    .bind(id)
    .bind(at)
    .execute(conn)
    .await?;
    if changed == 0 {
        return Err(PortError::NotFound);
    }
    Ok(())
}

#[async_trait]
impl<D: Dialect> AccountTokenRepository for SqlStore<D> {
    async fn purge_expired(&self, now: DateTime<Utc>) -> PortResult<u64> {
        self.call("account_tokens.purge_expired", async {
            let mut conn = self.conn().await?;
            Stmt::<D>::new("DELETE FROM account_tokens WHERE expires_at < $1")
                .bind(now)
                .execute(&mut conn)
                .await
        })
        .await
    }

    async fn issue(&self, token: NewAccountToken) -> PortResult<()> {
        self.call("account_tokens.issue", async {
            let mut tx = self.begin_write().await?;
            Stmt::<D>::new("DELETE FROM account_tokens WHERE user_id = $1 AND purpose = $2")
                .bind(token.user_id)
                .bind(token.purpose.as_str())
                .execute(&mut tx)
                .await?;
            let inserted = Stmt::<D>::new(
                "INSERT INTO account_tokens (id, user_id, purpose, token_hash, \
                 password_fingerprint, sent_to, created_at, expires_at) \
                 SELECT $1, id, $3, $4, $5, $6, $7, $8 FROM users WHERE id = $2",
            )
            .bind(token.id)
            .bind(token.user_id)
            .bind(token.purpose.as_str())
            .bind(&token.token_hash)
            .bind(&token.password_fingerprint)
            .bind(&token.sent_to)
            .bind(token.created_at)
            .bind(token.expires_at)
            .execute(&mut tx)
            .await?;
            if inserted == 0 {
                return Err(PortError::NotFound);
            }
            tx.commit().await.map_err(map_err::<D>)?;
            Ok(())
        })
        .await
    }

    async fn find_valid(
        &self,
        purpose: TokenPurpose,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> PortResult<Option<AccountToken>> {
        let find = Stmt::new(
            "SELECT id, user_id, purpose, password_fingerprint, sent_to, expires_at \
             FROM account_tokens WHERE token_hash = $1 AND purpose = $2 \
             AND consumed_at IS NULL AND expires_at > $3",
        )
        .bind(token_hash)
        .bind(purpose.as_str())
        .bind(now);
        self.call(
            "account_tokens.find_valid",
            self.optional(find, "account token", account_token::<D>),
        )
        .await
    }

    async fn redeem_verification(
        &self,
        token_id: Uuid,
        user_id: Uuid,
        at: DateTime<Utc>,
    ) -> PortResult<()> {
        self.call("account_tokens.redeem_verification", async {
            let mut tx = self.begin_write().await?;
            consume::<D>(&mut tx, token_id, at).await?;
            Stmt::<D>::new("UPDATE users SET is_verified = $2, updated_at = $3 WHERE id = $1")
                .bind(user_id)
                .bind(true)
                .bind(at)
                .execute(&mut tx)
                .await?;
            tx.commit().await.map_err(map_err::<D>)?;
            Ok(())
        })
        .await
    }

    async fn redeem_reset(
        &self,
        token_id: Uuid,
        user_id: Uuid,
        password_hash: &str,
        audit: NewAuditEntry,
    ) -> PortResult<Vec<Uuid>> {
        self.call("account_tokens.redeem_reset", async {
            let at = audit.at;
            let mut tx = self.begin_write().await?;
            consume::<D>(&mut tx, token_id, at).await?;
            let changed = Stmt::<D>::new(
                "UPDATE users SET password_hash = $2, is_verified = $3, updated_at = $4 \
                 WHERE id = $1",
            )
            .bind(user_id)
            .bind(password_hash)
            .bind(true)
            .bind(at)
            .execute(&mut tx)
            .await?;
            if changed == 0 {
                return Err(PortError::NotFound);
            }
            Stmt::<D>::new("DELETE FROM account_tokens WHERE user_id = $1 AND consumed_at IS NULL")
                .bind(user_id)
                .execute(&mut tx)
                .await?;
            let revoked = revoke_user_sessions::<D>(&mut tx, user_id, at).await?;
            insert_audit::<D>(&mut tx, &audit).await?;
            tx.commit().await.map_err(map_err::<D>)?;
            Ok(revoked)
        })
        .await
    }
}
