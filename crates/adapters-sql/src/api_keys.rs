//! [`ApiKeyRepository`]: API keys, each bound to the session of the same id.

use ainative_domain::{NewAuditEntry, Scope, Scopes};
use ainative_ports::{ApiKey, ApiKeyRepository, Conflict, NewApiKey, PortError, PortResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::audit::insert_audit;
use crate::columns::Columns;
use crate::dialect::Dialect;
use crate::error::map_err;
use crate::statement::Stmt;
use crate::store::SqlStore;

/// The columns [`api_key`] reads; `revoked_at` comes from the key's session.
macro_rules! key_select {
    ($where:literal) => {
        concat!(
            "SELECT k.id, k.user_id, k.name, k.prefix, k.scopes, k.created_at, k.expires_at, \
             k.last_used_at, s.revoked_at FROM api_keys k JOIN auth_sessions s ON s.id = k.id ",
            $where
        )
    };
}

fn scopes_text(scopes: Scopes) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn api_key<D: Dialect>(c: &mut Columns<'_, D>) -> PortResult<ApiKey> {
    let id = c.id()?;
    let user_id = c.uuid()?;
    let name = c.get()?;
    let prefix = c.get()?;
    let scopes: String = c.get()?;
    let scopes = scopes
        .split_whitespace()
        .map(str::parse::<Scope>)
        .collect::<Result<Scopes, _>>()
        .map_err(|e| c.corrupt("scopes", e))?;
    Ok(ApiKey {
        id,
        user_id,
        name,
        prefix,
        scopes,
        created_at: c.get()?,
        expires_at: c.get()?,
        last_used_at: c.get()?,
        revoked_at: c.get()?,
    })
}

#[async_trait]
impl<D: Dialect> ApiKeyRepository for SqlStore<D> {
    async fn create(&self, new: NewApiKey) -> PortResult<ApiKey> {
        self.call("api_keys.create", async {
            let key = &new.key;
            let mut tx = self.begin_write().await?;
            Stmt::<D>::new(
                "INSERT INTO auth_sessions (id, user_id, created_at, expires_at, revoked_at) \
                 VALUES ($1, $2, $3, $4, NULL)",
            )
            .bind(key.id)
            .bind(key.user_id)
            .bind(key.created_at)
            .bind(new.session_expires_at)
            .execute(&mut tx)
            .await
            // The key's id is its session's: a taken id is a duplicate key to the caller.
            .map_err(|e| match e {
                PortError::Conflict(Conflict::Duplicate("session")) => {
                    PortError::Conflict(Conflict::Duplicate("api_key"))
                }
                e => e,
            })?;
            Stmt::<D>::new(
                "INSERT INTO api_keys (id, user_id, name, prefix, secret_hash, scopes, \
                 created_at, expires_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)",
            )
            .bind(key.id)
            .bind(key.user_id)
            .bind(&key.name)
            .bind(&key.prefix)
            .bind(&new.secret_hash)
            .bind(scopes_text(key.scopes))
            .bind(key.created_at)
            .bind(key.expires_at)
            .execute(&mut tx)
            .await?;
            tx.commit().await.map_err(map_err::<D>)?;
            Ok(new.key)
        })
        .await
    }

    async fn find_by_hash(&self, secret_hash: &str) -> PortResult<Option<ApiKey>> {
        let find = Stmt::new(key_select!("WHERE k.secret_hash = $1")).bind(secret_hash);
        self.call(
            "api_keys.find_by_hash",
            self.optional(find, "api key", api_key::<D>),
        )
        .await
    }

    async fn find(&self, id: Uuid) -> PortResult<Option<ApiKey>> {
        let find = Stmt::new(key_select!("WHERE k.id = $1")).bind(id);
        self.call(
            "api_keys.find",
            self.optional(find, "api key", api_key::<D>),
        )
        .await
    }

    async fn list(&self, user_id: Option<Uuid>, include_revoked: bool) -> PortResult<Vec<ApiKey>> {
        let list = Stmt::new(key_select!(
            "WHERE ($1 IS NULL OR k.user_id = $1) AND ($2 OR s.revoked_at IS NULL) \
             ORDER BY k.created_at DESC, k.id LIMIT 1000"
        ))
        .bind(user_id)
        .bind(include_revoked);
        self.call("api_keys.list", self.all(list, "api key", api_key::<D>))
            .await
    }

    async fn revoke(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        audit: Option<NewAuditEntry>,
    ) -> PortResult<bool> {
        self.call("api_keys.revoke", async {
            let mut tx = self.begin_write().await?;
            let exists = Stmt::<D>::new("SELECT id FROM api_keys WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut tx)
                .await?;
            if exists.is_none() {
                return Err(PortError::NotFound);
            }
            let changed = Stmt::<D>::new(
                "UPDATE auth_sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            )
            .bind(id)
            .bind(at)
            .execute(&mut tx)
            .await?;
            // Only a revocation that happened is audited (an admin racing the owner).
            if let (1, Some(entry)) = (changed, &audit) {
                insert_audit::<D>(&mut tx, entry).await?;
            }
            tx.commit().await.map_err(map_err::<D>)?;
            Ok(changed == 1)
        })
        .await
    }

    async fn touch(&self, id: Uuid, at: DateTime<Utc>) -> PortResult<()> {
        self.call("api_keys.touch", async {
            Stmt::<D>::new("UPDATE api_keys SET last_used_at = $2 WHERE id = $1")
                .bind(id)
                .bind(at)
                .execute(&mut *self.conn().await?)
                .await?;
            Ok(())
        })
        .await
    }
}
