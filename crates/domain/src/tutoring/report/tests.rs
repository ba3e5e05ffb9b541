use chrono::TimeZone;

use super::*;

fn at(secs: i64, millis: u32) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + secs, millis * 1_000_000)
        .single()
        .expect("valid time")
}

#[test]
fn score_stats_mean_min_max() {
    let mut s = ScoreStats::default();
    assert_eq!((s.count, s.mean, s.min, s.max), (0, None, None, None));
    for score in [6.0, 9.0, 3.0] {
        s.add(score);
    }
    // (6 + 9 + 3) / 3 = 6.
    assert_eq!(s.count, 3);
    assert_eq!(s.mean, Some(6.0));
    assert_eq!((s.min, s.max), (Some(3.0), Some(9.0)));
}

#[test]
fn state_time_goes_to_the_earlier_event_within_a_session() {
    let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
    let mut clock = StateClock::default();
    // Session a: exploring 0 s → debugging 10 s → exploring 12.5 s (last, gets nothing).
    clock.add(a, "exploring", at(0, 0));
    clock.add(a, "debugging", at(10, 0));
    clock.add(a, "exploring", at(12, 500));
    // Session b starts later: no time crosses from a's last event to b's first.
    clock.add(b, "debugging", at(100, 0));
    clock.add(b, "stuck", at(101, 250));
    let t = clock.finish(["exploring", "debugging", "stuck", "planning"]);
    assert_eq!(
        t["exploring"],
        StateTime {
            events: 2,
            seconds: 10.0
        }
    );
    // 2.5 s in a, 1.25 s in b.
    assert_eq!(
        t["debugging"],
        StateTime {
            events: 2,
            seconds: 3.75
        }
    );
    assert_eq!(
        t["stuck"],
        StateTime {
            events: 1,
            seconds: 0.0
        }
    );
    assert_eq!(t["planning"], StateTime::default());
}

#[test]
fn ai_buckets_are_half_open_and_one_is_in_the_last() {
    assert_eq!(ai_bucket(0.0), 0);
    assert_eq!(ai_bucket(0.199), 0);
    assert_eq!(ai_bucket(0.2), 1);
    assert_eq!(ai_bucket(0.6), 3);
    assert_eq!(ai_bucket(0.8), 4);
    assert_eq!(ai_bucket(1.0), 4);
    let d = AiInvolvement::from_counts([1, 0, 2, 0, 3], Some(0.5), Some(0.4), Some(1.0));
    assert_eq!(d.count, 6);
    let bounds: Vec<(f64, f64)> = d.buckets.iter().map(|b| (b.from, b.to)).collect();
    assert_eq!(
        bounds,
        [(0.0, 0.2), (0.2, 0.4), (0.4, 0.6), (0.6, 0.8), (0.8, 1.0)]
    );
    assert_eq!(AiInvolvement::default().count, 0);
}

#[test]
fn nearest_rank_positions() {
    assert_eq!(nearest_rank(50, 0), None);
    assert_eq!(nearest_rank(50, 1), Some(0));
    // 4 values: median rank ⌈2⌉ = 2 → index 1; p90 rank ⌈3.6⌉ = 4 → index 3.
    assert_eq!(nearest_rank(50, 4), Some(1));
    assert_eq!(nearest_rank(90, 4), Some(3));
    // 10 values: p90 rank 9 → index 8; p50 rank 5 → index 4.
    assert_eq!(nearest_rank(90, 10), Some(8));
    assert_eq!(nearest_rank(50, 10), Some(4));
    assert_eq!(nearest_rank(0, 10), Some(0));
}

#[test]
fn risk_counts_fold_every_grouping() {
    let mut r = RiskCounts::default();
    r.add("ai_dependency", "high", "cognitive", false, 2);
    r.add("ai_dependency", "low", "cognitive", true, 1);
    r.add("academic_integrity", "high", "ethical", false, 1);
    assert_eq!(
        r.total,
        OpenResolved {
            open: 3,
            resolved: 1
        }
    );
    assert_eq!(
        r.by_kind["ai_dependency"],
        OpenResolved {
            open: 2,
            resolved: 1
        }
    );
    assert_eq!(r.by_level["high"].total(), 3);
    assert_eq!(
        r.by_dimension["ethical"],
        OpenResolved {
            open: 1,
            resolved: 0
        }
    );
}

#[test]
fn a_body_survives_json_and_statuses_parse() {
    let mut body = ReportBody::default();
    body.overall_score.add(7.5);
    body.dimensions
        .entry("planning".into())
        .or_default()
        .add(6.0);
    let back: ReportBody =
        serde_json::from_value(serde_json::to_value(&body).expect("json")).expect("parse");
    assert_eq!(back.overall_score.mean, Some(7.5));
    assert_eq!(back.dimensions["planning"].count, 1);
    assert_eq!("running".parse::<ReportStatus>(), Ok(ReportStatus::Running));
    assert!("done".parse::<ReportStatus>().is_err());
}
