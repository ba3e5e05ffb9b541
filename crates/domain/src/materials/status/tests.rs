use chrono::TimeZone;
use proptest::prelude::*;

use super::*;

const ALL_STATUSES: [StageStatus; 4] = [
    StageStatus::Pending,
    StageStatus::Processing,
    StageStatus::Completed,
    StageStatus::Failed,
];

fn at(second: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, second)
        .single()
        .expect("valid time")
}

/// The rule as SPEC §10.5 words it, written independently of `overall_status`.
fn spec_rule(statuses: &[StageStatus]) -> StageStatus {
    if statuses.contains(&StageStatus::Failed) {
        StageStatus::Failed
    } else if !statuses.is_empty() && statuses.iter().all(|s| *s == StageStatus::Completed) {
        StageStatus::Completed
    } else if statuses.iter().all(|s| *s == StageStatus::Pending) {
        StageStatus::Pending
    } else {
        StageStatus::Processing
    }
}

#[test]
fn overall_matches_the_spec_on_every_combination_of_five_stages() {
    for code in 0..4usize.pow(5) {
        let statuses: Vec<StageStatus> = (0..5)
            .map(|i| ALL_STATUSES[(code / 4usize.pow(i)) % 4])
            .collect();
        assert_eq!(
            overall_status(statuses.iter().copied()),
            spec_rule(&statuses),
            "{statuses:?}"
        );
    }
}

#[test]
fn overall_edge_cases() {
    use StageStatus::*;
    assert_eq!(overall_status([]), Pending);
    assert_eq!(overall_status([Pending; 5]), Pending);
    assert_eq!(overall_status([Completed; 5]), Completed);
    assert_eq!(
        overall_status([Completed, Completed, Completed, Completed, Pending]),
        Processing,
        "never completed while the last stage waits"
    );
    assert_eq!(
        overall_status([Completed, Pending, Pending, Pending, Pending]),
        Processing
    );
    assert_eq!(
        overall_status([Processing, Pending, Pending, Pending, Pending]),
        Processing
    );
    assert_eq!(
        overall_status([Completed, Completed, Completed, Completed, Failed]),
        Failed
    );
    assert_eq!(overall_status([Failed, Processing, Completed]), Failed);
}

fn any_status() -> impl Strategy<Value = StageStatus> {
    prop::sample::select(ALL_STATUSES.to_vec())
}

#[derive(Debug, Clone)]
enum Op {
    Start(Stage),
    Advance(Stage, f32),
    Complete(Stage),
    Fail(Stage),
}

fn any_op() -> impl Strategy<Value = Op> {
    let stage = prop::sample::select(Stage::ALL.to_vec());
    prop_oneof![
        stage.clone().prop_map(Op::Start),
        (stage.clone(), -1.0f32..2.0).prop_map(|(s, p)| Op::Advance(s, p)),
        stage.clone().prop_map(Op::Complete),
        stage.prop_map(Op::Fail),
    ]
}

proptest! {
    #[test]
    fn overall_properties_hold_for_any_list(statuses in prop::collection::vec(any_status(), 0..12)) {
        let overall = overall_status(statuses.iter().copied());
        prop_assert_eq!(overall, spec_rule(&statuses));
        prop_assert_eq!(overall == StageStatus::Failed, statuses.contains(&StageStatus::Failed));
        if overall == StageStatus::Completed {
            prop_assert!(statuses.iter().all(|s| *s == StageStatus::Completed));
        }
        if statuses.contains(&StageStatus::Pending) {
            prop_assert_ne!(overall, StageStatus::Completed);
        }
    }

    /// Whatever a worker attempts, the records keep the pipeline's shape (completed stages,
    /// then at most one running or failed, then pending ones) and the overall status agrees.
    #[test]
    fn transitions_keep_the_pipeline_shape(ops in prop::collection::vec(any_op(), 0..40)) {
        let mut status = MaterialStatus::new();
        for (i, op) in ops.iter().enumerate() {
            let now = at(u32::try_from(i % 60).unwrap_or(0));
            let _ = match op {
                Op::Start(s) => status.start(*s, now),
                Op::Advance(s, p) => status.advance(*s, Progress::new(*p)),
                Op::Complete(s) => status.complete(*s, now),
                Op::Fail(s) => status.fail(*s, now, "boom"),
            };
            let statuses: Vec<StageStatus> = status.records().iter().map(|r| r.status).collect();
            let completed = statuses.iter().take_while(|s| **s == StageStatus::Completed).count();
            let rest = &statuses[completed..];
            let active = rest.first().is_some_and(|s| *s != StageStatus::Pending);
            prop_assert!(rest.iter().skip(usize::from(active)).all(|s| *s == StageStatus::Pending), "{:?}", statuses);
            prop_assert_eq!(status.overall(), spec_rule(&statuses));
            for record in status.records() {
                prop_assert!((0.0..=1.0).contains(&record.progress.value()));
                if record.status == StageStatus::Completed {
                    prop_assert_eq!(record.progress, Progress::DONE);
                }
            }
        }
    }
}

#[test]
fn stages_run_in_order_and_restart_after_a_crash() {
    let mut status = MaterialStatus::new();
    assert_eq!(
        status.start(Stage::Quality, at(0)),
        Err(StageTransitionError::EarlierStageIncomplete {
            stage: Stage::Quality,
            waiting_on: Stage::Ingestion
        })
    );
    status.start(Stage::Ingestion, at(1)).expect("start");
    status
        .advance(Stage::Ingestion, Progress::new(0.6))
        .expect("advance");
    status
        .advance(Stage::Ingestion, Progress::new(0.2))
        .expect("advance");
    assert_eq!(status.stage(Stage::Ingestion).progress, Progress::new(0.6));
    assert_eq!(status.overall(), StageStatus::Processing);

    // The worker died; the redelivered job starts the stage again from its inputs.
    status.start(Stage::Ingestion, at(5)).expect("restart");
    let record = status.stage(Stage::Ingestion);
    assert_eq!(record.progress, Progress::NONE);
    assert_eq!(record.started_at, Some(at(5)));

    status.complete(Stage::Ingestion, at(6)).expect("complete");
    assert_eq!(
        status.start(Stage::Ingestion, at(7)),
        Err(StageTransitionError::AlreadyCompleted(Stage::Ingestion))
    );
    assert_eq!(status.next_stage(), Some(Stage::Quality));
    assert_eq!(status.overall(), StageStatus::Processing);

    for stage in &Stage::ALL[1..] {
        status.start(*stage, at(8)).expect("start");
        status.complete(*stage, at(9)).expect("complete");
    }
    assert_eq!(status.overall(), StageStatus::Completed);
    assert_eq!(status.next_stage(), None);
}

#[test]
fn a_failed_stage_keeps_its_error_and_can_be_retried() {
    let mut status = MaterialStatus::new();
    status.start(Stage::Ingestion, at(0)).expect("start");
    status
        .fail(Stage::Ingestion, at(1), "the PDF could not be read")
        .expect("fail");
    assert_eq!(status.overall(), StageStatus::Failed);
    assert_eq!(
        status.stage(Stage::Ingestion).error.as_deref(),
        Some("the PDF could not be read")
    );
    assert!(status
        .advance(Stage::Ingestion, Progress::new(0.5))
        .is_err());
    status.start(Stage::Ingestion, at(2)).expect("retry");
    let record = status.stage(Stage::Ingestion);
    assert_eq!(record.error, None);
    assert_eq!(record.finished_at, None);
    assert_eq!(status.overall(), StageStatus::Processing);
}

#[test]
fn progress_is_clamped_and_serialises_as_a_number() {
    assert_eq!(Progress::new(f32::NAN).value(), 0.0);
    assert_eq!(Progress::new(-3.0).value(), 0.0);
    assert_eq!(Progress::new(7.0).value(), 1.0);
    assert_eq!(
        serde_json::to_string(&Progress::new(0.5)).expect("json"),
        "0.5"
    );
    let parsed: Progress = serde_json::from_str("1.5").expect("parse");
    assert_eq!(parsed, Progress::DONE);
}

#[test]
fn status_serialises_as_the_list_of_stages_and_rejects_malformed_lists() {
    let mut status = MaterialStatus::new();
    status.start(Stage::Ingestion, at(0)).expect("start");
    let json = serde_json::to_value(&status).expect("json");
    let stages = json.as_array().expect("array");
    assert_eq!(stages.len(), 5);
    assert_eq!(stages[0]["stage"], "ingestion");
    assert_eq!(stages[0]["status"], "processing");
    assert_eq!(stages[4]["stage"], "embedding");
    let back: MaterialStatus = serde_json::from_value(json).expect("parse");
    assert_eq!(back, status);

    let mut swapped: Vec<StageRecord> = status.records().to_vec();
    swapped.swap(0, 1);
    assert_eq!(
        MaterialStatus::from_records(swapped),
        Err(StageTransitionError::MalformedRecords)
    );
    assert_eq!(
        MaterialStatus::from_records(Vec::new()),
        Err(StageTransitionError::MalformedRecords)
    );
}

#[test]
fn stage_order_and_names() {
    let names: Vec<&str> = Stage::ALL.iter().map(Stage::as_str).collect();
    assert_eq!(
        names,
        ["ingestion", "quality", "taxonomy", "graph", "embedding"]
    );
    assert_eq!(Stage::Ingestion.next(), Some(Stage::Quality));
    assert_eq!(Stage::Embedding.next(), None);
    assert!(Stage::Quality < Stage::Graph);
}
