//! Course reports (SPEC §10.5): what a report is, what it contains, and the pure folds that
//! build its aggregates from streamed rows (decision 111 states the rules).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::wire_enum;

/// Where a report is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportStatus {
    /// Requested; its job has not started.
    Pending,
    /// Its job is aggregating.
    Running,
    /// Aggregated; the body is readable.
    Completed,
    /// The job gave up; `error` says why.
    Failed,
}
wire_enum!(ReportStatus { Pending => "pending", Running => "running", Completed => "completed", Failed => "failed" });

/// A course report of one activity.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Identifier.
    pub id: Uuid,
    /// The activity it aggregates.
    pub activity_id: Uuid,
    /// Who asked for it.
    pub requested_by: Uuid,
    /// Status.
    pub status: ReportStatus,
    /// Why it failed.
    pub error: Option<String>,
    /// The aggregates, once completed.
    pub body: Option<ReportBody>,
    /// When it was requested.
    pub created_at: DateTime<Utc>,
    /// When its job last started.
    pub started_at: Option<DateTime<Utc>>,
    /// When its job completed or failed.
    pub finished_at: Option<DateTime<Utc>>,
}

impl Report {
    /// A new pending report of `activity_id` asked by `requested_by` at `at`.
    pub fn requested(activity_id: Uuid, requested_by: Uuid, at: DateTime<Utc>) -> Self {
        Self {
            id: Uuid::new_v4(),
            activity_id,
            requested_by,
            status: ReportStatus::Pending,
            error: None,
            body: None,
            created_at: at,
            started_at: None,
            finished_at: None,
        }
    }
}

/// Everything a completed report says about an activity.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ReportBody {
    /// Sessions, students, interactions.
    pub sessions: SessionCounts,
    /// The overall score of evaluated sessions.
    pub overall_score: ScoreStats,
    /// Per evaluation dimension, by name.
    pub dimensions: BTreeMap<String, ScoreStats>,
    /// Risks raised in the activity's sessions.
    pub risks: RiskCounts,
    /// Time per cognitive state, by state name.
    pub cognitive_time: BTreeMap<String, StateTime>,
    /// AI involvement of the trace events.
    pub ai_involvement: AiInvolvement,
}

/// Counts of sessions and what they hold.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SessionCounts {
    /// Sessions in all.
    pub total: u64,
    /// Sessions by status name (every status present, 0 when none).
    pub by_status: BTreeMap<String, u64>,
    /// Distinct students with a session.
    pub students: u64,
    /// Interactions of all sessions.
    pub interactions: u64,
    /// Sessions with an evaluation.
    pub evaluated: u64,
}

/// Count, mean, min and max of scores; the last three are `None` without scores.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ScoreStats {
    /// Scores seen.
    pub count: u64,
    /// Their mean.
    pub mean: Option<f64>,
    /// The lowest.
    pub min: Option<f64>,
    /// The highest.
    pub max: Option<f64>,
}

impl ScoreStats {
    /// Folds one score in.
    pub fn add(&mut self, score: f64) {
        self.count += 1;
        // The running mean: no sum to keep beside the serialised fields.
        let mean = self.mean.unwrap_or(0.0);
        self.mean = Some(mean + (score - mean) / self.count as f64);
        self.min = Some(self.min.map_or(score, |m| m.min(score)));
        self.max = Some(self.max.map_or(score, |m| m.max(score)));
    }
}

/// Open and resolved risks of one group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OpenResolved {
    /// Not resolved.
    pub open: u64,
    /// Resolved.
    pub resolved: u64,
}

impl OpenResolved {
    /// Adds `count` risks, resolved or not.
    pub fn add(&mut self, resolved: bool, count: u64) {
        if resolved {
            self.resolved += count;
        } else {
            self.open += count;
        }
    }

    /// Open plus resolved.
    pub fn total(&self) -> u64 {
        self.open + self.resolved
    }
}

/// Risk counts in all and by kind, level and dimension.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RiskCounts {
    /// Every risk.
    pub total: OpenResolved,
    /// By kind name.
    pub by_kind: BTreeMap<String, OpenResolved>,
    /// By level (severity) name.
    pub by_level: BTreeMap<String, OpenResolved>,
    /// By dimension name.
    pub by_dimension: BTreeMap<String, OpenResolved>,
}

impl RiskCounts {
    /// Adds `count` risks of one (kind, level, dimension, resolved) group.
    pub fn add(&mut self, kind: &str, level: &str, dimension: &str, resolved: bool, count: u64) {
        self.total.add(resolved, count);
        for (map, key) in [
            (&mut self.by_kind, kind),
            (&mut self.by_level, level),
            (&mut self.by_dimension, dimension),
        ] {
            map.entry(key.to_owned()).or_default().add(resolved, count);
        }
    }
}

/// Time spent in one cognitive state.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct StateTime {
    /// Trace events in this state.
    pub events: u64,
    /// Seconds attributed to it (milliseconds precision).
    pub seconds: f64,
}

/// Attributes session time to cognitive states from trace events given in order of
/// (session, time): the time between two consecutive events of a session goes to the state
/// of the earlier one; a session's last event gets none (its end is not known).
#[derive(Debug, Clone, Default)]
pub struct StateClock {
    last: Option<(Uuid, String, DateTime<Utc>)>,
    totals: BTreeMap<String, (u64, i64)>,
}

impl StateClock {
    /// Folds in the next event.
    pub fn add(&mut self, session_id: Uuid, state: &str, at: DateTime<Utc>) {
        if let Some((session, previous, since)) = self.last.take() {
            if session == session_id {
                let millis = (at - since).num_milliseconds().max(0);
                self.totals.entry(previous).or_default().1 += millis;
            }
        }
        self.totals.entry(state.to_owned()).or_default().0 += 1;
        self.last = Some((session_id, state.to_owned(), at));
    }

    /// Time per state, with every state of `states` present (0 when never seen).
    pub fn finish<'a>(
        self,
        states: impl IntoIterator<Item = &'a str>,
    ) -> BTreeMap<String, StateTime> {
        let mut out: BTreeMap<String, StateTime> = states
            .into_iter()
            .map(|s| (s.to_owned(), StateTime::default()))
            .collect();
        for (state, (events, millis)) in self.totals {
            out.insert(
                state,
                StateTime {
                    events,
                    seconds: millis as f64 / 1000.0,
                },
            );
        }
        out
    }
}

/// Number of AI-involvement buckets.
pub const AI_BUCKETS: usize = 5;
/// The bounds between buckets, as the SQL of the histogram writes them.
pub const AI_BUCKET_BOUNDS: [f64; AI_BUCKETS - 1] = [0.2, 0.4, 0.6, 0.8];

/// The bucket of an involvement: `[0, 0.2)`, `[0.2, 0.4)` … `[0.8, 1.0]` (1.0 in the last).
pub fn ai_bucket(involvement: f64) -> usize {
    AI_BUCKET_BOUNDS
        .iter()
        .take_while(|&&bound| involvement >= bound)
        .count()
}

/// The 0-based position in ascending order of the nearest-rank `percentile` (0–100) of `n`
/// values (`None` when there are none): rank ⌈p/100 · n⌉, at least 1.
pub fn nearest_rank(percentile: u32, n: u64) -> Option<u64> {
    if n == 0 {
        return None;
    }
    let rank = (u64::from(percentile) * n).div_ceil(100).max(1);
    Some(rank.min(n) - 1)
}

/// One AI-involvement bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AiBucket {
    /// Lower bound (inclusive).
    pub from: f64,
    /// Upper bound (exclusive, but 1.0 is in the last bucket).
    pub to: f64,
    /// Trace events in it.
    pub count: u64,
}

/// The distribution of the trace events' AI involvement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AiInvolvement {
    /// Trace events.
    pub count: u64,
    /// Mean involvement.
    pub mean: Option<f64>,
    /// Median (nearest rank).
    pub p50: Option<f64>,
    /// 90th percentile (nearest rank).
    pub p90: Option<f64>,
    /// The histogram, lowest bucket first.
    pub buckets: Vec<AiBucket>,
}

impl Default for AiInvolvement {
    fn default() -> Self {
        Self::from_counts([0; AI_BUCKETS], None, None, None)
    }
}

impl AiInvolvement {
    /// Builds the distribution from bucket counts (see [`ai_bucket`]) and the statistics.
    pub fn from_counts(
        counts: [u64; AI_BUCKETS],
        mean: Option<f64>,
        p50: Option<f64>,
        p90: Option<f64>,
    ) -> Self {
        let buckets = counts
            .iter()
            .enumerate()
            .map(|(i, &count)| AiBucket {
                from: if i == 0 { 0.0 } else { AI_BUCKET_BOUNDS[i - 1] },
                to: AI_BUCKET_BOUNDS.get(i).copied().unwrap_or(1.0),
                count,
            })
            .collect();
        Self {
            count: counts.iter().sum(),
            mean,
            p50,
            p90,
            buckets,
        }
    }
}

#[cfg(test)]
mod tests;
