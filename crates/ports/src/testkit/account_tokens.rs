//! Contract cases of [`crate::AccountTokenRepository`].

use ainative_domain::{AuditAction, Page};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::fixtures::{audit_entry, auth_session, new_user, now, plus_secs, refresh_token};
use super::Stores;
use crate::{NewAccountToken, PortError, TokenPurpose};

/// A token of `purpose` for `user` issued at `at`, valid for an hour, with a random hash.
pub fn account_token(user: Uuid, purpose: TokenPurpose, at: DateTime<Utc>) -> NewAccountToken {
    NewAccountToken {
        id: Uuid::new_v4(),
        user_id: user,
        purpose,
        token_hash: format!(
            "{:x}{:x}",
            Uuid::new_v4().as_u128(),
            Uuid::new_v4().as_u128()
        ),
        password_fingerprint: "fingerprint".to_owned(),
        sent_to: "someone@example.com".to_owned(),
        created_at: at,
        expires_at: plus_secs(at, 3600),
    }
}

/// A token is found by hash and purpose only while unconsumed and unexpired; an unknown
/// user cannot get one.
pub async fn account_token_issue_find_and_expiry(s: Stores) {
    let at = now();
    let user = new_user("tokened", at);
    s.users.create(user.clone(), None).await.expect("create");
    let token = account_token(user.id, TokenPurpose::ResetPassword, at);
    s.account_tokens.issue(token.clone()).await.expect("issue");

    let found = s
        .account_tokens
        .find_valid(
            TokenPurpose::ResetPassword,
            &token.token_hash,
            plus_secs(at, 10),
        )
        .await
        .expect("find")
        .expect("a valid token");
    assert_eq!(found.id, token.id);
    assert_eq!(found.user_id, user.id);
    assert_eq!(found.purpose, TokenPurpose::ResetPassword);
    assert_eq!(found.password_fingerprint, "fingerprint");
    assert_eq!(found.sent_to, "someone@example.com");
    assert_eq!(found.expires_at, token.expires_at);

    for (purpose, hash, when) in [
        (
            TokenPurpose::VerifyEmail,
            token.token_hash.as_str(),
            plus_secs(at, 10),
        ),
        (TokenPurpose::ResetPassword, "unknown", plus_secs(at, 10)),
        (
            TokenPurpose::ResetPassword,
            token.token_hash.as_str(),
            token.expires_at,
        ),
        (
            TokenPurpose::ResetPassword,
            token.token_hash.as_str(),
            plus_secs(at, 7200),
        ),
    ] {
        assert_eq!(
            s.account_tokens.find_valid(purpose, hash, when).await,
            Ok(None),
            "{purpose} {hash} at {when}"
        );
    }
    let orphan = account_token(Uuid::new_v4(), TokenPurpose::VerifyEmail, at);
    assert_eq!(
        s.account_tokens.issue(orphan).await,
        Err(PortError::NotFound)
    );
}

/// Issuing replaces the user's earlier token of the same purpose, not of the other purpose
/// or of another user.
pub async fn account_token_reissue_replaces_the_earlier_one(s: Stores) {
    let at = now();
    let user = new_user("reissued", at);
    let other = new_user("untouched", at);
    s.users.create(user.clone(), None).await.expect("create");
    s.users.create(other.clone(), None).await.expect("create");
    let first = account_token(user.id, TokenPurpose::VerifyEmail, at);
    let reset = account_token(user.id, TokenPurpose::ResetPassword, at);
    let others = account_token(other.id, TokenPurpose::VerifyEmail, at);
    for token in [&first, &reset, &others] {
        s.account_tokens.issue(token.clone()).await.expect("issue");
    }
    let second = account_token(user.id, TokenPurpose::VerifyEmail, plus_secs(at, 1));
    s.account_tokens
        .issue(second.clone())
        .await
        .expect("reissue");
    let when = plus_secs(at, 2);
    let find = |purpose, hash: String| {
        let tokens = s.account_tokens.clone();
        async move { tokens.find_valid(purpose, &hash, when).await.expect("find") }
    };
    assert!(find(TokenPurpose::VerifyEmail, first.token_hash.clone())
        .await
        .is_none());
    for (purpose, token) in [
        (TokenPurpose::VerifyEmail, &second),
        (TokenPurpose::ResetPassword, &reset),
        (TokenPurpose::VerifyEmail, &others),
    ] {
        assert!(find(purpose, token.token_hash.clone()).await.is_some());
    }
}

/// Redeeming a verification token marks the user verified, once; of two concurrent
/// redemptions exactly one succeeds.
pub async fn account_token_redeem_verification_once(s: Stores) {
    let at = now();
    let user = new_user("verifying", at);
    s.users.create(user.clone(), None).await.expect("create");
    let token = account_token(user.id, TokenPurpose::VerifyEmail, at);
    s.account_tokens.issue(token.clone()).await.expect("issue");
    let redeemed_at = plus_secs(at, 30);
    let (a, b) = tokio::join!(
        s.account_tokens
            .redeem_verification(token.id, user.id, redeemed_at),
        s.account_tokens
            .redeem_verification(token.id, user.id, redeemed_at),
    );
    let outcomes = [a, b];
    assert_eq!(
        outcomes.iter().filter(|o| o.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    assert!(outcomes.contains(&Err(PortError::NotFound)), "{outcomes:?}");
    let stored = s
        .users
        .find_by_id(user.id)
        .await
        .expect("find")
        .expect("user");
    assert!(stored.is_verified);
    assert_eq!(stored.updated_at, redeemed_at);
    assert_eq!(
        s.account_tokens
            .find_valid(TokenPurpose::VerifyEmail, &token.token_hash, redeemed_at)
            .await,
        Ok(None)
    );
}

/// A reset sets the password, verifies the address, deletes the user's other tokens,
/// revokes every session and writes the audit row, in one transaction; a second redemption
/// writes nothing.
pub async fn account_token_redeem_reset_is_atomic(s: Stores) {
    let at = now();
    let user = new_user("resetting", at);
    s.users.create(user.clone(), None).await.expect("create");
    let session = auth_session(user.id, at, 3600);
    s.sessions
        .start(session.clone(), refresh_token(at))
        .await
        .expect("start");
    let reset = account_token(user.id, TokenPurpose::ResetPassword, at);
    let verify = account_token(user.id, TokenPurpose::VerifyEmail, at);
    s.account_tokens.issue(reset.clone()).await.expect("issue");
    s.account_tokens.issue(verify.clone()).await.expect("issue");

    let done_at = plus_secs(at, 60);
    let audit = super::fixtures::audit_entry(user.id, done_at);
    let audit = ainative_domain::NewAuditEntry {
        action: AuditAction::PasswordReset,
        actor_id: Some(user.id),
        ..audit
    };
    let revoked = s
        .account_tokens
        .redeem_reset(reset.id, user.id, "$2b$04$reset-hash", audit.clone())
        .await
        .expect("redeem");
    assert_eq!(revoked, vec![session.id]);
    let stored = s
        .users
        .find_by_id(user.id)
        .await
        .expect("find")
        .expect("user");
    assert_eq!(stored.password_hash, "$2b$04$reset-hash");
    assert!(stored.is_verified);
    let found = s
        .sessions
        .find(session.id)
        .await
        .expect("find")
        .expect("session");
    assert_eq!(found.revoked_at, Some(done_at));
    for token in [&reset, &verify] {
        assert_eq!(
            s.account_tokens
                .find_valid(token.purpose, &token.token_hash, done_at)
                .await,
            Ok(None)
        );
    }
    let audit_rows = s.audit.list(Page::default()).await.expect("audit");
    assert_eq!(audit_rows.total, 1);
    assert_eq!(audit_rows.items[0].action, AuditAction::PasswordReset);

    let again = s
        .account_tokens
        .redeem_reset(
            reset.id,
            user.id,
            "$2b$04$other-hash",
            audit_entry(user.id, done_at),
        )
        .await;
    assert_eq!(again, Err(PortError::NotFound));
    let stored = s
        .users
        .find_by_id(user.id)
        .await
        .expect("find")
        .expect("user");
    assert_eq!(stored.password_hash, "$2b$04$reset-hash", "nothing written");
    assert_eq!(s.audit.list(Page::default()).await.expect("audit").total, 1);
}

/// The sweep deletes expired tokens only.
pub async fn account_token_purge_expired(s: Stores) {
    let at = now();
    let user = new_user("purged", at);
    s.users.create(user.clone(), None).await.expect("create");
    let reset = account_token(user.id, TokenPurpose::ResetPassword, at);
    let mut verify = account_token(user.id, TokenPurpose::VerifyEmail, at);
    verify.expires_at = plus_secs(at, 86_400);
    s.account_tokens.issue(reset.clone()).await.expect("issue");
    s.account_tokens.issue(verify.clone()).await.expect("issue");
    assert_eq!(s.account_tokens.purge_expired(at).await, Ok(0));
    let later = plus_secs(at, 3601);
    assert_eq!(s.account_tokens.purge_expired(later).await, Ok(1));
    assert_eq!(s.account_tokens.purge_expired(later).await, Ok(0));
    assert!(s
        .account_tokens
        .find_valid(TokenPurpose::VerifyEmail, &verify.token_hash, later)
        .await
        .expect("find")
        .is_some());
}
