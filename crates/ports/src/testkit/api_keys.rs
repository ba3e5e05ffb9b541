//! Contract cases of [`ApiKeyRepository`]. An adapter runs them with one line:
//!
//! ```ignore
//! ainative_ports::api_keys_contract!(make());
//! ```
//! where `make()` yields a fresh [`ApiKeyStores`]. Hashes are opaque text here.

use std::any::Any;
use std::sync::Arc;

use ainative_domain::{AuditAction, NewAuditEntry, Page, Scope, Scopes};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{new_user, now, plus_secs};
use crate::{
    ApiKey, ApiKeyRepository, AuditLog, AuthSessionRepository, Conflict, NewApiKey, PortError,
    UserRepository,
};

/// The ports the API key cases use.
pub struct ApiKeyStores {
    /// Owners.
    pub users: Arc<dyn UserRepository>,
    /// API keys.
    pub keys: Arc<dyn ApiKeyRepository>,
    /// The keys' sessions (revocation goes through them).
    pub sessions: Arc<dyn AuthSessionRepository>,
    /// Where admin revocations are audited.
    pub audit: Arc<dyn AuditLog>,
    /// Kept alive until the case ends.
    pub guard: Option<Box<dyn Any + Send + Sync>>,
}

impl ApiKeyStores {
    /// One store for every port, and the fixture's guard: `(store, guard)`.
    pub fn guarded<S, G>((store, guard): (S, G)) -> Self
    where
        S: UserRepository + ApiKeyRepository + AuthSessionRepository + AuditLog + 'static,
        G: Any + Send + Sync,
    {
        let store = Arc::new(store);
        Self {
            users: store.clone(),
            keys: store.clone(),
            sessions: store.clone(),
            audit: store,
            guard: Some(Box::new(guard)),
        }
    }
}

async fn owner(s: &ApiKeyStores, name: &str) -> Uuid {
    s.users
        .create(new_user(name, now()), None)
        .await
        .expect("owner created")
        .id
}

/// A key of `user_id` named `name`, created at `at`, valid 90 days.
fn new_key(user_id: Uuid, name: &str, at: DateTime<Utc>) -> NewApiKey {
    let expires = plus_secs(at, 90 * 86_400);
    NewApiKey {
        key: ApiKey {
            id: Uuid::new_v4(),
            user_id,
            name: name.to_owned(),
            prefix: format!("ain_{}", &Uuid::new_v4().simple().to_string()[..8]),
            scopes: [Scope::ActivitiesRead, Scope::SessionsWrite]
                .into_iter()
                .collect(),
            created_at: at,
            expires_at: Some(expires),
            last_used_at: None,
            revoked_at: None,
        },
        secret_hash: format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple()),
        session_expires_at: expires,
    }
}

fn revocation(target: Uuid, at: DateTime<Utc>) -> NewAuditEntry {
    NewAuditEntry {
        actor_id: None,
        action: AuditAction::ApiKeyRevoked,
        target_type: "api_key".to_owned(),
        target_id: target,
        details: serde_json::json!({"name": "ci"}),
        at,
    }
}

/// Create returns the key as given and both finds read it back exactly (scopes, expiry, a
/// key without expiry); an unknown owner is `NotFound`; a duplicate hash or id is
/// `Duplicate("api_key")`, and nothing of the refused key is kept.
pub async fn api_key_create_and_find(s: ApiKeyStores) {
    let alice = owner(&s, "alice").await;
    let at = now();
    let first = new_key(alice, "ci", at);
    assert_eq!(s.keys.create(first.clone()).await, Ok(first.key.clone()));
    assert_eq!(s.keys.find(first.key.id).await, Ok(Some(first.key.clone())));
    assert_eq!(
        s.keys.find_by_hash(&first.secret_hash).await,
        Ok(Some(first.key.clone()))
    );
    assert_eq!(s.keys.find_by_hash("0".repeat(64).as_str()).await, Ok(None));
    assert_eq!(s.keys.find(Uuid::new_v4()).await, Ok(None));
    // Its session exists and ends with it.
    let session = s.sessions.find(first.key.id).await.expect("find session");
    let session = session.expect("the key's session");
    assert_eq!(
        (session.user_id, session.expires_at, session.revoked_at),
        (alice, first.session_expires_at, None)
    );

    let mut forever = new_key(alice, "forever", at);
    forever.key.expires_at = None;
    forever.key.scopes = Scopes::all();
    forever.session_expires_at = plus_secs(at, 100 * 365 * 86_400);
    assert_eq!(
        s.keys.create(forever.clone()).await,
        Ok(forever.key.clone())
    );
    assert_eq!(s.keys.find(forever.key.id).await, Ok(Some(forever.key)));

    let stranger = new_key(Uuid::new_v4(), "ghost", at);
    assert_eq!(
        s.keys.create(stranger.clone()).await,
        Err(PortError::NotFound)
    );
    assert_eq!(s.keys.find(stranger.key.id).await, Ok(None));

    let duplicate = Err(PortError::Conflict(Conflict::Duplicate("api_key")));
    let mut same_hash = new_key(alice, "copy", at);
    same_hash.secret_hash = first.secret_hash.clone();
    assert_eq!(s.keys.create(same_hash.clone()).await, duplicate);
    // The transaction left no session behind for the refused key.
    assert_eq!(s.sessions.find(same_hash.key.id).await, Ok(None));
    assert_eq!(s.keys.find(same_hash.key.id).await, Ok(None));
    let mut same_id = new_key(alice, "again", at);
    same_id.key.id = first.key.id;
    assert_eq!(s.keys.create(same_id).await, duplicate);
    assert_eq!(s.keys.find(first.key.id).await, Ok(Some(first.key)));
}

/// Lists are newest first, per user or for everyone, and show revoked keys only when asked.
pub async fn api_key_list_and_revoked(s: ApiKeyStores) {
    let alice = owner(&s, "alice").await;
    let bob = owner(&s, "bob").await;
    let at = now();
    let old = new_key(alice, "old", plus_secs(at, -20));
    let new = new_key(alice, "new", plus_secs(at, -10));
    let bobs = new_key(bob, "bobs", at);
    for key in [&old, &new, &bobs] {
        s.keys.create(key.clone()).await.expect("created");
    }
    let names = |keys: Vec<ApiKey>| keys.into_iter().map(|k| k.name).collect::<Vec<_>>();
    assert_eq!(
        names(s.keys.list(Some(alice), false).await.expect("list")),
        ["new", "old"]
    );
    assert_eq!(
        names(s.keys.list(None, false).await.expect("list all")),
        ["bobs", "new", "old"]
    );
    assert_eq!(s.keys.list(Some(Uuid::new_v4()), true).await, Ok(vec![]));

    assert_eq!(s.keys.revoke(old.key.id, at, None).await, Ok(true));
    assert_eq!(
        names(s.keys.list(Some(alice), false).await.expect("list")),
        ["new"]
    );
    let with_revoked = s.keys.list(Some(alice), true).await.expect("list");
    assert_eq!(names(with_revoked.clone()), ["new", "old"]);
    assert_eq!(with_revoked[1].revoked_at, Some(at));
    assert_eq!(with_revoked[0].revoked_at, None);
    assert_eq!(s.keys.list(Some(bob), false).await.expect("bob's").len(), 1);
}

/// Revoking revokes the key's session (what the revocation mirror reads) and only that key;
/// the audit row is written with it; a second revocation returns false and audits nothing;
/// an unknown key is `NotFound`. Revoking the session itself (password change,
/// deactivation) shows on the key.
pub async fn api_key_revoke_is_idempotent_and_scoped(s: ApiKeyStores) {
    let alice = owner(&s, "alice").await;
    let bob = owner(&s, "bob").await;
    let at = now();
    let key = new_key(alice, "ci", at);
    let bobs = new_key(bob, "bobs", at);
    let other = new_key(alice, "other", at);
    for k in [&key, &bobs, &other] {
        s.keys.create(k.clone()).await.expect("created");
    }
    let later = plus_secs(at, 5);
    let audit = revocation(key.key.id, later);
    assert_eq!(
        s.keys.revoke(key.key.id, later, Some(audit.clone())).await,
        Ok(true)
    );
    let found = s.keys.find(key.key.id).await.expect("find").expect("kept");
    assert_eq!(found.revoked_at, Some(later));
    let session = s
        .sessions
        .find(key.key.id)
        .await
        .expect("find")
        .expect("session");
    assert_eq!(session.revoked_at, Some(later));
    let mirrored = s
        .sessions
        .revoked_sessions(None, at)
        .await
        .expect("revoked");
    assert_eq!(
        mirrored.iter().map(|r| r.id).collect::<Vec<_>>(),
        [key.key.id]
    );
    for untouched in [&bobs, &other] {
        let k = s
            .keys
            .find(untouched.key.id)
            .await
            .expect("find")
            .expect("kept");
        assert_eq!(k.revoked_at, None);
    }

    assert_eq!(
        s.keys
            .revoke(key.key.id, plus_secs(later, 5), Some(audit.clone()))
            .await,
        Ok(false)
    );
    let found = s.keys.find(key.key.id).await.expect("find").expect("kept");
    assert_eq!(found.revoked_at, Some(later), "the first revocation stays");
    let rows = s.audit.list(Page::default()).await.expect("audit");
    let revocations: Vec<_> = rows
        .items
        .iter()
        .filter(|r| r.action == AuditAction::ApiKeyRevoked)
        .collect();
    assert_eq!(revocations.len(), 1, "one revocation, one audit row");
    assert_eq!(revocations[0].target_id, key.key.id);

    assert_eq!(
        s.keys.revoke(Uuid::new_v4(), later, None).await,
        Err(PortError::NotFound)
    );
    assert_eq!(s.sessions.revoke(other.key.id, later).await, Ok(true));
    let other = s
        .keys
        .find(other.key.id)
        .await
        .expect("find")
        .expect("kept");
    assert_eq!(other.revoked_at, Some(later));
}

/// `touch` records the last use (found by id and by hash); an unknown key is no error.
pub async fn api_key_touch_records_last_use(s: ApiKeyStores) {
    let alice = owner(&s, "alice").await;
    let at = now();
    let key = new_key(alice, "ci", at);
    s.keys.create(key.clone()).await.expect("created");
    let used = plus_secs(at, 61);
    assert_eq!(s.keys.touch(key.key.id, used).await, Ok(()));
    let again = plus_secs(at, 122);
    assert_eq!(s.keys.touch(key.key.id, again).await, Ok(()));
    let expected = ApiKey {
        last_used_at: Some(again),
        ..key.key.clone()
    };
    assert_eq!(s.keys.find(key.key.id).await, Ok(Some(expected.clone())));
    assert_eq!(
        s.keys.find_by_hash(&key.secret_hash).await,
        Ok(Some(expected))
    );
    assert_eq!(s.keys.touch(Uuid::new_v4(), again).await, Ok(()));
}

/// Expands to one `#[tokio::test]` per API key contract case.
#[macro_export]
macro_rules! api_keys_contract {
    ($make:expr) => {
        $crate::__api_keys_cases!(
            $make;
            api_key_create_and_find,
            api_key_list_and_revoked,
            api_key_revoke_is_idempotent_and_scoped,
            api_key_touch_records_last_use,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __api_keys_cases {
    ($make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let stores = $make.await;
                $crate::testkit::api_keys::$case(stores).await;
            }
        )*
    };
}
