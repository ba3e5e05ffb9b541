//! Contract cases of [`crate::RiskRepository`].

use ainative_domain::{
    ActivityStatus, AuditAction, NewAuditEntry, Page, Paginated, Risk, RiskDimension, RiskKind,
    RiskLevel, StudySession,
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::fixtures::{activity, instructor, page_ids, record, risk, student, study_session};
use super::TutoringStores;
use crate::testkit::{now, plus_secs};
use crate::{PortError, RiskFilter, RiskScope};

fn ids(page: &Paginated<Risk>) -> Vec<Uuid> {
    page_ids(page, |r| r.id)
}

fn scoped(scope: RiskScope) -> RiskFilter {
    RiskFilter {
        scope,
        level: None,
        dimension: None,
        resolved: None,
    }
}

/// The audit row of a resolution of `risk_id` by `actor` at `at`.
fn resolution_audit(risk_id: Uuid, actor: Uuid, at: DateTime<Utc>) -> NewAuditEntry {
    NewAuditEntry {
        actor_id: Some(actor),
        action: AuditAction::RiskResolved,
        target_type: "risk".to_owned(),
        target_id: risk_id,
        details: serde_json::json!({ "note": "talked it through ✓", "level": "high" }),
        at,
    }
}

/// Two instructors with an activity each, and one student with a session on each; returns
/// (instructor a, instructor b, session on a's activity, session on b's activity).
async fn two_classes(
    s: &TutoringStores,
    at: DateTime<Utc>,
) -> (Uuid, Uuid, StudySession, StudySession) {
    let inst_a = instructor(s, "inst_a", at).await;
    let inst_b = instructor(s, "inst_b", at).await;
    let learner = student(s, "learner", at).await;
    let mut sessions = Vec::new();
    for owner in [inst_a, inst_b] {
        let item = activity(owner, "Class", ActivityStatus::Published, at);
        s.activities.create(item.clone()).await.expect("activity");
        let session = study_session(learner, item.id, at);
        s.sessions.create(session.clone()).await.expect("session");
        sessions.push(session);
    }
    let on_b = sessions.pop().expect("two sessions");
    let on_a = sessions.pop().expect("two sessions");
    (inst_a, inst_b, on_a, on_b)
}

/// Stores `risks` of `session` through one interaction at `at`; returns them as stored.
async fn raise(
    s: &TutoringStores,
    session: &StudySession,
    at: DateTime<Utc>,
    risks: Vec<Risk>,
) -> Vec<Risk> {
    s.interactions
        .record(record(session, at, risks), None)
        .await
        .expect("record")
        .risks
}

/// `find` returns a stored risk exactly, `None` for unknown ids; `for_session` lists the
/// risks of one session, oldest first.
pub async fn risk_find_and_for_session(s: TutoringStores) {
    let at = now();
    let (_, _, on_a, on_b) = two_classes(&s, at).await;
    let later = risk(
        &on_a,
        None,
        RiskKind::AiDependency,
        RiskLevel::Medium,
        "avg",
        plus_secs(at, 9),
    );
    let earlier = risk(
        &on_a,
        None,
        RiskKind::LackJustification,
        RiskLevel::Low,
        "p1",
        plus_secs(at, 1),
    );
    raise(&s, &on_a, at, vec![later.clone(), earlier.clone()]).await;
    let elsewhere = risk(
        &on_b,
        None,
        RiskKind::PolicyViolation,
        RiskLevel::Critical,
        "inj",
        at,
    );
    raise(&s, &on_b, at, vec![elsewhere.clone()]).await;

    assert_eq!(s.risks.find(later.id).await, Ok(Some(later.clone())));
    assert_eq!(s.risks.find(Uuid::new_v4()).await, Ok(None));
    assert_eq!(s.risks.for_session(on_a.id).await, Ok(vec![earlier, later]));
    assert_eq!(s.risks.for_session(on_b.id).await, Ok(vec![elsewhere]));
    assert_eq!(s.risks.for_session(Uuid::new_v4()).await, Ok(Vec::new()));
}

/// Scopes (all, an instructor's activities, one session) and the level, dimension and
/// resolution filters combine; newest first, paginated with totals.
pub async fn risk_list_scopes_and_filters(s: TutoringStores) {
    let at = now();
    let (inst_a, inst_b, on_a, on_b) = two_classes(&s, at).await;
    let t = |secs| plus_secs(at, secs);
    let ra1 = risk(
        &on_a,
        None,
        RiskKind::CognitiveDelegation,
        RiskLevel::High,
        "a1",
        t(1),
    );
    let ra2 = risk(
        &on_a,
        None,
        RiskKind::AiDependency,
        RiskLevel::Medium,
        "a2",
        t(2),
    );
    let rb1 = risk(
        &on_b,
        None,
        RiskKind::AcademicIntegrity,
        RiskLevel::High,
        "b1",
        t(3),
    );
    let rb2 = risk(
        &on_b,
        None,
        RiskKind::LackJustification,
        RiskLevel::Low,
        "b2",
        t(4),
    );
    raise(&s, &on_a, t(1), vec![ra1.clone(), ra2.clone()]).await;
    raise(&s, &on_b, t(3), vec![rb1.clone(), rb2.clone()]).await;
    let resolved_at = t(5);
    s.risks
        .resolve(
            ra1.id,
            inst_a,
            None,
            resolved_at,
            resolution_audit(ra1.id, inst_a, resolved_at),
        )
        .await
        .expect("resolve");

    let list = |filter: RiskFilter, page: Page| {
        let risks = s.risks.clone();
        async move { risks.list(&filter, page).await.expect("list") }
    };
    let all = list(scoped(RiskScope::All), Page::default()).await;
    assert_eq!(ids(&all), [rb2.id, rb1.id, ra2.id, ra1.id]);
    assert_eq!(all.total, 4);
    assert_eq!(
        ids(&list(scoped(RiskScope::ActivityOwner(inst_a)), Page::default()).await),
        [ra2.id, ra1.id]
    );
    assert_eq!(
        ids(&list(scoped(RiskScope::ActivityOwner(inst_b)), Page::default()).await),
        [rb2.id, rb1.id]
    );
    let student_scope = scoped(RiskScope::ActivityOwner(on_a.student_id));
    assert_eq!(list(student_scope, Page::default()).await.total, 0);
    assert_eq!(
        ids(&list(scoped(RiskScope::Session(on_b.id)), Page::default()).await),
        [rb2.id, rb1.id]
    );

    let high = RiskFilter {
        level: Some(RiskLevel::High),
        ..scoped(RiskScope::All)
    };
    assert_eq!(ids(&list(high, Page::default()).await), [rb1.id, ra1.id]);
    let cognitive = RiskFilter {
        dimension: Some(RiskDimension::Cognitive),
        ..scoped(RiskScope::All)
    };
    assert_eq!(
        ids(&list(cognitive, Page::default()).await),
        [ra2.id, ra1.id]
    );
    let high_of_a = RiskFilter {
        level: Some(RiskLevel::High),
        ..scoped(RiskScope::ActivityOwner(inst_a))
    };
    assert_eq!(ids(&list(high_of_a, Page::default()).await), [ra1.id]);
    let resolved = RiskFilter {
        resolved: Some(true),
        ..scoped(RiskScope::All)
    };
    assert_eq!(ids(&list(resolved, Page::default()).await), [ra1.id]);
    let open = RiskFilter {
        resolved: Some(false),
        ..scoped(RiskScope::All)
    };
    let got = list(open, Page::default()).await;
    assert_eq!(ids(&got), [rb2.id, rb1.id, ra2.id]);
    assert_eq!(got.total, 3);
    let open_of_b_low = RiskFilter {
        level: Some(RiskLevel::Low),
        dimension: Some(RiskDimension::Epistemic),
        resolved: Some(false),
        ..scoped(RiskScope::Session(on_b.id))
    };
    assert_eq!(ids(&list(open_of_b_low, Page::default()).await), [rb2.id]);

    let window = list(
        scoped(RiskScope::All),
        Page::new(Some(2), Some(1)).expect("page"),
    )
    .await;
    assert_eq!(ids(&window), [rb1.id, ra2.id]);
    assert_eq!((window.total, window.limit, window.offset), (4, 2, 1));
}

/// Every combination of scope, level, dimension and resolution: the page holds the right
/// rows and the total counts the whole filtered list, also on pages past the end.
pub async fn risk_list_totals_for_every_filter(s: TutoringStores) {
    let at = now();
    let (inst_a, inst_b, on_a, on_b) = two_classes(&s, at).await;
    let mut made = Vec::new();
    for (i, (session, kind, level)) in [
        (&on_a, RiskKind::CognitiveDelegation, RiskLevel::High),
        (&on_a, RiskKind::AiDependency, RiskLevel::Low),
        (&on_b, RiskKind::AcademicIntegrity, RiskLevel::High),
        (&on_a, RiskKind::LackJustification, RiskLevel::High),
        (&on_b, RiskKind::LackJustification, RiskLevel::Low),
        (&on_b, RiskKind::AiDependency, RiskLevel::Medium),
        (&on_a, RiskKind::UncriticalAcceptance, RiskLevel::Low),
    ]
    .into_iter()
    .enumerate()
    {
        let item = risk(
            session,
            None,
            kind,
            level,
            &format!("k{i}"),
            plus_secs(at, i as i64),
        );
        made.extend(raise(&s, session, plus_secs(at, i as i64), vec![item]).await);
    }
    let resolved_at = plus_secs(at, 60);
    for i in [0, 4] {
        let id = made[i].id;
        made[i] = s
            .risks
            .resolve(
                id,
                inst_a,
                None,
                resolved_at,
                resolution_audit(id, inst_a, resolved_at),
            )
            .await
            .expect("resolve");
    }
    made.reverse(); // newest first, as listed

    let scopes = [
        RiskScope::All,
        RiskScope::ActivityOwner(inst_a),
        RiskScope::ActivityOwner(inst_b),
        RiskScope::ActivityOwner(Uuid::new_v4()),
        RiskScope::Session(on_a.id),
        RiskScope::Session(on_b.id),
        RiskScope::Session(Uuid::new_v4()),
    ];
    let levels = [None, Some(RiskLevel::High), Some(RiskLevel::Low)];
    let dimensions = [
        None,
        Some(RiskDimension::Cognitive),
        Some(RiskDimension::Epistemic),
    ];
    for scope in scopes {
        for level in levels {
            for dimension in dimensions {
                for resolved in [None, Some(true), Some(false)] {
                    let expected: Vec<Uuid> = made
                        .iter()
                        .filter(|r| match scope {
                            RiskScope::All => true,
                            RiskScope::ActivityOwner(owner) => {
                                (owner == inst_a && r.session_id == on_a.id)
                                    || (owner == inst_b && r.session_id == on_b.id)
                            }
                            RiskScope::Session(session) => r.session_id == session,
                        })
                        .filter(|r| level.is_none_or(|level| r.level == level))
                        .filter(|r| dimension.is_none_or(|d| r.dimension == d))
                        .filter(|r| resolved.is_none_or(|y| r.resolved_at.is_some() == y))
                        .map(|r| r.id)
                        .collect();
                    let filter = RiskFilter {
                        scope,
                        level,
                        dimension,
                        resolved,
                    };
                    let case = format!("{filter:?}");
                    let total = expected.len() as u64;
                    for offset in [0, 2, 100] {
                        let got = s
                            .risks
                            .list(&filter, Page::new(Some(2), Some(offset)).expect("page"))
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
}

/// `resolve` sets the resolution and writes the audit row; a second resolution is
/// `Conflict::AlreadyResolved`, an unknown risk `NotFound`, and neither writes anything.
pub async fn risk_resolve_writes_audit_row(s: TutoringStores) {
    let at = now();
    let (inst_a, _, on_a, _) = two_classes(&s, at).await;
    let open = risk(
        &on_a,
        None,
        RiskKind::CognitiveDelegation,
        RiskLevel::High,
        "k1",
        at,
    );
    let quiet = risk(
        &on_a,
        None,
        RiskKind::AiDependency,
        RiskLevel::Medium,
        "k2",
        at,
    );
    raise(&s, &on_a, at, vec![open.clone(), quiet.clone()]).await;

    let when = plus_secs(at, 30);
    let audit = resolution_audit(open.id, inst_a, when);
    let resolved = Risk {
        resolved_at: Some(when),
        resolved_by: Some(inst_a),
        resolution_note: Some("talked it through ✓".to_owned()),
        ..open.clone()
    };
    assert_eq!(
        s.risks
            .resolve(
                open.id,
                inst_a,
                resolved.resolution_note.clone(),
                when,
                audit.clone()
            )
            .await,
        Ok(resolved.clone())
    );
    assert_eq!(s.risks.find(open.id).await, Ok(Some(resolved.clone())));
    let log = s.audit.list(Page::default()).await.expect("audit");
    assert_eq!(log.total, 1);
    let row = &log.items[0];
    assert_eq!(
        (
            row.actor_id,
            row.action,
            row.target_type.as_str(),
            row.target_id
        ),
        (Some(inst_a), AuditAction::RiskResolved, "risk", open.id)
    );
    assert_eq!((&row.details, row.created_at), (&audit.details, when));

    let again = plus_secs(at, 60);
    assert_eq!(
        s.risks
            .resolve(
                open.id,
                inst_a,
                None,
                again,
                resolution_audit(open.id, inst_a, again)
            )
            .await,
        Err(PortError::Conflict(crate::Conflict::AlreadyResolved))
    );
    assert_eq!(s.risks.find(open.id).await, Ok(Some(resolved)));
    let ghost = Uuid::new_v4();
    assert_eq!(
        s.risks
            .resolve(
                ghost,
                inst_a,
                None,
                again,
                resolution_audit(ghost, inst_a, again)
            )
            .await,
        Err(PortError::NotFound)
    );
    assert_eq!(s.audit.list(Page::default()).await.expect("audit").total, 1);

    let silent = s
        .risks
        .resolve(
            quiet.id,
            inst_a,
            None,
            again,
            resolution_audit(quiet.id, inst_a, again),
        )
        .await
        .expect("resolve without a note");
    assert_eq!(
        (
            silent.resolved_at,
            silent.resolved_by,
            silent.resolution_note
        ),
        (Some(again), Some(inst_a), None)
    );
    assert_eq!(s.audit.list(Page::default()).await.expect("audit").total, 2);
}
