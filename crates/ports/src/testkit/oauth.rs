//! Contract cases of [`OAuthStore`]: flows and login codes are single use and expire,
//! identities are unique, user + link + audit are one transaction, and the last way to sign
//! in cannot be unlinked. An adapter runs them with one line:
//!
//! ```ignore
//! ainative_ports::oauth_contract!(async { OAuthStores::guarded(make().await) });
//! ```

use std::any::Any;
use std::sync::Arc;

use ainative_domain::{AuditAction, NewAuditEntry, Page, User};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{new_user, now, plus_secs};
use crate::{
    AuditLog, Conflict, NewLoginCode, OAuthAccount, OAuthFlow, OAuthStore, PortError,
    UnlinkOutcome, UserRepository,
};

/// The ports the cases use.
pub struct OAuthStores {
    /// The port under test.
    pub oauth: Arc<dyn OAuthStore>,
    /// Users, to set up owners and to read created users back.
    pub users: Arc<dyn UserRepository>,
    /// The audit log, where links are recorded.
    pub audit: Arc<dyn AuditLog>,
    /// See [`super::Stores::guard`]. Declared last, so it is dropped after the stores.
    pub guard: Option<Box<dyn Any + Send + Sync>>,
}

impl OAuthStores {
    /// One value implementing every port, and the fixture's guard.
    pub fn guarded<S, G>((store, guard): (S, G)) -> Self
    where
        S: OAuthStore + UserRepository + AuditLog + 'static,
        G: Any + Send + Sync,
    {
        let store = Arc::new(store);
        Self {
            oauth: store.clone(),
            users: store.clone(),
            audit: store,
            guard: Some(Box::new(guard)),
        }
    }
}

fn flow(state_hash: &str, at: DateTime<Utc>, ttl_secs: i64) -> OAuthFlow {
    OAuthFlow {
        state_hash: state_hash.to_owned(),
        provider: "acme".to_owned(),
        pkce_verifier: "verifier".to_owned(),
        nonce: Some("nonce".to_owned()),
        redirect_uri: "https://app.example/done".to_owned(),
        browser_hash: "b".repeat(64),
        link_user_id: None,
        created_at: at,
        expires_at: plus_secs(at, ttl_secs),
    }
}

fn account(user_id: Uuid, subject: &str, at: DateTime<Utc>) -> OAuthAccount {
    OAuthAccount {
        id: Uuid::new_v4(),
        user_id,
        provider: "acme".to_owned(),
        provider_user_id: subject.to_owned(),
        email: Some("someone@example.org".to_owned()),
        created_at: at,
    }
}

fn audit(action: AuditAction, target: Uuid, at: DateTime<Utc>) -> NewAuditEntry {
    NewAuditEntry {
        actor_id: Some(target),
        action,
        target_type: "oauth_account".to_owned(),
        target_id: target,
        details: serde_json::json!({"provider": "acme"}),
        at,
    }
}

/// A flow is returned once, whole, and never after it expired.
pub async fn oauth_flow_is_taken_once_and_expires(s: OAuthStores) {
    let at = now();
    let mut linked = flow("h1", at, 600);
    let owner = s
        .users
        .create(new_user("owner", at), None)
        .await
        .expect("user");
    linked.link_user_id = Some(owner.id);
    s.oauth.save_flow(linked.clone()).await.expect("save");
    s.oauth.save_flow(flow("h2", at, 60)).await.expect("save");
    assert_eq!(
        s.oauth.save_flow(flow("h1", at, 600)).await,
        Err(PortError::Conflict(Conflict::Duplicate("oauth_flow")))
    );
    assert_eq!(s.oauth.take_flow("h1", at).await, Ok(Some(linked)));
    assert_eq!(s.oauth.take_flow("h1", at).await, Ok(None), "single use");
    assert_eq!(s.oauth.take_flow("unknown", at).await, Ok(None));
    // Expired: not returned, even once.
    assert_eq!(s.oauth.take_flow("h2", plus_secs(at, 61)).await, Ok(None));
}

/// Concurrent takes of one flow: exactly one wins.
pub async fn oauth_flow_take_race_has_one_winner(s: OAuthStores) {
    let at = now();
    s.oauth
        .save_flow(flow("race", at, 600))
        .await
        .expect("save");
    let takes = (0..8).map(|_| {
        let oauth = s.oauth.clone();
        tokio::spawn(async move { oauth.take_flow("race", at).await })
    });
    let mut winners = 0;
    for take in takes {
        if take.await.expect("task").expect("take").is_some() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
}

/// A login code signs in its user once, and not after it expired.
pub async fn oauth_login_code_is_single_use_and_expires(s: OAuthStores) {
    let at = now();
    let user = s
        .users
        .create(new_user("coder", at), None)
        .await
        .expect("user");
    for (hash, ttl) in [("c1", 60), ("c2", 1)] {
        s.oauth
            .save_login_code(NewLoginCode {
                code_hash: hash.to_owned(),
                user_id: user.id,
                created_at: at,
                expires_at: plus_secs(at, ttl),
            })
            .await
            .expect("save");
    }
    assert_eq!(s.oauth.take_login_code("c1", at).await, Ok(Some(user.id)));
    assert_eq!(s.oauth.take_login_code("c1", at).await, Ok(None));
    assert_eq!(
        s.oauth.take_login_code("c2", plus_secs(at, 2)).await,
        Ok(None)
    );
}

/// User, link and audit row are written together; a taken identity or e-mail writes nothing.
pub async fn oauth_create_user_with_account_is_one_transaction(s: OAuthStores) {
    let at = now();
    let mut user = new_user("social", at);
    user.password_hash = User::NO_PASSWORD.to_owned();
    let link = account(user.id, "sub-1", at);
    let created = s
        .oauth
        .create_user_with_account(
            user.clone(),
            link.clone(),
            audit(AuditAction::OAuthSignUp, user.id, at),
        )
        .await
        .expect("create");
    assert!(!created.has_password());
    assert_eq!(
        s.oauth.find_account("acme", "sub-1").await,
        Ok(Some(link.clone()))
    );
    assert_eq!(s.oauth.find_account("other", "sub-1").await, Ok(None));

    // The same identity for another new user: nothing of that user is written.
    let second = new_user("second", at);
    let err = s
        .oauth
        .create_user_with_account(
            second.clone(),
            account(second.id, "sub-1", at),
            audit(AuditAction::OAuthSignUp, second.id, at),
        )
        .await;
    assert_eq!(err, Err(PortError::Conflict(Conflict::IdentityLinked)));
    assert_eq!(s.users.find_by_id(second.id).await, Ok(None));

    // An e-mail address that is taken: no link is written.
    let mut third = new_user("third", at);
    third.email = user.email.clone();
    let err = s
        .oauth
        .create_user_with_account(
            third.clone(),
            account(third.id, "sub-3", at),
            audit(AuditAction::OAuthSignUp, third.id, at),
        )
        .await;
    assert_eq!(err, Err(PortError::Conflict(Conflict::Email)));
    assert_eq!(s.oauth.find_account("acme", "sub-3").await, Ok(None));
    let rows = s.audit.list(Page::default()).await.expect("audit");
    assert_eq!(rows.total, 1, "only the successful sign-up is audited");
}

/// Links are listed per user, unique per identity, and audited.
pub async fn oauth_link_and_list(s: OAuthStores) {
    let at = now();
    let ada = s
        .users
        .create(new_user("ada", at), None)
        .await
        .expect("user");
    let bob = s
        .users
        .create(new_user("bob", at), None)
        .await
        .expect("user");
    let first = account(ada.id, "a-1", at);
    let mut second = account(ada.id, "a-2", plus_secs(at, 1));
    second.provider = "github".to_owned();
    for link in [&second, &first] {
        s.oauth
            .link_account(link.clone(), audit(AuditAction::OAuthLinked, link.id, at))
            .await
            .expect("link");
    }
    assert_eq!(
        s.oauth
            .link_account(
                account(bob.id, "a-1", at),
                audit(AuditAction::OAuthLinked, bob.id, at)
            )
            .await,
        Err(PortError::Conflict(Conflict::IdentityLinked))
    );
    assert_eq!(
        s.oauth.list_accounts(ada.id).await,
        Ok(vec![first, second]),
        "oldest first"
    );
    assert_eq!(s.oauth.list_accounts(bob.id).await, Ok(vec![]));
    assert_eq!(
        s.oauth
            .link_account(
                account(Uuid::new_v4(), "ghost", at),
                audit(AuditAction::OAuthLinked, bob.id, at)
            )
            .await,
        Err(PortError::NotFound)
    );
    assert_eq!(s.audit.list(Page::default()).await.expect("audit").total, 2);
}

/// A user without a password keeps one link; one with a password may remove them all; a
/// refused or foreign unlink changes nothing.
pub async fn oauth_unlink_keeps_the_last_way_to_sign_in(s: OAuthStores) {
    let at = now();
    let mut social = new_user("social", at);
    social.password_hash = User::NO_PASSWORD.to_owned();
    let only = account(social.id, "s-1", at);
    s.oauth
        .create_user_with_account(
            social.clone(),
            only.clone(),
            audit(AuditAction::OAuthSignUp, social.id, at),
        )
        .await
        .expect("create");
    let unlink = |user: Uuid, id: Uuid| {
        let oauth = s.oauth.clone();
        async move {
            oauth
                .unlink_account(user, id, audit(AuditAction::OAuthUnlinked, id, at))
                .await
        }
    };
    assert_eq!(
        unlink(social.id, only.id).await,
        Ok(UnlinkOutcome::LastSignInMethod)
    );
    assert_eq!(
        s.oauth.list_accounts(social.id).await,
        Ok(vec![only.clone()])
    );

    let mut other = account(social.id, "s-2", plus_secs(at, 1));
    other.provider = "github".to_owned();
    s.oauth
        .link_account(other.clone(), audit(AuditAction::OAuthLinked, other.id, at))
        .await
        .expect("link");
    let stranger = s
        .users
        .create(new_user("stranger", at), None)
        .await
        .expect("user");
    assert_eq!(unlink(stranger.id, only.id).await, Err(PortError::NotFound));
    assert_eq!(
        unlink(social.id, only.id).await,
        Ok(UnlinkOutcome::Unlinked)
    );
    assert_eq!(unlink(social.id, only.id).await, Err(PortError::NotFound));
    assert_eq!(
        unlink(social.id, other.id).await,
        Ok(UnlinkOutcome::LastSignInMethod)
    );

    // With a password, the last link may go.
    let link = account(stranger.id, "p-1", at);
    s.oauth
        .link_account(link.clone(), audit(AuditAction::OAuthLinked, link.id, at))
        .await
        .expect("link");
    assert_eq!(
        unlink(stranger.id, link.id).await,
        Ok(UnlinkOutcome::Unlinked)
    );
    let actions: Vec<AuditAction> = s
        .audit
        .list(Page::default())
        .await
        .expect("audit")
        .items
        .into_iter()
        .map(|e| e.action)
        .collect();
    let unlinks = actions
        .iter()
        .filter(|a| **a == AuditAction::OAuthUnlinked)
        .count();
    assert_eq!(unlinks, 2, "refused unlinks are not audited: {actions:?}");
}

/// The sweep deletes expired flows and login codes only.
pub async fn oauth_purge_expired_sweeps_flows_and_codes(s: OAuthStores) {
    let at = now();
    let user = s
        .users
        .create(new_user("swept", at), None)
        .await
        .expect("user");
    s.oauth.save_flow(flow("old", at, 60)).await.expect("save");
    s.oauth.save_flow(flow("new", at, 600)).await.expect("save");
    for (hash, ttl) in [("old-code", 60), ("new-code", 600)] {
        s.oauth
            .save_login_code(NewLoginCode {
                code_hash: hash.to_owned(),
                user_id: user.id,
                created_at: at,
                expires_at: plus_secs(at, ttl),
            })
            .await
            .expect("save");
    }
    assert_eq!(s.oauth.purge_expired(at).await, Ok(0));
    assert_eq!(s.oauth.purge_expired(plus_secs(at, 61)).await, Ok(2));
    assert_eq!(s.oauth.purge_expired(plus_secs(at, 61)).await, Ok(0));
    // What had not expired is still usable.
    assert!(s
        .oauth
        .take_flow("new", plus_secs(at, 61))
        .await
        .expect("take")
        .is_some());
    assert_eq!(
        s.oauth.take_login_code("new-code", plus_secs(at, 61)).await,
        Ok(Some(user.id))
    );
}

/// Expands to one `#[tokio::test]` per [`OAuthStore`] contract case. `$make` is an
/// expression whose `.await` yields fresh [`OAuthStores`].
#[macro_export]
macro_rules! oauth_contract {
    ($make:expr) => {
        $crate::__oauth_cases!(
            $make;
            oauth_flow_is_taken_once_and_expires,
            oauth_flow_take_race_has_one_winner,
            oauth_login_code_is_single_use_and_expires,
            oauth_create_user_with_account_is_one_transaction,
            oauth_link_and_list,
            oauth_unlink_keeps_the_last_way_to_sign_in,
            oauth_purge_expired_sweeps_flows_and_codes,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __oauth_cases {
    ($make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let stores = $make.await;
                $crate::testkit::oauth::$case(stores).await;
            }
        )*
    };
}
