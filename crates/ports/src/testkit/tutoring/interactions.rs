//! Contract cases of [`crate::InteractionRepository`].

use std::sync::Arc;

use ainative_domain::{
    ActivityStatus, CognitiveTrace, Interaction, Page, RiskKind, RiskLevel, SessionStatus,
    StudySession, TraceKind, TraceLevel,
};
use chrono::{DateTime, Utc};
use tokio::sync::Barrier;
use tokio::task::JoinSet;
use uuid::Uuid;

use super::fixtures::{active_session, activity, evaluation, record, risk, study_session, trace};
use super::TutoringStores;
use crate::testkit::{now, plus_secs};
use crate::{InteractionRecord, PortError, PortResult, TraceSelection};

fn seqs(interactions: &[Interaction]) -> Vec<u32> {
    interactions.iter().map(|i| i.seq).collect()
}

fn trace_ids(traces: &[CognitiveTrace]) -> Vec<Uuid> {
    traces.iter().map(|t| t.id).collect()
}

/// Records `rec` without a limit; returns what was stored.
async fn store(s: &TutoringStores, rec: InteractionRecord) -> InteractionRecord {
    s.interactions.record(rec, None).await.expect("record")
}

/// The session's interaction count as stored.
async fn stored_count(s: &TutoringStores, session: &StudySession) -> u32 {
    s.sessions
        .find(session.id)
        .await
        .expect("find")
        .expect("the session exists")
        .interaction_count
}

/// Checks that nothing of `rec` was written.
async fn assert_not_written(s: &TutoringStores, rec: &InteractionRecord) {
    let session_id = rec.interaction.session_id;
    let listed = s
        .interactions
        .list(session_id, Page::new(Some(100), None).expect("page"))
        .await
        .expect("list");
    assert!(listed.items.iter().all(|i| i.id != rec.interaction.id));
    let traces = s.interactions.all_traces(session_id).await.expect("traces");
    assert!(traces
        .iter()
        .all(|t| t.interaction_id != rec.interaction.id));
    for risk in &rec.risks {
        assert_eq!(s.risks.find(risk.id).await, Ok(None));
    }
}

/// `record` assigns seq 1, 2, 3 and counts them on the session; it stores the traces and
/// risks and returns them as stored.
pub async fn interaction_record_assigns_seq_and_stores_all(s: TutoringStores) {
    let at = now();
    let session = active_session(&s, at).await;
    let mut expected_traces = Vec::new();
    let mut expected_risks = Vec::new();
    for seq in 1..=3u32 {
        let when = plus_secs(at, i64::from(seq));
        let mut rec = record(&session, when, Vec::new());
        if seq == 2 {
            let code = trace(&rec.interaction, TraceLevel::N1, when);
            rec.traces.push(code);
        }
        if seq == 3 {
            let mut raised = risk(
                &session,
                Some(rec.interaction.id),
                RiskKind::CognitiveDelegation,
                RiskLevel::High,
                "delegation:3",
                when,
            );
            raised.evidence = serde_json::json!({ "attempts": [1, 2, 3], "note": "ü" });
            rec.risks.push(raised);
        }
        let stored = store(&s, rec.clone()).await;
        let mut expected = rec.clone();
        expected.interaction.seq = seq;
        assert_eq!(stored, expected);
        expected_traces.extend(rec.traces);
        expected_risks.extend(rec.risks);
        assert_eq!(stored_count(&s, &session).await, seq);
    }
    let listed = s
        .interactions
        .list(session.id, Page::default())
        .await
        .expect("list");
    assert_eq!(seqs(&listed.items), [1, 2, 3]);
    assert_eq!(listed.items[0].latency_ms, 5_000_000_000);

    let mut traces = s.interactions.all_traces(session.id).await.expect("traces");
    traces.sort_by_key(|t| t.id);
    expected_traces.sort_by_key(|t| t.id);
    assert_eq!(traces, expected_traces);
    assert_eq!(s.risks.for_session(session.id).await, Ok(expected_risks));
}

/// `selected_traces` returns exactly the traces of `all_traces` that the selection picks,
/// in the same order; an empty selection picks nothing.
pub async fn interaction_selected_traces(s: TutoringStores) {
    let at = now();
    let session = active_session(&s, at).await;
    let levels = [
        TraceLevel::N1,
        TraceLevel::N2,
        TraceLevel::N3,
        TraceLevel::N4,
    ];
    for turn in 0..3i64 {
        let when = plus_secs(at, turn);
        let mut rec = record(&session, when, Vec::new());
        for level in levels {
            let mut t = trace(&rec.interaction, level, when);
            if level == TraceLevel::N3 {
                t.kind = TraceKind::AiResponse;
            }
            rec.traces.push(t);
        }
        let mut prompt = trace(&rec.interaction, TraceLevel::N3, when);
        prompt.kind = TraceKind::StudentPrompt;
        rec.traces.push(prompt);
        store(&s, rec).await;
    }
    let owner = s
        .activities
        .find(session.activity_id)
        .await
        .expect("find")
        .expect("the activity exists")
        .owner_id;
    let second = activity(owner, "Recursion", ActivityStatus::Published, at);
    s.activities.create(second.clone()).await.expect("activity");
    let other = study_session(session.student_id, second.id, at);
    s.sessions.create(other.clone()).await.expect("session");
    let mut elsewhere = record(&other, at, Vec::new());
    elsewhere
        .traces
        .push(trace(&elsewhere.interaction, TraceLevel::N4, at));
    store(&s, elsewhere).await;

    let all = s.interactions.all_traces(session.id).await.expect("all");
    // Per turn: the fixture's n3 prompt and n4, then n1, n2, an n3 answer, n4, an n3 prompt.
    assert_eq!(all.len(), 21);
    let selection = TraceSelection {
        levels: &[TraceLevel::N4, TraceLevel::N1],
        kinds: &[TraceKind::StudentPrompt],
    };
    let expected: Vec<CognitiveTrace> =
        all.iter().filter(|t| selection.picks(t)).cloned().collect();
    assert_eq!(
        expected.len(),
        15,
        "all but the n2 and the n3 answer of each turn"
    );
    assert_eq!(
        s.interactions.selected_traces(session.id, &selection).await,
        Ok(expected)
    );
    let kinds_only = TraceSelection {
        levels: &[],
        kinds: &[TraceKind::StudentPrompt],
    };
    let prompts = s
        .interactions
        .selected_traces(session.id, &kinds_only)
        .await
        .expect("prompts");
    assert_eq!(prompts.len(), 6);
    assert!(prompts.iter().all(|t| t.kind == TraceKind::StudentPrompt));
    let nothing = TraceSelection {
        levels: &[],
        kinds: &[],
    };
    assert_eq!(
        s.interactions.selected_traces(session.id, &nothing).await,
        Ok(Vec::new())
    );
}

/// A record with more traces and risks than one multi-row insert takes stores them all and
/// returns them in the order given.
pub async fn interaction_record_many_rows_in_order(s: TutoringStores) {
    let at = now();
    let session = active_session(&s, at).await;
    let mut rec = record(&session, at, Vec::new());
    let levels = [
        TraceLevel::N4,
        TraceLevel::N1,
        TraceLevel::N3,
        TraceLevel::N2,
    ];
    for i in 0..250u16 {
        let mut t = trace(&rec.interaction, levels[usize::from(i % 4)], at);
        t.summary = format!("trace {i}");
        rec.traces.push(t);
    }
    for i in 0..130u16 {
        let kind = if i % 2 == 0 {
            RiskKind::CognitiveDelegation
        } else {
            RiskKind::AiDependency
        };
        rec.risks.push(risk(
            &session,
            Some(rec.interaction.id),
            kind,
            RiskLevel::Low,
            &format!("key:{i}"),
            at,
        ));
    }
    let stored = store(&s, rec.clone()).await;
    assert_eq!(trace_ids(&stored.traces), trace_ids(&rec.traces));
    assert_eq!(stored.traces, rec.traces);
    assert_eq!(stored.risks, rec.risks);
    let mut all = s.interactions.all_traces(session.id).await.expect("traces");
    all.sort_by_key(|t| t.id);
    let mut expected = rec.traces.clone();
    expected.sort_by_key(|t| t.id);
    assert_eq!(all, expected);
    assert_eq!(
        s.risks.for_session(session.id).await.expect("risks").len(),
        130
    );
}

/// What `record` returns is what later reads return, times included (a database keeps
/// microseconds: a time given to the nanosecond comes back at the microsecond).
pub async fn interaction_record_returns_what_reads_return(s: TutoringStores) {
    let at = now() + chrono::Duration::nanoseconds(123_456_789);
    let session = active_session(&s, at).await;
    let mut rec = record(&session, at, Vec::new());
    rec.traces.push(trace(&rec.interaction, TraceLevel::N1, at));
    rec.traces.push(trace(&rec.interaction, TraceLevel::N4, at));
    rec.risks.push(risk(
        &session,
        Some(rec.interaction.id),
        RiskKind::AiDependency,
        RiskLevel::Medium,
        "key:nanos",
        at,
    ));
    let stored = store(&s, rec.clone()).await;
    assert_eq!(stored.interaction.seq, 1);
    let listed = s
        .interactions
        .list(session.id, Page::default())
        .await
        .expect("list");
    assert_eq!(listed.items, vec![stored.interaction.clone()]);
    let mut traces = s.interactions.all_traces(session.id).await.expect("traces");
    traces.sort_by_key(|t| t.id);
    let mut returned = stored.traces.clone();
    returned.sort_by_key(|t| t.id);
    assert_eq!(traces, returned);
    let risks = s.risks.for_session(session.id).await.expect("risks");
    assert_eq!(risks, stored.risks);
    assert_eq!(stored.risks.len(), 1);

    // The same evidence again: the interaction is stored, the risk is not raised twice.
    let mut again = record(&session, plus_secs(at, 1), Vec::new());
    let mut repeated = rec.risks[0].clone();
    repeated.id = Uuid::new_v4();
    repeated.interaction_id = Some(again.interaction.id);
    again.risks.push(repeated);
    let stored = store(&s, again).await;
    assert_eq!((stored.interaction.seq, stored.risks.len()), (2, 0));
}

/// Twenty concurrent records on one session get seqs exactly 1..=20, and the session counts
/// twenty interactions.
pub async fn interaction_record_concurrent(s: TutoringStores) {
    const CONTENDERS: u32 = 20;
    let at = now();
    let session = active_session(&s, at).await;
    let start = Arc::new(Barrier::new(CONTENDERS as usize));
    let mut tasks = JoinSet::new();
    for i in 0..CONTENDERS {
        let interactions = s.interactions.clone();
        let rec = record(&session, plus_secs(at, i64::from(i)), Vec::new());
        let start = start.clone();
        tasks.spawn(async move {
            start.wait().await;
            interactions.record(rec, Some(CONTENDERS)).await
        });
    }
    let mut got = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let stored = joined.expect("task").expect("every record succeeds");
        got.push(stored.interaction.seq);
    }
    got.sort_unstable();
    assert_eq!(got, (1..=CONTENDERS).collect::<Vec<_>>());
    assert_eq!(stored_count(&s, &session).await, CONTENDERS);
    let listed = s
        .interactions
        .list(session.id, Page::new(Some(100), None).expect("page"))
        .await
        .expect("list");
    assert_eq!(seqs(&listed.items), (1..=CONTENDERS).collect::<Vec<_>>());
    assert_eq!(listed.total, u64::from(CONTENDERS));
    let traces = s.interactions.all_traces(session.id).await.expect("traces");
    assert_eq!(traces.len(), 2 * CONTENDERS as usize);
}

/// At `max_interactions` a record is `Conflict::InteractionLimit` and writes nothing.
pub async fn interaction_record_max_interactions(s: TutoringStores) {
    let at = now();
    let session = active_session(&s, at).await;
    for i in 1..=2 {
        let rec = record(&session, plus_secs(at, i), Vec::new());
        s.interactions
            .record(rec, Some(2))
            .await
            .expect("below the limit");
    }
    let when = plus_secs(at, 3);
    let mut third = record(&session, when, Vec::new());
    third.risks.push(risk(
        &session,
        Some(third.interaction.id),
        RiskKind::AiDependency,
        RiskLevel::Medium,
        "over-limit",
        when,
    ));
    assert_eq!(
        s.interactions.record(third.clone(), Some(2)).await,
        Err(PortError::Conflict(crate::Conflict::InteractionLimit))
    );
    assert_not_written(&s, &third).await;
    assert_eq!(stored_count(&s, &session).await, 2);
    assert_eq!(s.risks.for_session(session.id).await, Ok(Vec::new()));

    let stored = s
        .interactions
        .record(third, Some(3))
        .await
        .expect("a higher limit");
    assert_eq!(stored.interaction.seq, 3);
    assert_eq!(stored.risks.len(), 1);
}

/// A session that is not active rejects records with `Conflict::SessionNotActive`, an
/// unknown one with `NotFound`; neither writes anything.
pub async fn interaction_record_rejected_when_inactive_or_unknown(s: TutoringStores) {
    let at = now();
    let session = active_session(&s, at).await;
    store(&s, record(&session, plus_secs(at, 1), Vec::new())).await;
    let ended_at = plus_secs(at, 2);
    s.sessions
        .end(
            session.id,
            SessionStatus::Completed,
            ended_at,
            evaluation(&session, ended_at),
        )
        .await
        .expect("end");
    let when = plus_secs(at, 3);
    let mut late = record(&session, when, Vec::new());
    late.risks.push(risk(
        &session,
        None,
        RiskKind::PolicyViolation,
        RiskLevel::Low,
        "late",
        when,
    ));
    assert_eq!(
        s.interactions.record(late.clone(), None).await,
        Err(PortError::Conflict(crate::Conflict::SessionNotActive))
    );
    assert_not_written(&s, &late).await;
    assert_eq!(stored_count(&s, &session).await, 1);

    let mut paused = study_session(session.student_id, session.activity_id, at);
    paused.status = SessionStatus::Paused;
    s.sessions.create(paused.clone()).await.expect("paused");
    let rec = record(&paused, when, Vec::new());
    assert_eq!(
        s.interactions.record(rec.clone(), Some(10)).await,
        Err(PortError::Conflict(crate::Conflict::SessionNotActive))
    );
    assert_not_written(&s, &rec).await;

    let ghost = study_session(session.student_id, session.activity_id, at);
    assert_eq!(
        s.interactions
            .record(record(&ghost, when, Vec::new()), None)
            .await,
        Err(PortError::NotFound)
    );
}

/// `find_for_turn(id, n)` is `find_with_activity(id)` with `past(id, n)`, for every length of
/// history (none, fewer than `n`, more), with a current rule state, none, and the empty one;
/// `None` for an unknown session.
pub async fn session_find_for_turn_reads_what_find_and_past_read(s: TutoringStores) {
    use crate::RuleState;
    use serde_json::json;
    async fn agree(s: &TutoringStores, id: Uuid, history: u32) {
        let find = s.sessions.find_with_activity(id).await.expect("find");
        let past = s.interactions.past(id, history).await.expect("past");
        let expected = match (find, past) {
            (Some((session, activity)), Some(past)) => Some((session, activity, past)),
            (None, None) => None,
            other => panic!("find and past disagree: {other:?}"),
        };
        let both = s.sessions.find_for_turn(id, history).await;
        assert_eq!(both, Ok(expected), "history {history}");
    }
    let at = now();
    let session = active_session(&s, at).await;
    for history in [0, 3, 10] {
        agree(&s, session.id, history).await;
    }
    for turn in 1..=12u32 {
        let mut rec = record(&session, plus_secs(at, i64::from(turn)), Vec::new());
        // Turn 7 is stored without a state: no state is current until the next one.
        rec.rule_state = (turn != 7).then(|| RuleState {
            turns: turn,
            data: json!({ "turns": turn, "text": "x".repeat(300) }),
        });
        store(&s, rec).await;
        if turn == 7 {
            agree(&s, session.id, 10).await;
        }
    }
    for history in [0, 1, 3, 10, 12, 50] {
        agree(&s, session.id, history).await;
    }
    agree(&s, Uuid::new_v4(), 10).await;
}

/// A record whose last row cannot be stored (its risk's id is taken) fails and writes
/// nothing, not even the rows before it; the next record is stored as usual.
pub async fn interaction_record_failing_row_writes_nothing(s: TutoringStores) {
    let at = now();
    let session = active_session(&s, at).await;
    let first_risk = risk(
        &session,
        None,
        RiskKind::AiDependency,
        RiskLevel::Low,
        "first",
        at,
    );
    store(&s, record(&session, at, vec![first_risk.clone()])).await;

    let when = plus_secs(at, 1);
    let mut taken_id = risk(
        &session,
        None,
        RiskKind::AiDependency,
        RiskLevel::Low,
        "second",
        when,
    );
    taken_id.id = first_risk.id;
    let failing = record(&session, when, vec![taken_id]);
    assert!(s.interactions.record(failing.clone(), None).await.is_err());
    let listed = s
        .interactions
        .list(session.id, Page::new(Some(100), None).expect("page"))
        .await
        .expect("list");
    assert_eq!(seqs(&listed.items), [1]);
    let traces = s.interactions.all_traces(session.id).await.expect("traces");
    assert!(traces
        .iter()
        .all(|t| t.interaction_id != failing.interaction.id));
    assert_eq!(stored_count(&s, &session).await, 1);
    assert_eq!(s.risks.for_session(session.id).await, Ok(vec![first_risk]));

    let next = store(&s, record(&session, plus_secs(at, 2), Vec::new())).await;
    assert_eq!(
        next.interaction.seq, 2,
        "nothing is left holding the session"
    );
}

/// A risk whose (session, kind, evidence key) is stored already is skipped and not
/// returned, also within one record; the same key of another kind or session is new.
pub async fn interaction_duplicate_risks_are_skipped(s: TutoringStores) {
    let at = now();
    let session = active_session(&s, at).await;
    let t = |secs| plus_secs(at, secs);
    let delegation = |key: &str, when: DateTime<Utc>| {
        risk(
            &session,
            None,
            RiskKind::CognitiveDelegation,
            RiskLevel::High,
            key,
            when,
        )
    };
    let first = delegation("attempts:3", t(1));
    let stored = store(&s, record(&session, t(1), vec![first.clone()])).await;
    assert_eq!(stored.risks, std::slice::from_ref(&first));

    let duplicate = delegation("attempts:3", t(2));
    let other_kind = risk(
        &session,
        None,
        RiskKind::AiDependency,
        RiskLevel::Medium,
        "attempts:3",
        t(3),
    );
    let other_key = delegation("attempts:4", t(4));
    let same_again = delegation("attempts:4", t(5));
    let rec = record(
        &session,
        t(2),
        vec![
            duplicate.clone(),
            other_kind.clone(),
            other_key.clone(),
            same_again.clone(),
        ],
    );
    let stored = store(&s, rec).await;
    assert_eq!(
        stored.interaction.seq, 2,
        "the interaction is stored anyway"
    );
    assert_eq!(stored.risks, [other_kind.clone(), other_key.clone()]);
    assert_eq!(
        s.risks.for_session(session.id).await,
        Ok(vec![first.clone(), other_kind, other_key])
    );
    assert_eq!(s.risks.find(duplicate.id).await, Ok(None));
    assert_eq!(s.risks.find(same_again.id).await, Ok(None));

    s.sessions
        .end(
            session.id,
            SessionStatus::Completed,
            t(9),
            evaluation(&session, t(9)),
        )
        .await
        .expect("end");
    let elsewhere = study_session(session.student_id, session.activity_id, t(10));
    s.sessions
        .create(elsewhere.clone())
        .await
        .expect("next session");
    let mut same_key = first.clone();
    same_key.id = Uuid::new_v4();
    same_key.session_id = elsewhere.id;
    let stored = store(&s, record(&elsewhere, t(10), vec![same_key.clone()])).await;
    assert_eq!(stored.risks, [same_key], "another session is another key");
}

/// `list` pages by seq with totals; `recent(n)` is the last n, oldest first.
pub async fn interaction_list_and_recent(s: TutoringStores) {
    let at = now();
    let session = active_session(&s, at).await;
    for i in 1..=5 {
        store(&s, record(&session, plus_secs(at, i), Vec::new())).await;
    }
    let all = s
        .interactions
        .list(session.id, Page::default())
        .await
        .expect("list");
    assert_eq!(seqs(&all.items), [1, 2, 3, 4, 5]);
    assert_eq!(all.total, 5);
    let middle = s
        .interactions
        .list(session.id, Page::new(Some(2), Some(2)).expect("page"))
        .await
        .expect("page");
    assert_eq!(seqs(&middle.items), [3, 4]);
    assert_eq!((middle.total, middle.limit, middle.offset), (5, 2, 2));

    let recent = |n| {
        let interactions = s.interactions.clone();
        let id = session.id;
        async move {
            let past = interactions.past(id, n).await.expect("past");
            past.expect("a known session").recent
        }
    };
    assert_eq!(seqs(&recent(3).await), [3, 4, 5]);
    assert_eq!(seqs(&recent(10).await), [1, 2, 3, 4, 5]);
    assert_eq!(seqs(&recent(0).await), Vec::<u32>::new());
    assert_eq!(recent(5).await, all.items);

    let none = s
        .interactions
        .list(Uuid::new_v4(), Page::default())
        .await
        .expect("unknown session");
    assert_eq!((none.items.len(), none.total), (0, 0));
    assert_eq!(s.interactions.past(Uuid::new_v4(), 3).await, Ok(None));
    let past = s.interactions.past(session.id, 0).await.expect("past");
    assert_eq!(
        past.map(|p| (p.recent, p.rule_state.turns)),
        Some((Vec::new(), 5))
    );
}

/// Traces are ordered by creation time, then level; the level filter and pagination combine
/// with totals; `all_traces` returns every trace in the same order.
pub async fn interaction_traces_filter_and_pagination(s: TutoringStores) {
    let at = now();
    let session = active_session(&s, at).await;
    let mut expected = Vec::new();
    for i in 1..=3 {
        let when = plus_secs(at, i);
        let mut rec = record(&session, when, Vec::new());
        // Inserted out of level order: the store orders them.
        rec.traces.reverse();
        if i == 2 {
            rec.traces
                .push(trace(&rec.interaction, TraceLevel::N1, when));
        }
        let mut ordered = rec.traces.clone();
        ordered.sort_by_key(|t| t.level);
        expected.extend(ordered);
        store(&s, rec).await;
    }
    let ids = trace_ids(&expected);
    assert_eq!(
        s.interactions.all_traces(session.id).await,
        Ok(expected.clone())
    );

    let traces = |level, page| {
        let interactions = s.interactions.clone();
        let id = session.id;
        async move { interactions.traces(id, level, page).await.expect("traces") }
    };
    let all = traces(None, Page::default()).await;
    assert_eq!(all.items, expected);
    assert_eq!(all.total, 7);
    let n3 = traces(Some(TraceLevel::N3), Page::default()).await;
    assert_eq!(n3.total, 3);
    assert!(n3.items.iter().all(|t| t.level == TraceLevel::N3));
    assert_eq!(
        trace_ids(&n3.items),
        expected
            .iter()
            .filter(|t| t.level == TraceLevel::N3)
            .map(|t| t.id)
            .collect::<Vec<_>>()
    );
    let n1 = traces(Some(TraceLevel::N1), Page::default()).await;
    assert_eq!((n1.items.len(), n1.total), (1, 1));
    let n2 = traces(Some(TraceLevel::N2), Page::default()).await;
    assert_eq!((n2.items.len(), n2.total), (0, 0));
    let window = traces(None, Page::new(Some(3), Some(2)).expect("page")).await;
    assert_eq!(trace_ids(&window.items), ids[2..5]);
    assert_eq!((window.total, window.limit, window.offset), (7, 3, 2));
    let n4_tail = traces(
        Some(TraceLevel::N4),
        Page::new(Some(2), Some(1)).expect("page"),
    )
    .await;
    assert_eq!(n4_tail.items.len(), 2);
    assert_eq!(n4_tail.total, 3);
    assert_eq!(
        s.interactions.all_traces(Uuid::new_v4()).await,
        Ok(Vec::new())
    );
}

/// The rule state of `past`.
async fn rule_state(
    s: &TutoringStores,
    session: &StudySession,
) -> PortResult<Option<crate::RuleState>> {
    let past = s.interactions.past(session.id, 2).await?;
    if let Some(past) = &past {
        // The interactions read with it are the session's last ones.
        let count = stored_count(s, session).await;
        assert_eq!(past.recent.len(), count.min(2) as usize);
        assert_eq!(past.rule_state.turns, count);
        let last = past.recent.last().map(|i| i.seq);
        assert_eq!(last, (count > 0).then_some(count));
    }
    Ok(past.map(|p| p.rule_state))
}

/// The rule state of `past` gives `{}` at zero interactions; a record with a state stores it with the
/// interaction only while the count is the one the state follows (else `StaleTurnState`,
/// nothing written); a record without a state leaves no current state (`null`) until one is
/// stored again; an unknown session has none.
pub async fn interaction_rule_state_follows_the_count(s: TutoringStores) {
    use crate::{Conflict, RuleState};
    use serde_json::json;
    let at = now();
    let session = active_session(&s, at).await;
    let state = |turns: u32, data: serde_json::Value| RuleState { turns, data };
    assert_eq!(
        rule_state(&s, &session).await,
        Ok(Some(state(0, json!({}))))
    );
    let mut first = record(&session, plus_secs(at, 1), Vec::new());
    first.rule_state = Some(state(1, json!({"solution_requests": 1, "x": [1.5, "a"]})));
    let stored = store(&s, first.clone()).await;
    assert_eq!(stored.interaction.seq, 1);
    assert_eq!(stored.rule_state, first.rule_state);
    assert_eq!(rule_state(&s, &session).await, Ok(first.rule_state));

    // A state built on zero interactions after one was stored is stale.
    let mut stale = record(&session, plus_secs(at, 2), Vec::new());
    stale.rule_state = Some(state(1, json!({"stale": true})));
    assert_eq!(
        s.interactions.record(stale.clone(), None).await,
        Err(PortError::Conflict(Conflict::StaleTurnState))
    );
    assert_not_written(&s, &stale).await;
    assert_eq!(stored_count(&s, &session).await, 1);

    // Without a state: stored, and the old state is no longer current.
    store(&s, record(&session, plus_secs(at, 3), Vec::new())).await;
    assert_eq!(
        rule_state(&s, &session).await,
        Ok(Some(state(2, serde_json::Value::Null)))
    );
    let mut third = record(&session, plus_secs(at, 4), Vec::new());
    third.rule_state = Some(state(3, json!({"turns": 3})));
    assert_eq!(store(&s, third.clone()).await.interaction.seq, 3);
    assert_eq!(rule_state(&s, &session).await, Ok(third.rule_state));

    // The limit and the status still come first.
    let mut over = record(&session, plus_secs(at, 5), Vec::new());
    over.rule_state = Some(state(4, json!({})));
    assert_eq!(
        s.interactions.record(over, Some(3)).await,
        Err(PortError::Conflict(Conflict::InteractionLimit))
    );
    assert_eq!(s.interactions.past(Uuid::new_v4(), 1).await, Ok(None));
}
