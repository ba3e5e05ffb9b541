//! Contract cases of [`ReportRepository`]: report rows and their job, and the aggregation of
//! an activity's sessions against hand-computed numbers.
//!
//! ```ignore
//! ainative_ports::reports_contract!(make());
//! ```

use std::sync::Arc;

use ainative_domain::{
    ActivityStatus, CognitiveState, DimensionScore, Page, Report, ReportBody, ReportStatus,
    RiskKind, RiskLevel, SessionStatus, StateTime, StudySession, TraceLevel,
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::fixtures::{audit_entry, now, plus_secs};
use super::tutoring::{
    activity, evaluation, instructor, interaction, risk, student, study_session, trace,
    TutoringStores,
};
use crate::{InteractionRecord, JobQueue, NewJob, PortError, ReportRepository, REPORT_BUILD_JOB};

/// The report port of one backend, with the tutoring ports to set up sessions and the job
/// queue to see the enqueued build.
pub struct ReportStores {
    /// Users, activities, sessions (and the guard of the database).
    pub tutoring: TutoringStores,
    /// Reports.
    pub reports: Arc<dyn ReportRepository>,
    /// The job queue.
    pub jobs: Arc<dyn JobQueue>,
}

impl ReportStores {
    /// Uses one store for both ports; `tutoring` must be built on the same store.
    pub fn new<S>(store: Arc<S>, tutoring: TutoringStores) -> Self
    where
        S: ReportRepository + JobQueue + 'static,
    {
        Self {
            tutoring,
            reports: store.clone(),
            jobs: store,
        }
    }
}

/// Expands to one `#[tokio::test]` per report contract case.
#[macro_export]
macro_rules! reports_contract {
    ($make:expr) => {
        $crate::__report_cases!(
            $make;
            report_rows_and_their_job,
            report_aggregates_hand_computed_numbers,
            report_of_an_empty_activity_is_zeros,
            report_traces_stream_across_pages,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __report_cases {
    ($make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let stores = $make.await;
                $crate::testkit::reports::$case(stores).await;
            }
        )*
    };
}

/// A published activity of a new instructor named `owner`; returns its id.
async fn an_activity(s: &ReportStores, owner: &str, at: DateTime<Utc>) -> Uuid {
    let owner = instructor(&s.tutoring, owner, at).await;
    let activity = activity(owner, "Loops", ActivityStatus::Published, at);
    s.tutoring
        .activities
        .create(activity.clone())
        .await
        .expect("create activity");
    activity.id
}

fn build_job(report: &Report) -> NewJob {
    NewJob::new(
        REPORT_BUILD_JOB,
        serde_json::json!({ "report_id": report.id }),
        report.created_at,
    )
    .unique(format!("report:{}", report.id))
}

fn close(actual: Option<f64>, expected: f64, what: &str) {
    let actual = actual.unwrap_or_else(|| panic!("{what}: none"));
    assert!(
        (actual - expected).abs() < 1e-9,
        "{what}: {actual} ≠ {expected}"
    );
}

pub async fn report_rows_and_their_job(s: ReportStores) {
    let at = now();
    let activity_id = an_activity(&s, "owner", at).await;
    let requester = Uuid::new_v4();
    let first = Report::requested(activity_id, requester, at);
    let job = build_job(&first);
    s.reports.create(&first, &job).await.expect("create");
    let enqueued = s
        .jobs
        .get(job.id)
        .await
        .expect("the job is stored with the row");
    assert_eq!(enqueued.kind, REPORT_BUILD_JOB);
    assert_eq!(
        enqueued.payload,
        serde_json::json!({ "report_id": first.id })
    );
    let second = Report::requested(activity_id, requester, plus_secs(at, 1));
    s.reports
        .create(&second, &build_job(&second))
        .await
        .expect("create");
    let orphan = Report::requested(Uuid::new_v4(), requester, at);
    assert!(matches!(
        s.reports.create(&orphan, &build_job(&orphan)).await,
        Err(PortError::NotFound)
    ));

    let found = s.reports.find(first.id).await.expect("find").expect("some");
    assert_eq!(found, first);
    assert_eq!(s.reports.find(Uuid::new_v4()).await.expect("find"), None);

    s.reports
        .start(first.id, plus_secs(at, 2))
        .await
        .expect("start");
    let running = s.reports.find(first.id).await.expect("find").expect("some");
    assert_eq!(running.status, ReportStatus::Running);
    assert_eq!(running.started_at, Some(plus_secs(at, 2)));

    let mut body = ReportBody::default();
    body.sessions.total = 3;
    body.dimensions
        .entry("planning".to_owned())
        .or_default()
        .add(6.5);
    s.reports
        .complete(first.id, &body, plus_secs(at, 3))
        .await
        .expect("complete");
    let done = s.reports.find(first.id).await.expect("find").expect("some");
    assert_eq!(done.status, ReportStatus::Completed);
    assert_eq!(done.finished_at, Some(plus_secs(at, 3)));
    assert_eq!(done.body, Some(body));

    // Lists are newest first and carry no bodies.
    let page = s
        .reports
        .list(activity_id, Page::new(Some(1), Some(0)).expect("page"))
        .await
        .expect("list");
    assert_eq!(page.total, 2);
    assert_eq!(
        page.items.iter().map(|r| r.id).collect::<Vec<_>>(),
        [second.id]
    );
    let all = s
        .reports
        .list(activity_id, Page::default())
        .await
        .expect("list");
    assert_eq!(all.items[1].id, first.id);
    assert_eq!(all.items[1].status, ReportStatus::Completed);
    assert_eq!(all.items[1].body, None);

    // A retry starts afresh; a failure keeps its error and no body.
    s.reports
        .start(first.id, plus_secs(at, 4))
        .await
        .expect("restart");
    let again = s.reports.find(first.id).await.expect("find").expect("some");
    assert_eq!(
        (again.status, again.body, again.finished_at),
        (ReportStatus::Running, None, None)
    );
    s.reports
        .fail(first.id, "activity gone ✓", plus_secs(at, 5))
        .await
        .expect("fail");
    let failed = s.reports.find(first.id).await.expect("find").expect("some");
    assert_eq!(failed.status, ReportStatus::Failed);
    assert_eq!(failed.error.as_deref(), Some("activity gone ✓"));

    let unknown = Uuid::new_v4();
    assert!(matches!(
        s.reports.start(unknown, at).await,
        Err(PortError::NotFound)
    ));
    assert!(matches!(
        s.reports
            .complete(unknown, &ReportBody::default(), at)
            .await,
        Err(PortError::NotFound)
    ));
    assert!(matches!(
        s.reports.fail(unknown, "x", at).await,
        Err(PortError::NotFound)
    ));
}

/// Records one interaction of `session` at `at` with traces of (seconds after `at`, state,
/// involvement) and `risks` of (kind, level, evidence key).
async fn turn(
    s: &ReportStores,
    session: &StudySession,
    at: DateTime<Utc>,
    traces: &[(i64, CognitiveState, f64)],
    risks: &[(RiskKind, RiskLevel, &str)],
) -> Vec<Uuid> {
    let interaction = interaction(session.id, at);
    let traces = traces
        .iter()
        .map(|&(secs, state, involvement)| {
            let mut t = trace(&interaction, TraceLevel::N3, plus_secs(at, secs));
            t.cognitive_state = state;
            t.ai_involvement = involvement;
            t
        })
        .collect();
    let risks = risks
        .iter()
        .map(|&(kind, level, key)| risk(session, Some(interaction.id), kind, level, key, at))
        .collect();
    let stored = s
        .tutoring
        .interactions
        .record(
            InteractionRecord {
                interaction,
                traces,
                risks,
                rule_state: None,
            },
            None,
        )
        .await
        .expect("record");
    stored.risks.iter().map(|r| r.id).collect()
}

/// Ends `session` with an evaluation of `overall` and `dimensions`.
async fn evaluate(
    s: &ReportStores,
    session: &StudySession,
    at: DateTime<Utc>,
    overall: f64,
    dimensions: &[(&str, f64)],
) {
    let mut e = evaluation(session, at);
    e.overall_score = overall;
    e.dimensions = dimensions
        .iter()
        .map(|&(name, score)| DimensionScore {
            name: name.to_owned(),
            score,
            evidence: Vec::new(),
            strengths: Vec::new(),
            weaknesses: Vec::new(),
            recommendations: Vec::new(),
        })
        .collect();
    s.tutoring
        .sessions
        .end(session.id, SessionStatus::Completed, at, e)
        .await
        .expect("end");
}

async fn session_of(
    s: &ReportStores,
    student_id: Uuid,
    activity_id: Uuid,
    at: DateTime<Utc>,
) -> StudySession {
    s.tutoring
        .sessions
        .create(study_session(student_id, activity_id, at))
        .await
        .expect("create session")
}

pub async fn report_aggregates_hand_computed_numbers(s: ReportStores) {
    use CognitiveState::{Confused, Debugging, Exploring, Planning, Stuck};
    let t0 = now();
    let activity_id = an_activity(&s, "owner", t0).await;
    let other_activity = an_activity(&s, "colleague", t0).await;
    let ann = student(&s.tutoring, "ann", t0).await;
    let bob = student(&s.tutoring, "bob", t0).await;

    let s1 = session_of(&s, ann, activity_id, t0).await;
    let raised = turn(
        &s,
        &s1,
        t0,
        &[(0, Exploring, 0.1), (10, Debugging, 0.5)],
        &[(RiskKind::CognitiveDelegation, RiskLevel::High, "a")],
    )
    .await;
    turn(
        &s,
        &s1,
        plus_secs(t0, 20),
        &[(0, Debugging, 0.9), (10, Stuck, 1.0)],
        &[(RiskKind::AcademicIntegrity, RiskLevel::Medium, "b")],
    )
    .await;
    evaluate(
        &s,
        &s1,
        plus_secs(t0, 40),
        8.0,
        &[("planning", 6.0), ("autonomy", 4.0)],
    )
    .await;
    s.tutoring
        .risks
        .resolve(
            raised[0],
            ann,
            None,
            plus_secs(t0, 50),
            audit_entry(raised[0], plus_secs(t0, 50)),
        )
        .await
        .expect("resolve");

    let s2 = session_of(&s, bob, activity_id, plus_secs(t0, 100)).await;
    turn(
        &s,
        &s2,
        plus_secs(t0, 100),
        &[(0, Exploring, 0.2), (5, Planning, 0.4)],
        &[(RiskKind::CognitiveDelegation, RiskLevel::Low, "c")],
    )
    .await;
    evaluate(&s, &s2, plus_secs(t0, 110), 6.0, &[("planning", 9.0)]).await;

    // Another activity's session counts nowhere.
    let noise = session_of(&s, ann, other_activity, t0).await;
    turn(
        &s,
        &noise,
        t0,
        &[(0, Confused, 0.0), (99, Stuck, 0.0)],
        &[(RiskKind::AiDependency, RiskLevel::Critical, "n")],
    )
    .await;

    let b = s.reports.aggregate(activity_id).await.expect("aggregate");
    let sessions = &b.sessions;
    assert_eq!(
        (
            sessions.total,
            sessions.students,
            sessions.interactions,
            sessions.evaluated
        ),
        (2, 2, 3, 2)
    );
    assert_eq!(sessions.by_status["completed"], 2);
    assert_eq!(sessions.by_status["active"], 0);
    assert_eq!(sessions.by_status.len(), 4);

    assert_eq!(b.overall_score.count, 2);
    close(b.overall_score.mean, 7.0, "overall mean");
    assert_eq!(
        (b.overall_score.min, b.overall_score.max),
        (Some(6.0), Some(8.0))
    );
    let planning = &b.dimensions["planning"];
    assert_eq!(planning.count, 2);
    close(planning.mean, 7.5, "planning mean");
    assert_eq!((planning.min, planning.max), (Some(6.0), Some(9.0)));
    assert_eq!(b.dimensions["autonomy"].count, 1);
    close(b.dimensions["autonomy"].mean, 4.0, "autonomy mean");
    assert_eq!(b.dimensions.len(), 2);

    let r = &b.risks;
    assert_eq!((r.total.open, r.total.resolved), (2, 1));
    assert_eq!(
        (
            r.by_kind["cognitive_delegation"].open,
            r.by_kind["cognitive_delegation"].resolved
        ),
        (1, 1)
    );
    assert_eq!(r.by_kind["academic_integrity"].open, 1);
    assert!(!r.by_kind.contains_key("ai_dependency"));
    assert_eq!(
        (r.by_level["high"].open, r.by_level["high"].resolved),
        (0, 1)
    );
    assert_eq!(r.by_level["medium"].open, 1);
    assert_eq!(r.by_level["low"].open, 1);
    assert_eq!(r.by_dimension["cognitive"].total(), 2);
    assert_eq!(r.by_dimension["ethical"].open, 1);

    // s1: exploring 0→10, debugging 10→20 and 20→30, stuck last; s2: exploring 0→5.
    let t = &b.cognitive_time;
    assert_eq!(
        t["exploring"],
        StateTime {
            events: 2,
            seconds: 15.0
        }
    );
    assert_eq!(
        t["debugging"],
        StateTime {
            events: 2,
            seconds: 20.0
        }
    );
    assert_eq!(
        t["stuck"],
        StateTime {
            events: 1,
            seconds: 0.0
        }
    );
    assert_eq!(
        t["planning"],
        StateTime {
            events: 1,
            seconds: 0.0
        }
    );
    assert_eq!(t["confused"], StateTime::default());
    assert_eq!(t.len(), CognitiveState::ALL.len());

    // 0.1 0.2 0.4 0.5 0.9 1.0: mean 3.1 / 6; p50 = 3rd; p90 = 6th (⌈5.4⌉).
    let ai = &b.ai_involvement;
    assert_eq!(ai.count, 6);
    close(ai.mean, 3.1 / 6.0, "ai mean");
    close(ai.p50, 0.4, "ai p50");
    close(ai.p90, 1.0, "ai p90");
    let counts: Vec<u64> = ai.buckets.iter().map(|b| b.count).collect();
    assert_eq!(counts, [1, 1, 2, 0, 2]);

    assert!(matches!(
        s.reports.aggregate(Uuid::new_v4()).await,
        Err(PortError::NotFound)
    ));
}

pub async fn report_of_an_empty_activity_is_zeros(s: ReportStores) {
    let activity_id = an_activity(&s, "owner", now()).await;
    let b = s.reports.aggregate(activity_id).await.expect("aggregate");
    assert_eq!(b.sessions.total, 0);
    assert!(b.sessions.by_status.values().all(|&n| n == 0));
    assert_eq!((b.overall_score.count, b.overall_score.mean), (0, None));
    assert!(b.dimensions.is_empty());
    assert_eq!(b.risks.total.total(), 0);
    assert!(b
        .cognitive_time
        .values()
        .all(|t| *t == StateTime::default()));
    assert_eq!(
        (
            b.ai_involvement.count,
            b.ai_involvement.mean,
            b.ai_involvement.p50
        ),
        (0, None, None)
    );
    assert_eq!(b.ai_involvement.buckets.len(), 5);
}

/// More trace events than one page holds: none lost or counted twice at the page seams.
pub async fn report_traces_stream_across_pages(s: ReportStores) {
    const TURNS: i64 = 45;
    const PER_TURN: i64 = 50;
    let t0 = now();
    let activity_id = an_activity(&s, "owner", t0).await;
    let ann = student(&s.tutoring, "ann", t0).await;
    let session = session_of(&s, ann, activity_id, t0).await;
    for turn_no in 0..TURNS {
        let traces: Vec<(i64, CognitiveState, f64)> = (0..PER_TURN)
            .map(|i| (i, CognitiveState::Exploring, 0.5))
            .collect();
        turn(
            &s,
            &session,
            plus_secs(t0, turn_no * PER_TURN),
            &traces,
            &[],
        )
        .await;
    }
    let b = s.reports.aggregate(activity_id).await.expect("aggregate");
    let n = u64::try_from(TURNS * PER_TURN).expect("positive");
    // One event per second: n events, n - 1 seconds between the first and the last.
    assert_eq!(
        b.cognitive_time["exploring"],
        StateTime {
            events: n,
            seconds: (n - 1) as f64
        }
    );
    assert_eq!(b.ai_involvement.count, n);
}
