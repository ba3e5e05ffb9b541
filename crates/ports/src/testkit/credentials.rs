//! Contract cases of [`LlmCredentialRepository`]. An adapter runs them with one line:
//!
//! ```ignore
//! ainative_ports::credentials_contract!(make());
//! ```
//! where `make()` yields a fresh [`CredentialStores`]. Sealed secrets are opaque text here:
//! the store keeps and compares them, never reads them.

use std::any::Any;
use std::sync::Arc;

use ainative_domain::{AuditAction, CredentialStatus, NewAuditEntry, Page};
use uuid::Uuid;

use super::{new_user, now, plus_secs};
use crate::{
    AdminCredentialChange, AuditLog, CredentialEdit, CredentialFilter, LlmCredentialRepository,
    NewCredential, PortError, SealedSecret, UserRepository, Verification,
};

/// The ports the credential cases use.
pub struct CredentialStores {
    /// Owners.
    pub users: Arc<dyn UserRepository>,
    /// Credentials.
    pub credentials: Arc<dyn LlmCredentialRepository>,
    /// Where admin changes are audited.
    pub audit: Arc<dyn AuditLog>,
    /// Kept alive until the case ends.
    pub guard: Option<Box<dyn Any + Send + Sync>>,
}

impl CredentialStores {
    /// One store for every port, and the fixture's guard: `(store, guard)`.
    pub fn guarded<S, G>((store, guard): (S, G)) -> Self
    where
        S: UserRepository + LlmCredentialRepository + AuditLog + 'static,
        G: Any + Send + Sync,
    {
        let store = Arc::new(store);
        Self {
            users: store.clone(),
            credentials: store.clone(),
            audit: store,
            guard: Some(Box::new(guard)),
        }
    }
}

fn sealed(key_id: &str, text: &str) -> SealedSecret {
    SealedSecret {
        key_id: key_id.to_owned(),
        ciphertext: format!("v1:{key_id}:{text}"),
    }
}

async fn owner(s: &CredentialStores, name: &str) -> Uuid {
    s.users
        .create(new_user(name, now()), None)
        .await
        .expect("owner created")
        .id
}

fn new_credential(owner_id: Uuid, label: &str, key_id: &str) -> NewCredential {
    NewCredential {
        id: Uuid::new_v4(),
        owner_id,
        label: label.to_owned(),
        provider: "openai-compatible".to_owned(),
        base_url: "https://llm.example.com/v1".to_owned(),
        model: "m-1".to_owned(),
        key_hint: "sk-…a1b2".to_owned(),
        sealed: sealed(key_id, &format!("secret-of-{label}")),
        at: now(),
    }
}

/// Create, find (with the sealed key), list by owner and status, defaults.
pub async fn credential_create_find_list(s: CredentialStores) {
    let alice = owner(&s, "alice").await;
    let bob = owner(&s, "bob").await;
    let mut first = new_credential(alice, "first", "k1");
    first.at = plus_secs(now(), -10);
    let created = s.credentials.create(first.clone()).await.expect("created");
    assert_eq!(created.id, first.id);
    assert_eq!(created.status, CredentialStatus::Active);
    assert!(!created.is_verified);
    assert_eq!(created.total_requests, 0);
    assert_eq!(
        (created.rate_limit_rpm, created.max_concurrent_requests),
        (None, None)
    );
    assert_eq!(created.created_at, first.at);
    s.credentials
        .create(new_credential(alice, "second", "k1"))
        .await
        .expect("second");
    s.credentials
        .create(new_credential(bob, "bobs", "k2"))
        .await
        .expect("bob's");
    let found = s
        .credentials
        .find(first.id)
        .await
        .expect("find")
        .expect("some");
    assert_eq!(found.sealed, first.sealed);
    assert_eq!(found.credential, created);
    assert_eq!(s.credentials.find(Uuid::new_v4()).await, Ok(None));
    assert_eq!(
        s.credentials.create(first.clone()).await,
        Err(PortError::Conflict(crate::Conflict::Duplicate(
            "llm_credential"
        )))
    );

    let page = Page::default();
    let mine = s
        .credentials
        .list(
            CredentialFilter {
                owner_id: Some(alice),
                status: None,
            },
            page,
        )
        .await
        .expect("list");
    assert_eq!(mine.total, 2);
    assert_eq!(
        mine.items
            .iter()
            .map(|c| c.label.as_str())
            .collect::<Vec<_>>(),
        ["first", "second"]
    );
    let all = s
        .credentials
        .list(CredentialFilter::default(), page)
        .await
        .expect("credential store call");
    assert_eq!(all.total, 3);
    let suspended = CredentialFilter {
        owner_id: None,
        status: Some(CredentialStatus::Suspended),
    };
    assert_eq!(
        s.credentials
            .list(suspended, page)
            .await
            .expect("credential store call")
            .total,
        0
    );
}

/// Owners edit and delete only their own; a new key, endpoint or model clears verification.
pub async fn credential_edit_delete_and_verification(s: CredentialStores) {
    let alice = owner(&s, "alice").await;
    let mallory = owner(&s, "mallory").await;
    let new = new_credential(alice, "mine", "k1");
    s.credentials
        .create(new.clone())
        .await
        .expect("credential store call");
    let at = plus_secs(now(), 5);
    let verified = s
        .credentials
        .record_verification(
            new.id,
            Verification {
                at,
                error_kind: None,
            },
        )
        .await
        .expect("credential store call");
    assert!(verified.is_verified);
    assert_eq!(verified.last_verified_at, Some(at));
    let failed = s
        .credentials
        .record_verification(
            new.id,
            Verification {
                at,
                error_kind: Some("unauthorized".to_owned()),
            },
        )
        .await
        .expect("credential store call");
    assert!(!failed.is_verified);
    assert_eq!(failed.last_error_kind.as_deref(), Some("unauthorized"));
    s.credentials
        .record_verification(
            new.id,
            Verification {
                at,
                error_kind: None,
            },
        )
        .await
        .expect("credential store call");

    let relabel = CredentialEdit {
        label: Some("renamed".to_owned()),
        ..CredentialEdit::default()
    };
    assert_eq!(
        s.credentials
            .edit(new.id, mallory, relabel.clone(), at)
            .await,
        Err(PortError::NotFound)
    );
    let renamed = s
        .credentials
        .edit(new.id, alice, relabel, at)
        .await
        .expect("credential store call");
    assert_eq!(renamed.label, "renamed");
    assert!(renamed.is_verified, "a new label keeps the verification");
    let new_key = sealed("k2", "rotated");
    let rekeyed = s
        .credentials
        .edit(
            new.id,
            alice,
            CredentialEdit {
                secret: Some((new_key.clone(), "sk-…zzzz".to_owned())),
                ..CredentialEdit::default()
            },
            plus_secs(at, 1),
        )
        .await
        .expect("credential store call");
    assert!(!rekeyed.is_verified);
    assert_eq!(
        (rekeyed.key_hint.as_str(), rekeyed.key_id.as_str()),
        ("sk-…zzzz", "k2")
    );
    assert_eq!(rekeyed.updated_at, plus_secs(at, 1));
    assert_eq!(
        s.credentials
            .find(new.id)
            .await
            .expect("credential store call")
            .expect("credential store call")
            .sealed,
        new_key
    );

    s.credentials
        .record_use(new.id, at)
        .await
        .expect("credential store call");
    s.credentials
        .record_use(new.id, plus_secs(at, 2))
        .await
        .expect("credential store call");
    let used = s
        .credentials
        .find(new.id)
        .await
        .expect("credential store call")
        .expect("credential store call")
        .credential;
    assert_eq!(
        (used.total_requests, used.last_used_at),
        (2, Some(plus_secs(at, 2)))
    );

    assert_eq!(
        s.credentials.delete(new.id, mallory).await,
        Err(PortError::NotFound)
    );
    s.credentials
        .delete(new.id, alice)
        .await
        .expect("credential store call");
    assert_eq!(s.credentials.find(new.id).await, Ok(None));
    assert_eq!(
        s.credentials.delete(new.id, alice).await,
        Err(PortError::NotFound)
    );
}

/// Suspension, activation and limits write their audit row in the same transaction.
pub async fn credential_admin_changes_are_audited(s: CredentialStores) {
    let alice = owner(&s, "alice").await;
    let admin = owner(&s, "admin").await;
    let new = new_credential(alice, "mine", "k1");
    s.credentials
        .create(new.clone())
        .await
        .expect("credential store call");
    let audit = |action, at| NewAuditEntry {
        actor_id: Some(admin),
        action,
        target_type: "llm_credential".to_owned(),
        target_id: new.id,
        details: serde_json::json!({"n": 1}),
        at,
    };
    let at = now();
    let suspended = s
        .credentials
        .admin_change(
            new.id,
            AdminCredentialChange {
                status: Some(CredentialStatus::Suspended),
                suspension_reason: Some("abuse".to_owned()),
                ..AdminCredentialChange::default()
            },
            audit(AuditAction::CredentialSuspended, at),
        )
        .await
        .expect("credential store call");
    assert_eq!(suspended.status, CredentialStatus::Suspended);
    assert_eq!(suspended.suspension_reason.as_deref(), Some("abuse"));
    let limited = s
        .credentials
        .admin_change(
            new.id,
            AdminCredentialChange {
                rate_limit_rpm: Some(Some(5)),
                max_concurrent_requests: Some(Some(2)),
                ..AdminCredentialChange::default()
            },
            audit(AuditAction::CredentialLimitsChanged, plus_secs(at, 1)),
        )
        .await
        .expect("credential store call");
    assert_eq!(
        (limited.rate_limit_rpm, limited.max_concurrent_requests),
        (Some(5), Some(2))
    );
    assert_eq!(
        limited.status,
        CredentialStatus::Suspended,
        "limits keep the status"
    );
    let active = s
        .credentials
        .admin_change(
            new.id,
            AdminCredentialChange {
                status: Some(CredentialStatus::Active),
                rate_limit_rpm: Some(None),
                ..AdminCredentialChange::default()
            },
            audit(AuditAction::CredentialActivated, plus_secs(at, 2)),
        )
        .await
        .expect("credential store call");
    assert_eq!(active.status, CredentialStatus::Active);
    assert_eq!(active.suspension_reason, None);
    assert_eq!(
        (active.rate_limit_rpm, active.max_concurrent_requests),
        (None, Some(2))
    );
    let missing = s
        .credentials
        .admin_change(
            Uuid::new_v4(),
            AdminCredentialChange::default(),
            audit(AuditAction::CredentialActivated, plus_secs(at, 3)),
        )
        .await;
    assert_eq!(missing, Err(PortError::NotFound));
    let rows = s
        .audit
        .list(Page::default())
        .await
        .expect("credential store call");
    let actions: Vec<_> = rows.items.iter().map(|r| r.action).collect();
    assert_eq!(
        actions,
        [
            AuditAction::CredentialActivated,
            AuditAction::CredentialLimitsChanged,
            AuditAction::CredentialSuspended
        ],
        "one row per change that happened, none for the missing credential"
    );
    let suspended_filter = CredentialFilter {
        owner_id: Some(alice),
        status: Some(CredentialStatus::Active),
    };
    assert_eq!(
        s.credentials
            .list(suspended_filter, Page::default())
            .await
            .expect("credential store call")
            .total,
        1
    );
}

/// Rotation support: rows not under a key, by id after a cursor; compare-and-swap reseal;
/// the key ids in use.
pub async fn credential_rotation_support(s: CredentialStores) {
    let alice = owner(&s, "alice").await;
    let mut ids = Vec::new();
    for (i, key) in ["old", "old", "new", "old"].iter().enumerate() {
        let new = new_credential(alice, &format!("c{i}"), key);
        ids.push((new.id, new.sealed.clone(), *key));
        s.credentials
            .create(new)
            .await
            .expect("credential store call");
    }
    assert_eq!(
        s.credentials
            .key_ids_in_use()
            .await
            .expect("credential store call"),
        ["new", "old"]
    );
    let mut old: Vec<_> = ids.iter().filter(|(_, _, k)| *k == "old").collect();
    old.sort_by_key(|(id, _, _)| id.to_string());
    let first = s
        .credentials
        .sealed_not_under("new", None, 2)
        .await
        .expect("credential store call");
    assert_eq!(first.len(), 2);
    assert_eq!(first[0].0, old[0].0);
    assert_eq!(first[0].1, alice);
    let rest = s
        .credentials
        .sealed_not_under("new", Some(first[1].0), 2)
        .await
        .expect("credential store call");
    assert_eq!(rest.iter().map(|r| r.0).collect::<Vec<_>>(), [old[2].0]);

    let (id, was, _) = old[0];
    let resealed = sealed("new", "resealed");
    assert_eq!(s.credentials.reseal(*id, was, &resealed).await, Ok(true));
    // The row changed since it was read: the second write loses.
    assert_eq!(
        s.credentials.reseal(*id, was, &sealed("new", "late")).await,
        Ok(false)
    );
    let stored = s
        .credentials
        .find(*id)
        .await
        .expect("credential store call")
        .expect("credential store call");
    assert_eq!(
        (stored.sealed, stored.credential.key_id),
        (resealed, "new".to_owned())
    );
    assert_eq!(
        s.credentials
            .sealed_not_under("new", None, 10)
            .await
            .expect("credential store call")
            .len(),
        2
    );
}

/// Expands to one `#[tokio::test]` per credential contract case.
#[macro_export]
macro_rules! credentials_contract {
    ($make:expr) => {
        $crate::__credentials_cases!(
            $make;
            credential_create_find_list,
            credential_edit_delete_and_verification,
            credential_admin_changes_are_audited,
            credential_rotation_support,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __credentials_cases {
    ($make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let stores = $make.await;
                $crate::testkit::credentials::$case(stores).await;
            }
        )*
    };
}
