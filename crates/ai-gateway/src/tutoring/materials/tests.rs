use ainative_domain::{ActivityStatus, Progress, Role, RoleSet, Stage, Tier};
use ainative_ports::{
    MockActivityRepository, MockClock, MockMaterialProgress, MockMaterialStore, PortError,
};
use chrono::{TimeZone, Utc};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::pipeline::testing::activity;

const LIMIT: usize = 64;

fn ctx(user_id: Uuid, roles: &[Role]) -> RequestContext {
    RequestContext::for_access_token(
        user_id,
        RoleSet::new(roles.iter().copied()).expect("roles"),
        Tier::Free,
        Uuid::new_v4(),
        Uuid::new_v4(),
        "req",
        None,
    )
}

fn clock() -> MockClock {
    let mut clock = MockClock::new();
    clock
        .expect_now()
        .returning(|| Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap());
    clock
}

fn activities_with(activity: Activity) -> MockActivityRepository {
    let mut activities = MockActivityRepository::new();
    activities
        .expect_find()
        .returning(move |_| Ok(Some(activity.clone())));
    activities
}

fn service(
    activities: MockActivityRepository,
    materials: MockMaterialStore,
    progress: MockMaterialProgress,
) -> MaterialService {
    MaterialService::new(
        Arc::new(activities),
        Arc::new(materials),
        Arc::new(progress),
        Arc::new(clock()),
        LIMIT,
    )
}

fn upload(content_type: &str, content: &[u8]) -> MaterialUpload {
    MaterialUpload {
        title: "  Recursion notes ".into(),
        content_type: content_type.into(),
        content: content.to_vec(),
    }
}

fn owned(status: ActivityStatus) -> (Uuid, Activity) {
    let owner = Uuid::new_v4();
    let mut a = activity();
    a.owner_id = owner;
    a.status = status;
    (owner, a)
}

#[tokio::test]
async fn the_owner_uploads_and_the_job_is_enqueued_with_it() {
    let (owner, a) = owned(ActivityStatus::Draft);
    let activity_id = a.id;
    let mut materials = MockMaterialStore::new();
    materials
        .expect_create()
        .withf(move |m, content, job| {
            m.activity_id == activity_id
                && m.title == "Recursion notes"
                && m.content_type == MaterialContentType::Markdown
                && m.size_bytes == 7
                && m.status == StageStatus::Pending
                && content == b"# Title"
                && job.kind == "material.process"
                && job.payload["material_id"] == serde_json::json!(m.id)
                && job.max_attempts == PROCESSING_ATTEMPTS
        })
        .times(1)
        .returning(|_, _, _| Ok(()));
    let svc = service(activities_with(a), materials, MockMaterialProgress::new());
    let material = svc
        .upload(
            &ctx(owner, &[Role::Instructor]),
            activity_id,
            upload("text/markdown; charset=utf-8", b"# Title"),
        )
        .await
        .expect("uploaded");
    assert_eq!(material.created_by, owner);
}

#[tokio::test]
async fn uploads_are_refused_for_others_and_bad_input() {
    let (owner, draft) = owned(ActivityStatus::Draft);
    let (_, published) = owned(ActivityStatus::Published);
    let stranger = ctx(Uuid::new_v4(), &[Role::Instructor]);
    let student = ctx(Uuid::new_v4(), &[Role::Student]);
    let svc = |a: &Activity| {
        let mut materials = MockMaterialStore::new();
        materials.expect_create().never();
        service(
            activities_with(a.clone()),
            materials,
            MockMaterialProgress::new(),
        )
    };
    let body = || upload("text/plain", b"text");
    let err = svc(&draft).upload(&stranger, draft.id, body()).await;
    assert!(
        matches!(err, Err(TutoringError::NotFound("activity"))),
        "{err:?}"
    );
    let err = svc(&published)
        .upload(&stranger, published.id, body())
        .await;
    assert!(matches!(err, Err(TutoringError::Forbidden(_))), "{err:?}");
    let err = svc(&published).upload(&student, published.id, body()).await;
    assert!(matches!(err, Err(TutoringError::Forbidden(_))), "{err:?}");

    let me = ctx(owner, &[Role::Instructor]);
    let err = svc(&draft)
        .upload(&me, draft.id, upload("text/plain", &[b'a'; LIMIT + 1]))
        .await;
    assert!(
        matches!(err, Err(TutoringError::PayloadTooLarge)),
        "{err:?}"
    );
    let err = svc(&draft)
        .upload(&me, draft.id, upload("image/png", b"x"))
        .await;
    assert!(
        matches!(err, Err(TutoringError::UnsupportedContentType)),
        "{err:?}"
    );
    let err = svc(&draft)
        .upload(&me, draft.id, upload("text/plain", b" \n\t"))
        .await;
    let Err(TutoringError::Validation(errors)) = err else {
        panic!("{err:?}");
    };
    assert_eq!(errors.0[0].field, "content");
    let mut untitled = body();
    untitled.title = "  ".into();
    let err = svc(&draft).upload(&me, draft.id, untitled).await;
    assert!(matches!(err, Err(TutoringError::Validation(_))), "{err:?}");
}

fn stored(activity_id: Uuid) -> Material {
    Material::uploaded(
        activity_id,
        "Notes".into(),
        MaterialContentType::PlainText,
        4,
        Uuid::new_v4(),
        Utc::now(),
    )
}

#[tokio::test]
async fn status_shows_the_latest_progress_of_the_running_stage() {
    let (owner, a) = owned(ActivityStatus::Published);
    let material = stored(a.id);
    let id = material.id;
    let mut status = MaterialStatus::new();
    status.start(Stage::Ingestion, Utc::now()).expect("start");
    let mut materials = MockMaterialStore::new();
    materials
        .expect_find()
        .returning(move |_| Ok(Some(material.clone())));
    materials
        .expect_status()
        .returning(move |_| Ok(Some(status.clone())));
    let mut progress = MockMaterialProgress::new();
    progress
        .expect_read()
        .returning(|_| Ok(vec![(Stage::Ingestion, Progress::new(0.4))]));
    let svc = service(activities_with(a), materials, progress);
    let (_, status) = svc
        .status(&ctx(owner, &[Role::Instructor]), id)
        .await
        .expect("status");
    assert_eq!(status.stage(Stage::Ingestion).progress, Progress::new(0.4));
    assert_eq!(status.overall(), StageStatus::Processing);
}

#[tokio::test]
async fn progress_unavailable_falls_back_to_the_stored_status() {
    let (owner, a) = owned(ActivityStatus::Published);
    let material = stored(a.id);
    let id = material.id;
    let mut status = MaterialStatus::new();
    status.start(Stage::Ingestion, Utc::now()).expect("start");
    status
        .advance(Stage::Ingestion, Progress::new(0.2))
        .expect("advance");
    let expected = status.clone();
    let mut materials = MockMaterialStore::new();
    materials
        .expect_find()
        .returning(move |_| Ok(Some(material.clone())));
    materials
        .expect_status()
        .returning(move |_| Ok(Some(status.clone())));
    let mut progress = MockMaterialProgress::new();
    progress
        .expect_read()
        .returning(|_| Err(PortError::Unavailable("redis down".into())));
    let svc = service(activities_with(a), materials, progress);
    let (_, status) = svc
        .status(&ctx(owner, &[Role::Instructor]), id)
        .await
        .expect("status");
    assert_eq!(status, expected);
}

#[tokio::test]
async fn a_material_by_id_is_invisible_to_others() {
    let (_, a) = owned(ActivityStatus::Published);
    let material = stored(a.id);
    let id = material.id;
    let mut materials = MockMaterialStore::new();
    materials
        .expect_find()
        .returning(move |_| Ok(Some(material.clone())));
    materials.expect_status().never();
    materials.expect_delete().never();
    let svc = service(activities_with(a), materials, MockMaterialProgress::new());
    for roles in [&[Role::Student][..], &[Role::Instructor][..]] {
        let caller = ctx(Uuid::new_v4(), roles);
        let err = svc.status(&caller, id).await;
        assert!(
            matches!(err, Err(TutoringError::NotFound("material"))),
            "{err:?}"
        );
        let err = svc.delete(&caller, id).await;
        if roles == [Role::Student] {
            // Students' credentials lack `activities:write`: refused before any read.
            assert!(matches!(err, Err(TutoringError::Forbidden(_))), "{err:?}");
        } else {
            assert!(
                matches!(err, Err(TutoringError::NotFound("material"))),
                "{err:?}"
            );
        }
    }
}

#[tokio::test]
async fn delete_tells_the_hook_and_admins_may_delete() {
    let (_, a) = owned(ActivityStatus::Draft);
    let activity_id = a.id;
    let material = stored(a.id);
    let id = material.id;
    let mut materials = MockMaterialStore::new();
    materials
        .expect_find()
        .returning(move |_| Ok(Some(material.clone())));
    materials.expect_delete().times(1).returning(|_| Ok(()));
    let told = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&told);
    let svc = service(activities_with(a), materials, MockMaterialProgress::new()).on_change(
        Arc::new(move |activity| {
            assert_eq!(activity, activity_id);
            seen.fetch_add(1, Ordering::SeqCst);
        }),
    );
    svc.delete(&ctx(Uuid::new_v4(), &[Role::Admin]), id)
        .await
        .expect("deleted");
    assert_eq!(told.load(Ordering::SeqCst), 1);
}
