//! Contract cases of [`crate::StudySessionRepository`].

use std::sync::Arc;

use ainative_domain::{
    ActivityStatus, Page, Paginated, SessionMode, SessionStatus, SimulatorType, StudySession,
};
use tokio::sync::Barrier;
use tokio::task::JoinSet;
use uuid::Uuid;

use super::fixtures::{activity, evaluation, instructor, page_ids, student, study_session};
use super::TutoringStores;
use crate::testkit::{now, plus_secs};
use crate::{PortError, SessionFilter, SessionVisibility};

fn ids(page: &Paginated<StudySession>) -> Vec<Uuid> {
    page_ids(page, |s| s.id)
}

fn filter(visibility: SessionVisibility) -> SessionFilter {
    SessionFilter {
        visibility,
        status: None,
        activity_id: None,
    }
}

fn active_conflict() -> PortError {
    PortError::Conflict(crate::Conflict::ActiveSession)
}

/// Creates a published activity of `owner` at `at`; returns its id.
async fn published(
    s: &TutoringStores,
    owner: Uuid,
    title: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Uuid {
    let item = activity(owner, title, ActivityStatus::Published, at);
    s.activities
        .create(item.clone())
        .await
        .expect("create activity");
    item.id
}

/// `create` stores a session (with its credential, if any) that `find` returns exactly; an unknown student or activity is
/// `NotFound`; there is no evaluation before the session ends.
pub async fn study_session_create_and_find(s: TutoringStores) {
    let at = now();
    let owner = instructor(&s, "owner", at).await;
    let learner = student(&s, "learner", at).await;
    let loops = published(&s, owner, "Loops", at).await;
    let agile = published(&s, owner, "Agile", at).await;

    let session = study_session(learner, loops, at);
    assert_eq!(
        s.sessions.create(session.clone()).await,
        Ok(session.clone())
    );
    assert_eq!(s.sessions.find(session.id).await, Ok(Some(session.clone())));
    assert_eq!(s.sessions.find_evaluation(session.id).await, Ok(None));

    let mut simulated = study_session(learner, agile, plus_secs(at, 1));
    simulated.mode = SessionMode::Simulator;
    simulated.simulator_type = Some(SimulatorType::TechInterviewer);
    // The student's own credential is kept as given (the service checked it).
    simulated.llm_credential_id = Some(Uuid::new_v4());
    assert_eq!(
        s.sessions.create(simulated.clone()).await,
        Ok(simulated.clone())
    );
    assert_eq!(s.sessions.find(simulated.id).await, Ok(Some(simulated)));

    let stranger = study_session(Uuid::new_v4(), loops, at);
    assert_eq!(
        s.sessions.create(stranger.clone()).await,
        Err(PortError::NotFound)
    );
    assert_eq!(s.sessions.find(stranger.id).await, Ok(None));
    let nowhere = study_session(learner, Uuid::new_v4(), at);
    assert_eq!(
        s.sessions.create(nowhere.clone()).await,
        Err(PortError::NotFound)
    );
    assert_eq!(s.sessions.find(nowhere.id).await, Ok(None));
    assert_eq!(s.sessions.find(Uuid::new_v4()).await, Ok(None));
}

/// `find_with_activity` returns the session and its activity exactly as `find` does for
/// each, and `None` for an unknown session (an activity's id is not a session's).
pub async fn session_find_with_activity(s: TutoringStores) {
    let at = now();
    let owner = instructor(&s, "owner", at).await;
    let learner = student(&s, "learner", at).await;
    let loops = published(&s, owner, "Loops", at).await;
    let agile = published(&s, owner, "Agile", at).await;
    let first = study_session(learner, loops, at);
    let second = study_session(learner, agile, at);
    for session in [&first, &second] {
        s.sessions.create(session.clone()).await.expect("create");
    }
    for (session, activity) in [(&second, agile), (&first, loops)] {
        let expected_session = s.sessions.find(session.id).await.expect("find");
        let expected_activity = s.activities.find(activity).await.expect("find");
        let both = s
            .sessions
            .find_with_activity(session.id)
            .await
            .expect("find");
        assert_eq!(both, expected_session.zip(expected_activity));
        assert!(both.is_some());
    }
    assert_eq!(
        s.sessions.find_with_activity(Uuid::new_v4()).await,
        Ok(None)
    );
    assert_eq!(s.sessions.find_with_activity(loops).await, Ok(None));
}

/// A student has at most one active session per activity: a second one is
/// `Conflict::ActiveSession` until the first ends. Other students and other activities
/// are unaffected.
pub async fn study_session_one_active_per_student_and_activity(s: TutoringStores) {
    let at = now();
    let owner = instructor(&s, "owner", at).await;
    let first_student = student(&s, "first", at).await;
    let second_student = student(&s, "second", at).await;
    let loops = published(&s, owner, "Loops", at).await;
    let lists = published(&s, owner, "Lists", at).await;

    let first = study_session(first_student, loops, at);
    s.sessions.create(first.clone()).await.expect("first");
    let again = study_session(first_student, loops, plus_secs(at, 1));
    assert_eq!(
        s.sessions.create(again.clone()).await,
        Err(active_conflict())
    );
    assert_eq!(s.sessions.find(again.id).await, Ok(None));

    s.sessions
        .create(study_session(second_student, loops, at))
        .await
        .expect("another student, same activity");
    s.sessions
        .create(study_session(first_student, lists, at))
        .await
        .expect("same student, another activity");

    let ended = plus_secs(at, 60);
    s.sessions
        .end(
            first.id,
            SessionStatus::Completed,
            ended,
            evaluation(&first, ended),
        )
        .await
        .expect("end");
    let next = study_session(first_student, loops, plus_secs(at, 61));
    assert_eq!(s.sessions.create(next.clone()).await, Ok(next.clone()));
    assert_eq!(
        s.sessions
            .create(study_session(first_student, loops, plus_secs(at, 62)))
            .await,
        Err(active_conflict())
    );
}

/// Ten concurrent starts of the same student on the same activity: exactly one succeeds,
/// the others are `Conflict::ActiveSession`, and only the winner is stored.
pub async fn study_session_concurrent_creates(s: TutoringStores) {
    const CONTENDERS: usize = 10;
    let at = now();
    let owner = instructor(&s, "owner", at).await;
    let learner = student(&s, "learner", at).await;
    let loops = published(&s, owner, "Loops", at).await;

    let start = Arc::new(Barrier::new(CONTENDERS));
    let mut tasks = JoinSet::new();
    for _ in 0..CONTENDERS {
        let sessions = s.sessions.clone();
        let session = study_session(learner, loops, at);
        let start = start.clone();
        tasks.spawn(async move {
            start.wait().await;
            sessions.create(session).await
        });
    }
    let mut winners = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined.expect("task") {
            Ok(session) => winners.push(session.id),
            Err(err) => assert_eq!(err, active_conflict()),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one start wins");
    let stored = s
        .sessions
        .list(&filter(SessionVisibility::All), Page::default())
        .await
        .expect("list");
    assert_eq!(ids(&stored), winners);
    assert_eq!(stored.total, 1);
}

/// `Involving(user)` is the user's own sessions plus the sessions on the activities the user
/// owns; status and activity filters combine with it; newest first, paginated.
pub async fn study_session_list_visibility_and_filters(s: TutoringStores) {
    let at = now();
    let inst_a = instructor(&s, "inst_a", at).await;
    let inst_b = instructor(&s, "inst_b", at).await;
    let first = student(&s, "first", at).await;
    let second = student(&s, "second", at).await;
    let act_a = published(&s, inst_a, "A", at).await;
    let act_b = published(&s, inst_b, "B", at).await;

    let mut made = Vec::new();
    for (i, (who, what)) in [
        (first, act_a),
        (second, act_a),
        (first, act_b),
        (inst_a, act_b),
    ]
    .into_iter()
    .enumerate()
    {
        let session = study_session(who, what, plus_secs(at, i as i64));
        s.sessions.create(session.clone()).await.expect("create");
        made.push(session);
    }
    let ended = plus_secs(at, 60);
    s.sessions
        .end(
            made[0].id,
            SessionStatus::Completed,
            ended,
            evaluation(&made[0], ended),
        )
        .await
        .expect("end");
    let [x1, x2, x3, x4] = [made[0].id, made[1].id, made[2].id, made[3].id];

    let list = |filter: SessionFilter, page: Page| {
        let sessions = s.sessions.clone();
        async move { sessions.list(&filter, page).await.expect("list") }
    };
    let everything = filter(SessionVisibility::All);
    let all = list(everything.clone(), Page::default()).await;
    assert_eq!(ids(&all), [x4, x3, x2, x1]);
    assert_eq!(all.total, 4);
    let involving = |user| filter(SessionVisibility::Involving(user));
    assert_eq!(
        ids(&list(involving(first), Page::default()).await),
        [x3, x1]
    );
    assert_eq!(ids(&list(involving(second), Page::default()).await), [x2]);
    assert_eq!(
        ids(&list(involving(inst_a), Page::default()).await),
        [x4, x2, x1],
        "own sessions and sessions on own activities"
    );
    assert_eq!(
        ids(&list(involving(inst_b), Page::default()).await),
        [x4, x3]
    );
    assert_eq!(
        list(involving(Uuid::new_v4()), Page::default()).await.total,
        0
    );

    let completed = SessionFilter {
        status: Some(SessionStatus::Completed),
        ..everything.clone()
    };
    assert_eq!(ids(&list(completed, Page::default()).await), [x1]);
    let active = SessionFilter {
        status: Some(SessionStatus::Active),
        ..everything.clone()
    };
    assert_eq!(ids(&list(active, Page::default()).await), [x4, x3, x2]);
    let on_a = SessionFilter {
        activity_id: Some(act_a),
        ..everything.clone()
    };
    assert_eq!(ids(&list(on_a, Page::default()).await), [x2, x1]);
    let inst_a_on_b = SessionFilter {
        activity_id: Some(act_b),
        ..involving(inst_a)
    };
    assert_eq!(ids(&list(inst_a_on_b, Page::default()).await), [x4]);

    let page = Page::new(Some(2), Some(1)).expect("page");
    let got = list(everything, page).await;
    assert_eq!(ids(&got), [x3, x2]);
    assert_eq!((got.total, got.limit, got.offset), (4, 2, 1));
}

/// `end` sets the status and end time and stores the evaluation (dimensions included) in one
/// go; ending again is `Conflict::SessionNotActive` and stores nothing; an unknown session
/// is `NotFound`.
pub async fn study_session_end_stores_evaluation(s: TutoringStores) {
    let at = now();
    let owner = instructor(&s, "owner", at).await;
    let learner = student(&s, "learner", at).await;
    let loops = published(&s, owner, "Loops", at).await;
    let lists = published(&s, owner, "Lists", at).await;
    let session = study_session(learner, loops, at);
    s.sessions.create(session.clone()).await.expect("create");

    let ended_at = plus_secs(at, 600);
    let graded = evaluation(&session, ended_at);
    let ended = StudySession {
        status: SessionStatus::Completed,
        ended_at: Some(ended_at),
        ..session.clone()
    };
    assert_eq!(
        s.sessions
            .end(
                session.id,
                SessionStatus::Completed,
                ended_at,
                graded.clone()
            )
            .await,
        Ok(ended.clone())
    );
    assert_eq!(s.sessions.find(session.id).await, Ok(Some(ended.clone())));
    assert_eq!(
        s.sessions.find_evaluation(session.id).await,
        Ok(Some(graded.clone()))
    );

    let later = plus_secs(at, 700);
    assert_eq!(
        s.sessions
            .end(
                session.id,
                SessionStatus::Aborted,
                later,
                evaluation(&session, later)
            )
            .await,
        Err(PortError::Conflict(crate::Conflict::SessionNotActive))
    );
    assert_eq!(s.sessions.find(session.id).await, Ok(Some(ended)));
    assert_eq!(
        s.sessions.find_evaluation(session.id).await,
        Ok(Some(graded))
    );

    let other = study_session(learner, lists, at);
    s.sessions.create(other.clone()).await.expect("create");
    let aborted = s
        .sessions
        .end(
            other.id,
            SessionStatus::Aborted,
            later,
            evaluation(&other, later),
        )
        .await
        .expect("abort");
    assert_eq!(
        (aborted.status, aborted.ended_at),
        (SessionStatus::Aborted, Some(later))
    );

    let ghost = study_session(learner, loops, at);
    assert_eq!(
        s.sessions
            .end(
                ghost.id,
                SessionStatus::Completed,
                later,
                evaluation(&ghost, later)
            )
            .await,
        Err(PortError::NotFound)
    );
    assert_eq!(s.sessions.find_evaluation(ghost.id).await, Ok(None));
}

/// `transition` pauses, resumes and aborts as [`ainative_domain::SessionAction::apply`]
/// allows, as a compare-and-set on the status read; an abort sets `ended_at`; a paused
/// session still holds the student's one open session on the activity; refused changes are
/// `Conflict::SessionTransition` with the status found, and change nothing.
pub async fn study_session_transitions(s: TutoringStores) {
    use ainative_domain::SessionAction::{Abort, Pause, Resume};
    use SessionStatus::{Aborted, Active, Paused};
    let at = now();
    let owner = instructor(&s, "owner", at).await;
    let learner = student(&s, "learner", at).await;
    let loops = published(&s, owner, "Loops", at).await;
    let session = study_session(learner, loops, at);
    s.sessions.create(session.clone()).await.expect("create");
    let refused = |status, action| {
        Err(PortError::Conflict(crate::Conflict::SessionTransition {
            status,
            action,
        }))
    };
    let t1 = plus_secs(at, 1);
    let paused = s
        .sessions
        .transition(session.id, Active, Pause, t1)
        .await
        .expect("pause");
    assert_eq!((paused.status, paused.ended_at), (Paused, None));
    // The status read is stale now: a second pause, or a resume from active, is refused.
    assert_eq!(
        s.sessions.transition(session.id, Active, Pause, t1).await,
        refused(Paused, Pause)
    );
    assert_eq!(
        s.sessions.transition(session.id, Paused, Pause, t1).await,
        refused(Paused, Pause)
    );
    // Paused still holds the slot.
    assert_eq!(
        s.sessions
            .create(study_session(learner, loops, plus_secs(at, 2)))
            .await,
        Err(active_conflict())
    );
    let resumed = s
        .sessions
        .transition(session.id, Paused, Resume, t1)
        .await
        .expect("resume");
    assert_eq!(resumed.status, Active);
    let t3 = plus_secs(at, 3);
    let aborted = s
        .sessions
        .transition(session.id, Active, Abort, t3)
        .await
        .expect("abort");
    assert_eq!((aborted.status, aborted.ended_at), (Aborted, Some(t3)));
    assert_eq!(s.sessions.find(session.id).await, Ok(Some(aborted)));
    for action in [Pause, Resume, Abort] {
        assert_eq!(
            s.sessions.transition(session.id, Aborted, action, t3).await,
            refused(Aborted, action)
        );
    }
    assert_eq!(s.sessions.find_evaluation(session.id).await, Ok(None));
    // Aborted frees the slot.
    s.sessions
        .create(study_session(learner, loops, plus_secs(at, 4)))
        .await
        .expect("a new session after the abort");
    assert_eq!(
        s.sessions
            .transition(Uuid::new_v4(), Active, Pause, t3)
            .await,
        Err(PortError::NotFound)
    );
}
