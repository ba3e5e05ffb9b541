//! [`LlmCredentialRepository`].

use ainative_domain::{CredentialStatus, LlmCredential, NewAuditEntry, Page, Paginated};
use ainative_ports::{
    AdminCredentialChange, CredentialEdit, CredentialFilter, LlmCredentialRepository,
    NewCredential, PortError, PortResult, SealedSecret, StoredCredential, Verification,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::audit::insert_audit;
use crate::columns::{read_all, read_one, Columns};
use crate::dialect::Dialect;
use crate::error::map_err;
use crate::lists::{count, offset};
use crate::statement::Stmt;
use crate::store::SqlStore;

/// The columns of `llm_credentials`, in the order [`credential`] reads them.
macro_rules! credential_columns {
    () => {
        "id, owner_id, label, provider, base_url, model, key_hint, key_id, status, \
         suspension_reason, is_verified, last_verified_at, last_error_kind, rate_limit_rpm, \
         max_concurrent_requests, total_requests, last_used_at, created_at, updated_at"
    };
}

fn limit<D: Dialect>(c: &mut Columns<'_, D>, what: &str) -> PortResult<Option<u32>> {
    let value: Option<i64> = c.get()?;
    value
        .map(|v| u32::try_from(v).map_err(|e| c.corrupt(what, e)))
        .transpose()
}

fn credential<D: Dialect>(c: &mut Columns<'_, D>) -> PortResult<LlmCredential> {
    let id = c.id()?;
    let owner_id = c.uuid()?;
    Ok(LlmCredential {
        id,
        owner_id,
        label: c.get()?,
        provider: c.get()?,
        base_url: c.get()?,
        model: c.get()?,
        key_hint: c.get()?,
        key_id: c.get()?,
        status: c.parsed::<CredentialStatus>("status")?,
        suspension_reason: c.get()?,
        is_verified: c.get()?,
        last_verified_at: c.get()?,
        last_error_kind: c.get()?,
        rate_limit_rpm: limit(c, "rate_limit_rpm")?,
        max_concurrent_requests: limit(c, "max_concurrent_requests")?,
        total_requests: {
            let total: i64 = c.get()?;
            u64::try_from(total).unwrap_or(0)
        },
        last_used_at: c.get()?,
        created_at: c.get()?,
        updated_at: c.get()?,
    })
}

fn stored<D: Dialect>(c: &mut Columns<'_, D>) -> PortResult<StoredCredential> {
    let credential = credential(c)?;
    let ciphertext: String = c.get()?;
    Ok(StoredCredential {
        sealed: SealedSecret {
            key_id: credential.key_id.clone(),
            ciphertext,
        },
        credential,
    })
}

fn sealed_row<D: Dialect>(c: &mut Columns<'_, D>) -> PortResult<(Uuid, Uuid, SealedSecret)> {
    Ok((
        c.id()?,
        c.uuid()?,
        SealedSecret {
            key_id: c.get()?,
            ciphertext: c.get()?,
        },
    ))
}

fn limit_value(limit: Option<u32>) -> Option<i64> {
    limit.map(i64::from)
}

/// The list filter: `$1` the owner (or NULL), `$2` the status (or NULL).
macro_rules! filter {
    () => {
        " WHERE ($1 IS NULL OR owner_id = $1) AND ($2 IS NULL OR status = $2)"
    };
}

#[async_trait]
impl<D: Dialect> LlmCredentialRepository for SqlStore<D> {
    async fn create(&self, new: NewCredential) -> PortResult<LlmCredential> {
        let insert = Stmt::new(concat!(
            "INSERT INTO llm_credentials (id, owner_id, label, provider, base_url, model, \
             ciphertext, key_id, key_hint, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING ",
            credential_columns!()
        ))
        .bind(new.id)
        .bind(new.owner_id)
        .bind(&new.label)
        .bind(&new.provider)
        .bind(&new.base_url)
        .bind(&new.model)
        .bind(&new.sealed.ciphertext)
        .bind(&new.sealed.key_id)
        .bind(&new.key_hint)
        .bind(new.at);
        self.call("llm_credentials.create", async {
            self.optional(insert, "llm credential", credential::<D>)
                .await?
                .ok_or_else(|| PortError::Other("an insert returned no row".into()))
        })
        .await
    }

    async fn find(&self, id: Uuid) -> PortResult<Option<StoredCredential>> {
        let find = Stmt::new(concat!(
            "SELECT ",
            credential_columns!(),
            ", ciphertext FROM llm_credentials WHERE id = $1"
        ))
        .bind(id);
        self.call(
            "llm_credentials.find",
            self.optional(find, "llm credential", stored::<D>),
        )
        .await
    }

    async fn list(
        &self,
        filter: CredentialFilter,
        page: Page,
    ) -> PortResult<Paginated<LlmCredential>> {
        let status = filter.status.map(CredentialStatus::as_str);
        self.call("llm_credentials.list", async {
            let mut conn = self.conn().await?;
            let rows = Stmt::<D>::new(concat!(
                "SELECT ",
                credential_columns!(),
                " FROM llm_credentials",
                filter!(),
                " ORDER BY created_at, id LIMIT $3 OFFSET $4"
            ))
            .bind(filter.owner_id)
            .bind(status)
            .bind(i64::from(page.limit()))
            .bind(offset(page))
            .fetch_all(&mut conn)
            .await?;
            let total = Stmt::<D>::new(concat!("SELECT COUNT(*) FROM llm_credentials", filter!()))
                .bind(filter.owner_id)
                .bind(status)
                .fetch_one(&mut conn)
                .await?;
            let items = read_all(&rows, "llm credential", credential::<D>)?;
            Ok(Paginated::new(items, count::<D>(&total)?, page))
        })
        .await
    }

    async fn edit(
        &self,
        id: Uuid,
        owner_id: Uuid,
        edit: CredentialEdit,
        at: DateTime<Utc>,
    ) -> PortResult<LlmCredential> {
        // A new endpoint, model or key has not been verified.
        let unverified = edit.base_url.is_some() || edit.model.is_some() || edit.secret.is_some();
        let (sealed, hint) = match &edit.secret {
            Some((sealed, hint)) => (Some(sealed), Some(hint.as_str())),
            None => (None, None),
        };
        let update = Stmt::new(concat!(
            "UPDATE llm_credentials SET label = COALESCE($3, label), \
             base_url = COALESCE($4, base_url), model = COALESCE($5, model), \
             ciphertext = COALESCE($6, ciphertext), key_id = COALESCE($7, key_id), \
             key_hint = COALESCE($8, key_hint), \
             is_verified = CASE WHEN $9 THEN FALSE ELSE is_verified END, \
             updated_at = $10 WHERE id = $1 AND owner_id = $2 RETURNING ",
            credential_columns!()
        ))
        .bind(id)
        .bind(owner_id)
        .bind(edit.label.as_deref())
        .bind(edit.base_url.as_deref())
        .bind(edit.model.as_deref())
        .bind(sealed.map(|s| s.ciphertext.as_str()))
        .bind(sealed.map(|s| s.key_id.as_str()))
        .bind(hint)
        .bind(unverified)
        .bind(at);
        self.call("llm_credentials.edit", async {
            self.optional(update, "llm credential", credential::<D>)
                .await?
                .ok_or(PortError::NotFound)
        })
        .await
    }

    async fn delete(&self, id: Uuid, owner_id: Uuid) -> PortResult<()> {
        self.call("llm_credentials.delete", async {
            let deleted =
                Stmt::<D>::new("DELETE FROM llm_credentials WHERE id = $1 AND owner_id = $2")
                    .bind(id)
                    .bind(owner_id)
                    .execute(&mut *self.conn().await?)
                    .await?;
            if deleted == 0 {
                return Err(PortError::NotFound);
            }
            Ok(())
        })
        .await
    }

    async fn record_verification(
        &self,
        id: Uuid,
        verification: Verification,
    ) -> PortResult<LlmCredential> {
        let update = Stmt::new(concat!(
            "UPDATE llm_credentials SET is_verified = $2, last_verified_at = $3, \
             last_error_kind = $4 WHERE id = $1 RETURNING ",
            credential_columns!()
        ))
        .bind(id)
        .bind(verification.error_kind.is_none())
        .bind(verification.at)
        .bind(verification.error_kind.as_deref());
        self.call("llm_credentials.record_verification", async {
            self.optional(update, "llm credential", credential::<D>)
                .await?
                .ok_or(PortError::NotFound)
        })
        .await
    }

    async fn record_use(&self, id: Uuid, at: DateTime<Utc>) -> PortResult<()> {
        self.call("llm_credentials.record_use", async {
            Stmt::<D>::new(
                "UPDATE llm_credentials SET total_requests = total_requests + 1, \
                 last_used_at = $2 WHERE id = $1",
            )
            .bind(id)
            .bind(at)
            .execute(&mut *self.conn().await?)
            .await?;
            Ok(())
        })
        .await
    }

    async fn admin_change(
        &self,
        id: Uuid,
        change: AdminCredentialChange,
        audit: NewAuditEntry,
    ) -> PortResult<LlmCredential> {
        self.call("llm_credentials.admin_change", async {
            let mut tx = self.begin_write().await?;
            let status = change.status.map(CredentialStatus::as_str);
            // `$3` is the reason of a suspension; an activation clears it.
            let row = Stmt::<D>::new(concat!(
                "UPDATE llm_credentials SET status = COALESCE($2, status), \
                 suspension_reason = CASE WHEN $2 = 'suspended' THEN $3 \
                 WHEN $2 = 'active' THEN NULL ELSE suspension_reason END, \
                 rate_limit_rpm = CASE WHEN $4 THEN $5 ELSE rate_limit_rpm END, \
                 max_concurrent_requests = CASE WHEN $6 THEN $7 ELSE max_concurrent_requests END, \
                 updated_at = $8 WHERE id = $1 RETURNING ",
                credential_columns!()
            ))
            .bind(id)
            .bind(status)
            .bind(change.suspension_reason.as_deref())
            .bind(change.rate_limit_rpm.is_some())
            .bind(change.rate_limit_rpm.flatten().map(i64::from))
            .bind(change.max_concurrent_requests.is_some())
            .bind(limit_value(change.max_concurrent_requests.flatten()))
            .bind(audit.at)
            .fetch_optional(&mut tx)
            .await?;
            let Some(row) = row else {
                return Err(PortError::NotFound);
            };
            let updated = read_one(&row, "llm credential", credential::<D>)?;
            insert_audit::<D>(&mut tx, &audit).await?;
            tx.commit().await.map_err(map_err::<D>)?;
            Ok(updated)
        })
        .await
    }

    async fn sealed_not_under(
        &self,
        key_id: &str,
        after: Option<Uuid>,
        limit: u32,
    ) -> PortResult<Vec<(Uuid, Uuid, SealedSecret)>> {
        let select = Stmt::new(
            "SELECT id, owner_id, key_id, ciphertext FROM llm_credentials \
             WHERE key_id <> $1 AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3",
        )
        .bind(key_id)
        .bind(after)
        .bind(i64::from(limit));
        self.call(
            "llm_credentials.sealed_not_under",
            self.all(select, "llm credential", sealed_row::<D>),
        )
        .await
    }

    async fn key_ids_in_use(&self) -> PortResult<Vec<String>> {
        fn key_id<D: Dialect>(c: &mut Columns<'_, D>) -> PortResult<String> {
            c.get()
        }
        let select = Stmt::new("SELECT DISTINCT key_id FROM llm_credentials ORDER BY key_id");
        self.call(
            "llm_credentials.key_ids_in_use",
            self.all(select, "key id", key_id::<D>),
        )
        .await
    }

    async fn reseal(&self, id: Uuid, old: &SealedSecret, new: &SealedSecret) -> PortResult<bool> {
        self.call("llm_credentials.reseal", async {
            let changed = Stmt::<D>::new(
                "UPDATE llm_credentials SET ciphertext = $3, key_id = $4 \
                 WHERE id = $1 AND ciphertext = $2",
            )
            .bind(id)
            .bind(&old.ciphertext)
            .bind(&new.ciphertext)
            .bind(&new.key_id)
            .execute(&mut *self.conn().await?)
            .await?;
            Ok(changed == 1)
        })
        .await
    }
}
