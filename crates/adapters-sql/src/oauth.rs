//! [`OAuthStore`]: linked identities, pending flows and one-time login codes.

use ainative_domain::{NewAuditEntry, User};
use ainative_ports::{
    NewLoginCode, NewUser, OAuthAccount, OAuthFlow, OAuthStore, PortError, PortResult,
    UnlinkOutcome,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::audit::insert_audit;
use crate::columns::{read_one, Columns};
use crate::dialect::{Conn, Dialect};
use crate::error::map_err;
use crate::statement::Stmt;
use crate::store::SqlStore;

macro_rules! account_columns {
    () => {
        "id, user_id, provider, provider_user_id, email, created_at"
    };
}

fn account<D: Dialect>(c: &mut Columns<'_, D>) -> PortResult<OAuthAccount> {
    Ok(OAuthAccount {
        id: c.id()?,
        user_id: c.uuid()?,
        provider: c.get()?,
        provider_user_id: c.get()?,
        email: c.get()?,
        created_at: c.get()?,
    })
}

macro_rules! flow_columns {
    () => {
        "state_hash, provider, pkce_verifier, nonce, redirect_uri, browser_hash, link_user_id, \
         created_at, expires_at"
    };
}

fn flow<D: Dialect>(c: &mut Columns<'_, D>) -> PortResult<OAuthFlow> {
    Ok(OAuthFlow {
        state_hash: c.get()?,
        provider: c.get()?,
        pkce_verifier: c.get()?,
        nonce: c.get()?,
        redirect_uri: c.get()?,
        browser_hash: c.get()?,
        link_user_id: c.opt_uuid()?,
        created_at: c.get()?,
        expires_at: c.get()?,
    })
}

async fn insert_account<D: Dialect>(conn: &mut Conn<D>, account: &OAuthAccount) -> PortResult<()> {
    Stmt::<D>::new(
        "INSERT INTO oauth_accounts (id, user_id, provider, provider_user_id, email, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(account.id)
    .bind(account.user_id)
    .bind(account.provider.as_str())
    .bind(account.provider_user_id.as_str())
    .bind(account.email.as_deref())
    .bind(account.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

#[async_trait]
impl<D: Dialect> OAuthStore for SqlStore<D> {
    async fn purge_expired(&self, now: DateTime<Utc>) -> PortResult<u64> {
        self.call("oauth.purge_expired", async {
            let mut tx = self.begin_write().await?;
            let flows = Stmt::<D>::new("DELETE FROM oauth_flows WHERE expires_at < $1")
                .bind(now)
                .execute(&mut tx)
                .await?;
            let codes = Stmt::<D>::new("DELETE FROM oauth_login_codes WHERE expires_at < $1")
                .bind(now)
                .execute(&mut tx)
                .await?;
            tx.commit().await.map_err(map_err::<D>)?;
            Ok(flows + codes)
        })
        .await
    }

    async fn save_flow(&self, flow: OAuthFlow) -> PortResult<()> {
        self.call("oauth.save_flow", async {
            let mut conn = self.conn().await?;
            Stmt::<D>::new("DELETE FROM oauth_flows WHERE expires_at < $1")
                .bind(flow.created_at)
                .execute(&mut conn)
                .await?;
            Stmt::<D>::new(concat!(
                "INSERT INTO oauth_flows (",
                flow_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            ))
            .bind(flow.state_hash.as_str())
            .bind(flow.provider.as_str())
            .bind(flow.pkce_verifier.as_str())
            .bind(flow.nonce.as_deref())
            .bind(flow.redirect_uri.as_str())
            .bind(flow.browser_hash.as_str())
            .bind(flow.link_user_id)
            .bind(flow.created_at)
            .bind(flow.expires_at)
            .execute(&mut conn)
            .await?;
            Ok(())
        })
        .await
    }

    async fn take_flow(
        &self,
        state_hash: &str,
        now: DateTime<Utc>,
    ) -> PortResult<Option<OAuthFlow>> {
        // DELETE … RETURNING: one statement, so two callbacks with one state cannot both win.
        let take = Stmt::new(concat!(
            "DELETE FROM oauth_flows WHERE state_hash = $1 AND expires_at > $2 RETURNING ",
            flow_columns!()
        ))
        .bind(state_hash)
        .bind(now);
        self.call(
            "oauth.take_flow",
            self.optional(take, "oauth flow", flow::<D>),
        )
        .await
    }

    async fn find_account(
        &self,
        provider: &str,
        provider_user_id: &str,
    ) -> PortResult<Option<OAuthAccount>> {
        let find = Stmt::new(concat!(
            "SELECT ",
            account_columns!(),
            " FROM oauth_accounts WHERE provider = $1 AND provider_user_id = $2"
        ))
        .bind(provider)
        .bind(provider_user_id);
        self.call(
            "oauth.find_account",
            self.optional(find, "oauth account", account::<D>),
        )
        .await
    }

    async fn create_user_with_account(
        &self,
        user: NewUser,
        account: OAuthAccount,
        audit: NewAuditEntry,
    ) -> PortResult<User> {
        self.call("oauth.create_user_with_account", async {
            let mut tx = self.begin_write().await?;
            let created = crate::users::insert_user::<D>(&mut tx, &user).await?;
            insert_account::<D>(&mut tx, &account).await?;
            insert_audit::<D>(&mut tx, &audit).await?;
            tx.commit().await.map_err(map_err::<D>)?;
            Ok(created)
        })
        .await
    }

    async fn link_account(&self, account: OAuthAccount, audit: NewAuditEntry) -> PortResult<()> {
        self.call("oauth.link_account", async {
            let mut tx = self.begin_write().await?;
            insert_account::<D>(&mut tx, &account).await?;
            insert_audit::<D>(&mut tx, &audit).await?;
            tx.commit().await.map_err(map_err::<D>)?;
            Ok(())
        })
        .await
    }

    async fn list_accounts(&self, user_id: Uuid) -> PortResult<Vec<OAuthAccount>> {
        let list = Stmt::new(concat!(
            "SELECT ",
            account_columns!(),
            " FROM oauth_accounts WHERE user_id = $1 ORDER BY created_at, id"
        ))
        .bind(user_id);
        self.call(
            "oauth.list_accounts",
            self.all(list, "oauth account", account::<D>),
        )
        .await
    }

    async fn unlink_account(
        &self,
        user_id: Uuid,
        account_id: Uuid,
        audit: NewAuditEntry,
    ) -> PortResult<UnlinkOutcome> {
        self.call("oauth.unlink_account", async {
            let mut tx = self.begin_write().await?;
            let removed =
                Stmt::<D>::new("DELETE FROM oauth_accounts WHERE id = $1 AND user_id = $2")
                    .bind(account_id)
                    .bind(user_id)
                    .execute(&mut tx)
                    .await?;
            if removed == 0 {
                return Err(PortError::NotFound);
            }
            let owner = Stmt::<D>::new(
                "SELECT password_hash, (SELECT COUNT(*) FROM oauth_accounts WHERE user_id = $1) \
                 FROM users WHERE id = $1",
            )
            .bind(user_id)
            .fetch_one(&mut tx)
            .await?;
            let (hash, remaining) = read_one(&owner, "user", |c: &mut Columns<'_, D>| {
                Ok((c.get::<String>()?, c.get::<i64>()?))
            })?;
            let has_password = User::password_hash_is_usable(&hash);
            if !has_password && remaining == 0 {
                // Dropped without commit: the link stays.
                return Ok(UnlinkOutcome::LastSignInMethod);
            }
            insert_audit::<D>(&mut tx, &audit).await?;
            tx.commit().await.map_err(map_err::<D>)?;
            Ok(UnlinkOutcome::Unlinked)
        })
        .await
    }

    async fn save_login_code(&self, code: NewLoginCode) -> PortResult<()> {
        self.call("oauth.save_login_code", async {
            let mut conn = self.conn().await?;
            Stmt::<D>::new("DELETE FROM oauth_login_codes WHERE expires_at < $1")
                .bind(code.created_at)
                .execute(&mut conn)
                .await?;
            Stmt::<D>::new(
                "INSERT INTO oauth_login_codes (code_hash, user_id, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(code.code_hash.as_str())
            .bind(code.user_id)
            .bind(code.created_at)
            .bind(code.expires_at)
            .execute(&mut conn)
            .await?;
            Ok(())
        })
        .await
    }

    async fn take_login_code(
        &self,
        code_hash: &str,
        now: DateTime<Utc>,
    ) -> PortResult<Option<Uuid>> {
        let take = Stmt::new(
            "DELETE FROM oauth_login_codes WHERE code_hash = $1 AND expires_at > $2 \
             RETURNING user_id",
        )
        .bind(code_hash)
        .bind(now);
        self.call(
            "oauth.take_login_code",
            self.optional(take, "login code", |c: &mut Columns<'_, D>| c.uuid()),
        )
        .await
    }
}
