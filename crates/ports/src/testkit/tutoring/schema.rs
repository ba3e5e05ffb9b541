//! The migration case of the tutoring schema.

use ainative_domain::{ActivityStatus, Page, RiskKind, RiskLevel};

use super::fixtures::{activity, instructor, record, risk, student, study_session};
use super::TutoringStores;
use crate::testkit::now;

/// Reverting the last two migrations and re-applying them round-trips; reverting the tutoring
/// migration keeps the identity data and drops the tutoring tables; afterwards every tutoring
/// port works again.
pub async fn tutoring_schema_down_up_round_trip(s: TutoringStores) {
    let schema = s
        .schema
        .clone()
        .expect("this case needs TutoringStores::from_schema_store");
    let versions: Vec<i64> = schema
        .migration_status()
        .await
        .expect("status")
        .iter()
        .map(|m| m.version)
        .collect();
    assert!(versions.len() >= 2, "identity and tutoring: {versions:?}");
    let last_two: Vec<i64> = versions[versions.len() - 2..].to_vec();
    let newest_first: Vec<i64> = last_two.iter().rev().copied().collect();
    assert_eq!(schema.migrate_down(2).await, Ok(newest_first));
    assert_eq!(schema.migrate_up().await, Ok(last_two));

    let at = now();
    let owner = instructor(&s, "owner", at).await;
    let tutoring = schema
        .migration_status()
        .await
        .expect("status")
        .into_iter()
        .find(|m| m.description == "tutoring")
        .expect("a tutoring migration");
    let newer = versions.iter().filter(|v| **v >= tutoring.version).count();
    let steps = u32::try_from(newer).expect("few migrations");
    assert_eq!(schema.migrate_down(steps).await.map(|v| v.len()), Ok(newer));
    assert!(
        s.activities.find(uuid::Uuid::new_v4()).await.is_err(),
        "the tutoring tables are gone"
    );
    assert!(
        s.users.find_by_id(owner).await.expect("find").is_some(),
        "the identity tables are kept"
    );
    assert_eq!(schema.migrate_up().await.map(|v| v.len()), Ok(newer));

    let learner = student(&s, "learner", at).await;
    let item = activity(owner, "After", ActivityStatus::Published, at);
    s.activities.create(item.clone()).await.expect("activity");
    let session = s
        .sessions
        .create(study_session(learner, item.id, at))
        .await
        .expect("session");
    let raised = risk(
        &session,
        None,
        RiskKind::AiDependency,
        RiskLevel::Medium,
        "k",
        at,
    );
    let stored = s
        .interactions
        .record(record(&session, at, vec![raised.clone()]), None)
        .await
        .expect("record");
    assert_eq!((stored.interaction.seq, stored.risks.len()), (1, 1));
    let listed = s
        .activities
        .list(
            &crate::ActivityFilter {
                visibility: crate::ActivityVisibility::All,
                status: None,
                tag: None,
            },
            Page::default(),
        )
        .await
        .expect("list");
    assert_eq!(listed.total, 1);
    assert_eq!(s.risks.find(raised.id).await, Ok(Some(raised)));
}
