//! Bodies of the course report endpoints, and the report as CSV (decision 113).

use ainative_domain::{OpenResolved, Report, ReportBody, ScoreStats};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// A course report. `report` holds the aggregates once `status` is `completed`: `sessions`
/// {total, by_status, students, interactions, evaluated}, `overall_score` and
/// `dimensions.<name>` {count, mean, min, max}, `risks` {total, by_kind, by_level,
/// by_dimension: {open, resolved}}, `cognitive_time.<state>` {events, seconds},
/// `ai_involvement` {count, mean, p50, p90, buckets: [{from, to, count}]}.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportResponse {
    pub id: Uuid,
    pub activity_id: Uuid,
    pub requested_by: Uuid,
    /// pending, running, completed or failed.
    pub status: String,
    /// Why it failed.
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The aggregates (completed reports read by id only).
    #[schema(value_type = Option<Object>)]
    pub report: Option<ReportBody>,
}

impl From<Report> for ReportResponse {
    fn from(r: Report) -> Self {
        Self {
            id: r.id,
            activity_id: r.activity_id,
            requested_by: r.requested_by,
            status: r.status.as_str().to_owned(),
            error: r.error,
            created_at: r.created_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
            report: r.body,
        }
    }
}

/// The answer to a report request.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportAccepted {
    pub id: Uuid,
    /// Where to read it: `/api/v1/reports/{id}`.
    pub url: String,
    pub report: ReportResponse,
}

/// Rows of `section,key,metric,value`.
struct Rows(Vec<[String; 4]>);

impl Rows {
    fn push(&mut self, section: &str, key: &str, metric: &str, value: impl ToString) {
        self.0.push([
            section.to_owned(),
            key.to_owned(),
            metric.to_owned(),
            value.to_string(),
        ]);
    }

    fn opt(&mut self, section: &str, key: &str, metric: &str, value: Option<f64>) {
        let value = value.map_or_else(String::new, |v| v.to_string());
        self.push(section, key, metric, value);
    }

    fn stats(&mut self, section: &str, key: &str, s: &ScoreStats) {
        self.push(section, key, "count", s.count);
        self.opt(section, key, "mean", s.mean);
        self.opt(section, key, "min", s.min);
        self.opt(section, key, "max", s.max);
    }

    fn open_resolved(&mut self, section: &str, key: &str, c: OpenResolved) {
        self.push(section, key, "open", c.open);
        self.push(section, key, "resolved", c.resolved);
    }
}

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(String::new, |t| {
        t.to_rfc3339_opts(SecondsFormat::Millis, true)
    })
}

/// The report as CSV: a header `section,key,metric,value`, then one row per number (an
/// absent number, such as the mean of no scores, is an empty value).
///
/// Errors: only if the writer fails, which writing to memory does not.
pub fn to_csv(report: &Report, body: &ReportBody) -> Result<String, csv::Error> {
    let mut r = Rows(Vec::new());
    let id = report.id.to_string();
    r.push("report", &id, "activity_id", report.activity_id);
    r.push("report", &id, "status", report.status.as_str());
    r.push("report", &id, "created_at", time(Some(report.created_at)));
    r.push("report", &id, "finished_at", time(report.finished_at));
    let s = &body.sessions;
    r.push("sessions", "all", "total", s.total);
    r.push("sessions", "all", "students", s.students);
    r.push("sessions", "all", "interactions", s.interactions);
    r.push("sessions", "all", "evaluated", s.evaluated);
    for (status, n) in &s.by_status {
        r.push("sessions_by_status", status, "count", n);
    }
    r.stats("overall_score", "overall", &body.overall_score);
    for (name, stats) in &body.dimensions {
        r.stats("dimension", name, stats);
    }
    r.open_resolved("risks", "all", body.risks.total);
    for (section, map) in [
        ("risks_by_kind", &body.risks.by_kind),
        ("risks_by_level", &body.risks.by_level),
        ("risks_by_dimension", &body.risks.by_dimension),
    ] {
        for (key, counts) in map {
            r.open_resolved(section, key, *counts);
        }
    }
    for (state, t) in &body.cognitive_time {
        r.push("cognitive_time", state, "events", t.events);
        r.push("cognitive_time", state, "seconds", t.seconds);
    }
    let ai = &body.ai_involvement;
    r.push("ai_involvement", "all", "count", ai.count);
    r.opt("ai_involvement", "all", "mean", ai.mean);
    r.opt("ai_involvement", "all", "p50", ai.p50);
    r.opt("ai_involvement", "all", "p90", ai.p90);
    for b in &ai.buckets {
        r.push(
            "ai_involvement_bucket",
            &format!("{}-{}", b.from, b.to),
            "count",
            b.count,
        );
    }
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(["section", "key", "metric", "value"])?;
    for row in &r.0 {
        out.write_record(row)?;
    }
    let bytes = out.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ainative_domain::ReportStatus;

    #[test]
    fn csv_rows_quote_and_leave_absent_numbers_empty() {
        let mut report = Report::requested(Uuid::nil(), Uuid::nil(), DateTime::UNIX_EPOCH);
        report.status = ReportStatus::Completed;
        let mut body = ReportBody::default();
        body.dimensions
            .entry("planning, \"deep\"".to_owned())
            .or_default()
            .add(6.5);
        let text = to_csv(&report, &body).expect("csv");
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("section,key,metric,value"));
        assert!(text.contains("dimension,\"planning, \"\"deep\"\"\",mean,6.5\n"));
        assert!(text.contains("overall_score,overall,mean,\n"));
        assert!(text.contains("ai_involvement_bucket,0.8-1,count,0\n"));
        let status = format!("report,{},status,completed\n", report.id);
        assert!(text.contains(&status), "{text}");
        assert!(text.contains(",activity_id,00000000-0000-0000-0000-000000000000\n"));
    }
}
