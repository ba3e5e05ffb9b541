//! Contract cases of [`crate::AuditLog`].

use ainative_domain::{AuditAction, Page, UserPatch};

use super::fixtures::{audit_entry, new_user, now, plus_secs};
use super::Stores;

/// The audit log lists newest first, pages, and counts every row.
pub async fn audit_list_newest_first(s: Stores) {
    let at = now();
    let first = new_user("audited_1", at);
    let mut first_audit = audit_entry(first.id, plus_secs(at, 1));
    first_audit.action = AuditAction::AdminCreated;
    first_audit.actor_id = None;
    s.users
        .create(first.clone(), Some(first_audit.clone()))
        .await
        .expect("create");

    let second = new_user("audited_2", at);
    let second_audit = audit_entry(second.id, plus_secs(at, 3));
    s.users
        .create(second.clone(), Some(second_audit.clone()))
        .await
        .expect("create");

    let patch_audit = audit_entry(first.id, plus_secs(at, 2));
    s.users
        .apply_patch(first.id, &UserPatch::default(), patch_audit.clone(), false)
        .await
        .expect("apply_patch");

    let all = s.audit.list(Page::default()).await.expect("list");
    assert_eq!(all.total, 3);
    let times: Vec<_> = all.items.iter().map(|e| e.created_at).collect();
    assert_eq!(
        times,
        vec![plus_secs(at, 3), plus_secs(at, 2), plus_secs(at, 1)]
    );
    let oldest = &all.items[2];
    assert_eq!(oldest.action, AuditAction::AdminCreated);
    assert_eq!(oldest.actor_id, None);
    assert_eq!(oldest.target_type, "user");
    assert_eq!(oldest.target_id, first.id);
    assert_eq!(oldest.details, first_audit.details);
    assert_eq!(all.items[0].action, AuditAction::UserUpdated);
    assert_eq!(all.items[0].target_id, second.id);
    assert_eq!(all.items[0].actor_id, second_audit.actor_id);

    let head = s
        .audit
        .list(Page::new(Some(2), Some(0)).expect("page"))
        .await
        .expect("list");
    assert_eq!(head.items, all.items[..2].to_vec());
    assert_eq!((head.total, head.limit, head.offset), (3, 2, 0));

    let tail = s
        .audit
        .list(Page::new(Some(2), Some(2)).expect("page"))
        .await
        .expect("list");
    assert_eq!(tail.items, all.items[2..].to_vec());
    assert_eq!(tail.total, 3);
}
