//! Contract cases of [`crate::ActivityRepository`].

use std::collections::BTreeMap;

use ainative_domain::{
    Activity, ActivityPolicies, ActivityStatus, Difficulty, HelpLevel, Page, Paginated,
};
use uuid::Uuid;

use super::fixtures::{activity, instructor, page_ids};
use super::TutoringStores;
use crate::testkit::{now, plus_secs};
use crate::{ActivityFilter, ActivityVisibility, PortError};

fn ids(page: &Paginated<Activity>) -> Vec<Uuid> {
    page_ids(page, |a| a.id)
}

fn filter(visibility: ActivityVisibility) -> ActivityFilter {
    ActivityFilter {
        visibility,
        status: None,
        tag: None,
    }
}

fn page(limit: i64, offset: i64) -> Page {
    Page::new(Some(limit), Some(offset)).expect("valid page")
}

/// `create` stores an activity that `find` returns exactly (policies included); unknown ids
/// are `None`, an unknown owner is `NotFound`, a duplicate id a conflict.
pub async fn activity_create_and_find(s: TutoringStores) {
    let at = now();
    let owner = instructor(&s, "owner", at).await;
    let loops = activity(owner, "Loops", ActivityStatus::Draft, at);
    assert_eq!(s.activities.create(loops.clone()).await, Ok(loops.clone()));
    assert_eq!(s.activities.find(loops.id).await, Ok(Some(loops.clone())));
    assert_eq!(s.activities.find(Uuid::new_v4()).await, Ok(None));

    let mut plain = activity(owner, "Plain", ActivityStatus::Published, plus_secs(at, 1));
    plain.content.description = String::new();
    plain.content.tags = Vec::new();
    plain.content.evaluation_criteria = Vec::new();
    plain.content.policies = ActivityPolicies::default();
    assert_eq!(s.activities.create(plain.clone()).await, Ok(plain.clone()));
    assert_eq!(s.activities.find(plain.id).await, Ok(Some(plain)));

    let orphan = activity(Uuid::new_v4(), "Orphan", ActivityStatus::Draft, at);
    assert_eq!(
        s.activities.create(orphan.clone()).await,
        Err(PortError::NotFound)
    );
    assert_eq!(s.activities.find(orphan.id).await, Ok(None));

    let mut twin = activity(owner, "Twin", ActivityStatus::Draft, at);
    twin.id = loops.id;
    assert!(
        matches!(s.activities.create(twin).await, Err(PortError::Conflict(_))),
        "a duplicate id is a conflict"
    );
    assert_eq!(s.activities.find(loops.id).await, Ok(Some(loops)));
}

/// Admins see everything, instructors published ones plus their own, students published
/// ones only; newest first.
pub async fn activity_list_visibility(s: TutoringStores) {
    let at = now();
    let a = instructor(&s, "inst_a", at).await;
    let b = instructor(&s, "inst_b", at).await;
    let mut made = Vec::new();
    for (i, (owner, status)) in [
        (a, ActivityStatus::Draft),
        (a, ActivityStatus::Published),
        (a, ActivityStatus::Archived),
        (b, ActivityStatus::Draft),
        (b, ActivityStatus::Published),
    ]
    .into_iter()
    .enumerate()
    {
        let item = activity(owner, &format!("A{i}"), status, plus_secs(at, i as i64));
        s.activities.create(item.clone()).await.expect("create");
        made.push(item.id);
    }
    let [a_draft, a_pub, a_arch, b_draft, b_pub] = made[..] else {
        panic!("five activities");
    };

    let stores = &s;
    let list = move |visibility| async move {
        stores
            .activities
            .list(&filter(visibility), Page::default())
            .await
            .expect("list")
    };
    let all = list(ActivityVisibility::All).await;
    assert_eq!(ids(&all), [b_pub, b_draft, a_arch, a_pub, a_draft]);
    assert_eq!(all.total, 5);
    assert_eq!(
        ids(&list(ActivityVisibility::PublishedOrOwnedBy(a)).await),
        [b_pub, a_arch, a_pub, a_draft]
    );
    assert_eq!(
        ids(&list(ActivityVisibility::PublishedOrOwnedBy(b)).await),
        [b_pub, b_draft, a_pub]
    );
    let published = list(ActivityVisibility::Published).await;
    assert_eq!(ids(&published), [b_pub, a_pub]);
    assert_eq!(published.total, 2);
    assert_eq!(
        ids(&list(ActivityVisibility::PublishedOrOwnedBy(Uuid::new_v4())).await),
        [b_pub, a_pub]
    );
}

/// Status and tag filters combine with visibility; totals count the whole filtered list;
/// equal creation times are ordered by id, descending.
pub async fn activity_list_filters_and_pagination(s: TutoringStores) {
    let at = now();
    let owner = instructor(&s, "owner", at).await;
    let mut made = Vec::new();
    for i in 0..5 {
        let status = if i % 2 == 0 {
            ActivityStatus::Published
        } else {
            ActivityStatus::Draft
        };
        let mut item = activity(owner, &format!("A{i}"), status, plus_secs(at, i));
        if i % 2 == 1 {
            item.content.tags = vec!["recursion".to_owned()];
        }
        s.activities.create(item.clone()).await.expect("create");
        made.push(item.id);
    }
    let all = |status, tag: Option<&str>| ActivityFilter {
        visibility: ActivityVisibility::All,
        status,
        tag: tag.map(str::to_owned),
    };

    let got = s
        .activities
        .list(&all(Some(ActivityStatus::Published), None), Page::default())
        .await
        .expect("list");
    assert_eq!(ids(&got), [made[4], made[2], made[0]]);
    assert_eq!(got.total, 3);
    let got = s
        .activities
        .list(&all(None, Some("recursion")), Page::default())
        .await
        .expect("list");
    assert_eq!(ids(&got), [made[3], made[1]]);
    let got = s
        .activities
        .list(&all(None, Some("loops")), Page::default())
        .await
        .expect("list");
    assert_eq!(ids(&got), [made[4], made[2], made[0]]);
    let got = s
        .activities
        .list(
            &all(Some(ActivityStatus::Draft), Some("loops")),
            Page::default(),
        )
        .await
        .expect("list");
    assert_eq!((got.items.len(), got.total), (0, 0));
    let students = ActivityFilter {
        tag: Some("recursion".to_owned()),
        ..filter(ActivityVisibility::Published)
    };
    let got = s
        .activities
        .list(&students, Page::default())
        .await
        .expect("list");
    assert_eq!(got.total, 0, "drafts stay hidden whatever the filter");

    let everything = all(None, None);
    let first = s
        .activities
        .list(&everything, page(2, 0))
        .await
        .expect("page 1");
    assert_eq!(ids(&first), [made[4], made[3]]);
    assert_eq!((first.total, first.limit, first.offset), (5, 2, 0));
    let second = s
        .activities
        .list(&everything, page(2, 2))
        .await
        .expect("page 2");
    assert_eq!(ids(&second), [made[2], made[1]]);
    let last = s
        .activities
        .list(&everything, page(2, 4))
        .await
        .expect("page 3");
    assert_eq!(ids(&last), [made[0]]);
    let beyond = s
        .activities
        .list(&everything, page(2, 10))
        .await
        .expect("beyond");
    assert_eq!((beyond.items.len(), beyond.total), (0, 5));

    // Two activities created at the same instant: by id, descending.
    let same = plus_secs(at, 100);
    let x = activity(owner, "X", ActivityStatus::Draft, same);
    let y = activity(owner, "Y", ActivityStatus::Draft, same);
    s.activities.create(x.clone()).await.expect("create x");
    s.activities.create(y.clone()).await.expect("create y");
    let mut tied = vec![x.id, y.id];
    tied.sort_by(|l, r| r.cmp(l));
    let got = s
        .activities
        .list(&everything, page(2, 0))
        .await
        .expect("tied");
    assert_eq!(ids(&got), tied);
}

/// Every combination of visibility, status and tag: the page holds the right rows and the
/// total counts the whole filtered list, also on pages past the end; an instructor's own
/// published activity is counted once.
pub async fn activity_list_totals_for_every_filter(s: TutoringStores) {
    let at = now();
    let a = instructor(&s, "inst_a", at).await;
    let b = instructor(&s, "inst_b", at).await;
    let mut made = Vec::new();
    for (i, (owner, status, tag)) in [
        (a, ActivityStatus::Draft, Some("recursion")),
        (a, ActivityStatus::Published, None),
        (a, ActivityStatus::Archived, None),
        (b, ActivityStatus::Draft, None),
        (b, ActivityStatus::Published, Some("recursion")),
        (a, ActivityStatus::Draft, None),
        (b, ActivityStatus::Published, None),
        (b, ActivityStatus::Archived, Some("recursion")),
    ]
    .into_iter()
    .enumerate()
    {
        let mut item = activity(owner, &format!("A{i}"), status, plus_secs(at, i as i64));
        if let Some(tag) = tag {
            item.content.tags = vec![tag.to_owned()];
        }
        s.activities.create(item.clone()).await.expect("create");
        made.push(item);
    }
    made.reverse(); // newest first, as listed

    let visibilities = [
        ActivityVisibility::All,
        ActivityVisibility::Published,
        ActivityVisibility::PublishedOrOwnedBy(a),
        ActivityVisibility::PublishedOrOwnedBy(b),
        ActivityVisibility::PublishedOrOwnedBy(Uuid::new_v4()),
    ];
    let statuses = [
        None,
        Some(ActivityStatus::Draft),
        Some(ActivityStatus::Published),
        Some(ActivityStatus::Archived),
    ];
    let tags = [None, Some("recursion"), Some("loops"), Some("unknown")];
    for visibility in visibilities {
        for status in statuses {
            for tag in tags {
                let expected: Vec<Uuid> = made
                    .iter()
                    .filter(|x| match visibility {
                        ActivityVisibility::All => true,
                        ActivityVisibility::Published => x.status == ActivityStatus::Published,
                        ActivityVisibility::PublishedOrOwnedBy(owner) => {
                            x.status == ActivityStatus::Published || x.owner_id == owner
                        }
                    })
                    .filter(|x| status.is_none_or(|status| x.status == status))
                    .filter(|x| tag.is_none_or(|tag| x.content.tags.iter().any(|t| t == tag)))
                    .map(|x| x.id)
                    .collect();
                let filter = ActivityFilter {
                    visibility,
                    status,
                    tag: tag.map(str::to_owned),
                };
                let case = format!("{visibility:?}, {status:?}, {tag:?}");
                let total = expected.len() as u64;
                for offset in [0, 2, 7, 100] {
                    let got = s
                        .activities
                        .list(&filter, page(2, offset))
                        .await
                        .expect("list");
                    let window: Vec<Uuid> = expected
                        .iter()
                        .skip(offset as usize)
                        .take(2)
                        .copied()
                        .collect();
                    assert_eq!(ids(&got), window, "{case}, offset {offset}");
                    assert_eq!(got.total, total, "{case}, offset {offset}");
                    assert_eq!((got.limit, got.offset), (2, offset as u64), "{case}");
                }
            }
        }
    }
}

/// `update` replaces content, policies, status, `published_at` and `updated_at` (never the
/// owner or the creation time); an unknown id is `NotFound`.
pub async fn activity_update_replaces_fields(s: TutoringStores) {
    let at = now();
    let owner = instructor(&s, "owner", at).await;
    let original = activity(owner, "Loops", ActivityStatus::Draft, at);
    s.activities.create(original.clone()).await.expect("create");

    let later = plus_secs(at, 60);
    let mut changed = original.clone();
    changed.content.title = "Loops, revised".to_owned();
    changed.content.description = "New description".to_owned();
    changed.content.instructions = "New instructions".to_owned();
    changed.content.subject = "rust".to_owned();
    changed.content.difficulty = Difficulty::Advanced;
    changed.content.tags = vec!["iterators".to_owned()];
    changed.content.evaluation_criteria = vec!["idiomatic".to_owned()];
    changed.content.policies = ActivityPolicies {
        max_help_level: HelpLevel::High,
        max_interactions: Some(3),
        risk_thresholds: BTreeMap::from([("ai_dependency".to_owned(), 0.9)]),
        ..ActivityPolicies::default()
    };
    changed.status = ActivityStatus::Published;
    changed.published_at = Some(later);
    changed.updated_at = later;
    let mut request = changed.clone();
    request.owner_id = Uuid::new_v4();
    request.created_at = plus_secs(at, -3600);

    assert_eq!(s.activities.update(&request).await, Ok(changed.clone()));
    assert_eq!(
        s.activities.find(original.id).await,
        Ok(Some(changed.clone()))
    );

    let mut archived = changed.clone();
    archived.status = ActivityStatus::Archived;
    archived.content.policies = ActivityPolicies::default();
    archived.updated_at = plus_secs(at, 120);
    assert_eq!(s.activities.update(&archived).await, Ok(archived.clone()));
    assert_eq!(s.activities.find(original.id).await, Ok(Some(archived)));

    let unknown = activity(owner, "Ghost", ActivityStatus::Draft, at);
    assert_eq!(
        s.activities.update(&unknown).await,
        Err(PortError::NotFound)
    );
    assert_eq!(s.activities.find(unknown.id).await, Ok(None));
}
