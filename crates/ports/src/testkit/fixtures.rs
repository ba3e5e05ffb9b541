//! Builders shared by the contract cases.

use ainative_domain::{AuditAction, Email, NewAuditEntry, RoleSet, Tier, Username};
use chrono::{DateTime, Duration, SubsecRound, Utc};
use uuid::Uuid;

use crate::{AuthSession, NewRefreshToken, NewUser};

/// The current time truncated to milliseconds, which every backend stores exactly.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// `at` plus `secs` seconds.
pub fn plus_secs(at: DateTime<Utc>, secs: i64) -> DateTime<Utc> {
    at + Duration::seconds(secs)
}

/// An active, unverified student named `username`, with e-mail `<username>@example.com`
/// (lower-cased) and no student id, created at `at`.
pub fn new_user(username: &str, at: DateTime<Utc>) -> NewUser {
    NewUser {
        id: Uuid::new_v4(),
        email: Email::parse(&format!("{username}@example.com")).expect("valid test e-mail"),
        username: Username::parse(username).expect("valid test username"),
        full_name: format!("{username} Example"),
        student_id: None,
        roles: RoleSet::student(),
        tier: Tier::Free,
        is_active: true,
        is_verified: false,
        password_hash: "$2b$04$abcdefghijklmnopqrstuuKq2jv2s8v5jc0bH0zG6Yb8G6bJ1Ue2a".to_owned(),
        created_at: at,
    }
}

/// An audit row about user `target`, written at `at`.
pub fn audit_entry(target: Uuid, at: DateTime<Utc>) -> NewAuditEntry {
    NewAuditEntry {
        actor_id: Some(Uuid::new_v4()),
        action: AuditAction::UserUpdated,
        target_type: "user".to_owned(),
        target_id: target,
        details: serde_json::json!({
            "before": { "tier": "free", "roles": ["student"] },
            "after": { "tier": "premium", "roles": ["student", "instructor"] },
            "note": "ünïcödé ✓",
        }),
        at,
    }
}

/// A refresh token issued at `at`, with a random hash.
pub fn refresh_token(at: DateTime<Utc>) -> NewRefreshToken {
    NewRefreshToken {
        jti: Uuid::new_v4(),
        token_hash: format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple()),
        issued_at: at,
    }
}

/// A session of `user_id` starting at `at` and ending `ttl_secs` later.
pub fn auth_session(user_id: Uuid, at: DateTime<Utc>, ttl_secs: i64) -> AuthSession {
    AuthSession {
        id: Uuid::new_v4(),
        user_id,
        created_at: at,
        expires_at: plus_secs(at, ttl_secs),
        revoked_at: None,
    }
}

/// Sorts a list of ids, for order-insensitive comparisons.
pub fn sorted(mut ids: Vec<Uuid>) -> Vec<Uuid> {
    ids.sort();
    ids
}
