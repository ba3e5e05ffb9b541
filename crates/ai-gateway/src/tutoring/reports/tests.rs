use ainative_domain::{ReportBody, ReportStatus, Role, RoleSet, Tier};
use ainative_ports::{MockActivityRepository, MockClock, MockReportRepository};
use chrono::{TimeZone, Utc};

use super::*;
use crate::pipeline::testing::activity;

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

fn service(activity: Option<Activity>, reports: MockReportRepository) -> ReportService {
    let mut activities = MockActivityRepository::new();
    activities
        .expect_find()
        .returning(move |_| Ok(activity.clone()));
    ReportService::new(Arc::new(activities), Arc::new(reports), Arc::new(clock()))
}

#[tokio::test]
async fn the_owner_requests_a_report_with_its_job_in_one_call() {
    let a = activity();
    let mut reports = MockReportRepository::new();
    let activity_id = a.id;
    reports
        .expect_create()
        .withf(move |report, job| {
            report.activity_id == activity_id
                && report.status == ReportStatus::Pending
                && job.kind == REPORT_BUILD_JOB
                && job.payload == serde_json::json!({ "report_id": report.id })
                && job.unique_key == Some(format!("report:{}", report.id))
                && job.max_attempts == REPORT_ATTEMPTS
        })
        .times(1)
        .returning(|_, _| Ok(()));
    let owner = a.owner_id;
    let svc = service(Some(a), reports);
    let report = svc
        .request(&ctx(owner, &[Role::Instructor]), activity_id)
        .await
        .expect("requested");
    assert_eq!(report.requested_by, owner);
}

#[tokio::test]
async fn only_the_owner_and_admins_see_reports() {
    let a = activity();
    let report = Report::requested(a.id, a.owner_id, Utc::now());
    let mut reports = MockReportRepository::new();
    let found = report.clone();
    reports
        .expect_find()
        .returning(move |_| Ok(Some(found.clone())));
    reports.expect_create().never();
    let (owner, activity_id) = (a.owner_id, a.id);
    let svc = service(Some(a), reports);
    for roles in [&[Role::Student][..], &[Role::Instructor]] {
        let other = ctx(Uuid::new_v4(), roles);
        assert!(matches!(
            svc.request(&other, activity_id).await,
            Err(TutoringError::NotFound("activity"))
        ));
        assert!(matches!(
            svc.get(&other, report.id).await,
            Err(TutoringError::NotFound("report"))
        ));
    }
    let admin = ctx(Uuid::new_v4(), &[Role::Admin]);
    assert_eq!(
        svc.get(&admin, report.id).await.expect("admin").id,
        report.id
    );
    let owner = ctx(owner, &[Role::Instructor]);
    assert_eq!(
        svc.get(&owner, report.id).await.expect("owner").id,
        report.id
    );
}

#[tokio::test]
async fn an_unknown_activity_is_not_found() {
    let svc = service(None, MockReportRepository::new());
    let admin = ctx(Uuid::new_v4(), &[Role::Admin]);
    assert!(matches!(
        svc.request(&admin, Uuid::new_v4()).await,
        Err(TutoringError::NotFound("activity"))
    ));
}

/// Reports whose `find` answers a pending report and whose `start` succeeds.
fn started(report: &Report) -> MockReportRepository {
    let mut reports = MockReportRepository::new();
    let found = report.clone();
    reports
        .expect_find()
        .returning(move |_| Ok(Some(found.clone())));
    reports.expect_start().times(1).returning(|_, _| Ok(()));
    reports
}

#[tokio::test]
async fn a_build_stores_the_aggregates() {
    let report = Report::requested(Uuid::new_v4(), Uuid::new_v4(), Utc::now());
    let mut reports = started(&report);
    reports
        .expect_aggregate()
        .returning(|_| Ok(ReportBody::default()));
    reports
        .expect_complete()
        .times(1)
        .returning(|_, _, _| Ok(()));
    reports.expect_fail().never();
    let svc = service(None, reports);
    assert_eq!(
        svc.build(report.id, false).await.expect("built"),
        BuildOutcome::Completed
    );
}

#[tokio::test]
async fn a_deleted_activity_fails_the_report_at_once() {
    let report = Report::requested(Uuid::new_v4(), Uuid::new_v4(), Utc::now());
    let mut reports = started(&report);
    reports
        .expect_aggregate()
        .returning(|_| Err(PortError::NotFound));
    let wanted = format!("activity {} no longer exists", report.activity_id);
    let expected = wanted.clone();
    reports
        .expect_fail()
        .withf(move |_, error, _| error == expected)
        .times(1)
        .returning(|_, _, _| Ok(()));
    let svc = service(None, reports);
    assert_eq!(
        svc.build(report.id, false).await.expect("handled"),
        BuildOutcome::Failed(wanted)
    );
}

#[tokio::test]
async fn a_storage_error_is_retried_until_the_last_attempt() {
    let report = Report::requested(Uuid::new_v4(), Uuid::new_v4(), Utc::now());
    let mut reports = started(&report);
    reports
        .expect_aggregate()
        .returning(|_| Err(PortError::Unavailable("database down".to_owned().into())));
    reports.expect_fail().never();
    let svc = service(None, reports);
    assert!(svc.build(report.id, false).await.is_err());

    let mut reports = started(&report);
    reports
        .expect_aggregate()
        .returning(|_| Err(PortError::Unavailable("database down".to_owned().into())));
    reports
        .expect_fail()
        .withf(|_, error, _| error.starts_with("could not aggregate"))
        .times(1)
        .returning(|_, _, _| Ok(()));
    let svc = service(None, reports);
    assert!(matches!(
        svc.build(report.id, true).await,
        Ok(BuildOutcome::Failed(_))
    ));
}

#[tokio::test]
async fn a_vanished_report_is_nothing_to_do() {
    let mut reports = MockReportRepository::new();
    reports.expect_find().returning(|_| Ok(None));
    reports.expect_start().never();
    let svc = service(None, reports);
    assert_eq!(
        svc.build(Uuid::new_v4(), false).await.expect("ok"),
        BuildOutcome::Gone
    );
}
