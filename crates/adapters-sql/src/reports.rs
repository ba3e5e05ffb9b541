//! [`ReportRepository`]: report rows, and the aggregation of an activity's sessions
//! (decisions 111 and 112). Counts are grouped in SQL; evaluations and traces, whose folds
//! need Rust (JSON dimensions, time between consecutive events), are streamed in keyset
//! pages. Every query is its own port call, so a large activity never meets one call's
//! deadline at once.

use ainative_domain::{
    AiInvolvement, CognitiveState, Page, Paginated, Report, ReportBody, RiskCounts, ScoreStats,
    SessionCounts, SessionStatus, StateClock, AI_BUCKETS,
};
use ainative_ports::{NewJob, PortError, PortResult, ReportRepository};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use uuid::Uuid;

use crate::columns::Columns;
use crate::dialect::Dialect;
use crate::lists::{counted_page, offset};
use crate::statement::{AsJson, Stmt};
use crate::store::SqlStore;

/// Evaluations read per page.
const EVALUATION_PAGE: i64 = 500;
/// Trace events read per page.
const TRACE_PAGE: i64 = 2000;

/// The columns of `reports` but the body, in the order [`report_head`] reads them.
macro_rules! report_columns {
    () => {
        "id, activity_id, requested_by, status, error, created_at, started_at, finished_at"
    };
}

/// A report without its body, from [`report_columns`].
fn report_head<D: Dialect>(c: &mut Columns<'_, D>) -> PortResult<Report> {
    Ok(Report {
        id: c.id()?,
        activity_id: c.uuid()?,
        requested_by: c.uuid()?,
        status: c.parsed("status")?,
        error: c.get()?,
        body: None,
        created_at: c.get()?,
        started_at: c.get()?,
        finished_at: c.get()?,
    })
}

/// A report from [`report_columns`] followed by its body (JSON `null` until completed).
fn report<D: Dialect>(c: &mut Columns<'_, D>) -> PortResult<Report> {
    let mut report = report_head(c)?;
    report.body = c.json()?;
    Ok(report)
}

/// What the aggregation reads of an evaluation's dimensions (the rest is ignored).
#[derive(serde::Deserialize)]
struct Dimension {
    name: String,
    score: f64,
}

/// One page of an activity's evaluations: (id, overall score, dimensions).
type EvaluationRow = (Uuid, f64, Vec<Dimension>);

fn evaluation_row<D: Dialect>(c: &mut Columns<'_, D>) -> PortResult<EvaluationRow> {
    Ok((c.uuid()?, c.get()?, c.json()?))
}

/// A trace event as the state clock needs it, with its position for the next page.
type TraceRow = (Uuid, DateTime<Utc>, Uuid, String);

fn trace_row<D: Dialect>(c: &mut Columns<'_, D>) -> PortResult<TraceRow> {
    Ok((c.uuid()?, c.get()?, c.uuid()?, c.get()?))
}

/// Sets the report's state; `NotFound` when no row matched.
fn touched(rows: u64) -> PortResult<()> {
    if rows == 0 {
        Err(PortError::NotFound)
    } else {
        Ok(())
    }
}

impl<D: Dialect> SqlStore<D> {
    async fn activity_exists(&self, activity_id: Uuid) -> PortResult<bool> {
        let q = Stmt::<D>::new("SELECT id FROM activities WHERE id = $1").bind(activity_id);
        self.call("reports.activity", async {
            Ok(q.fetch_optional(&mut *self.conn().await?).await?.is_some())
        })
        .await
    }

    async fn session_counts(&self, activity_id: Uuid) -> PortResult<SessionCounts> {
        let by_status = Stmt::<D>::new(
            "SELECT status, COUNT(*) FROM study_sessions WHERE activity_id = $1 GROUP BY status",
        )
        .bind(activity_id);
        let totals = Stmt::<D>::new(
            "SELECT COUNT(DISTINCT s.student_id), \
             (SELECT COUNT(*) FROM interactions i JOIN study_sessions si ON si.id = i.session_id \
              WHERE si.activity_id = $1) \
             FROM study_sessions s WHERE s.activity_id = $1",
        )
        .bind(activity_id);
        self.call("reports.session_counts", async {
            let mut conn = self.conn().await?;
            let mut counts = SessionCounts {
                by_status: SessionStatus::ALL
                    .iter()
                    .map(|s| (s.as_str().to_owned(), 0))
                    .collect(),
                ..SessionCounts::default()
            };
            for row in by_status.fetch_all(&mut conn).await? {
                let mut c = Columns::<D>::new(&row, "session count");
                let status: String = c.get()?;
                let count = count(c.get()?);
                counts.total += count;
                counts.by_status.insert(status, count);
            }
            let row = totals.fetch_one(&mut conn).await?;
            let mut c = Columns::<D>::new(&row, "session count");
            counts.students = count(c.get()?);
            counts.interactions = count(c.get()?);
            Ok(counts)
        })
        .await
    }

    async fn risk_counts(&self, activity_id: Uuid) -> PortResult<RiskCounts> {
        let q = Stmt::<D>::new(
            "SELECT r.kind, r.level, r.dimension, COUNT(*), COUNT(r.resolved_at) \
             FROM risks r JOIN study_sessions s ON s.id = r.session_id \
             WHERE s.activity_id = $1 GROUP BY r.kind, r.level, r.dimension",
        )
        .bind(activity_id);
        self.call("reports.risk_counts", async {
            let mut counts = RiskCounts::default();
            for row in q.fetch_all(&mut *self.conn().await?).await? {
                let mut c = Columns::<D>::new(&row, "risk count");
                let (kind, level, dimension): (String, String, String) =
                    (c.get()?, c.get()?, c.get()?);
                let (all, resolved) = (count(c.get()?), count(c.get()?));
                counts.add(&kind, &level, &dimension, false, all - resolved);
                counts.add(&kind, &level, &dimension, true, resolved);
            }
            Ok(counts)
        })
        .await
    }

    async fn ai_involvement(&self, activity_id: Uuid) -> PortResult<AiInvolvement> {
        // The bounds are those of `ai_bucket` (AI_BUCKET_BOUNDS).
        let histogram = Stmt::<D>::new(
            "SELECT AVG(t.ai_involvement), \
             COUNT(CASE WHEN t.ai_involvement < 0.2 THEN 1 END), \
             COUNT(CASE WHEN t.ai_involvement >= 0.2 AND t.ai_involvement < 0.4 THEN 1 END), \
             COUNT(CASE WHEN t.ai_involvement >= 0.4 AND t.ai_involvement < 0.6 THEN 1 END), \
             COUNT(CASE WHEN t.ai_involvement >= 0.6 AND t.ai_involvement < 0.8 THEN 1 END), \
             COUNT(CASE WHEN t.ai_involvement >= 0.8 THEN 1 END) \
             FROM cognitive_traces t JOIN study_sessions s ON s.id = t.session_id \
             WHERE s.activity_id = $1",
        )
        .bind(activity_id);
        let (mean, counts) = self
            .call("reports.ai_histogram", async {
                let row = histogram.fetch_one(&mut *self.conn().await?).await?;
                let mut c = Columns::<D>::new(&row, "ai involvement");
                let mean: Option<f64> = c.get()?;
                let mut counts = [0; AI_BUCKETS];
                for slot in &mut counts {
                    *slot = count(c.get()?);
                }
                Ok((mean, counts))
            })
            .await?;
        let n = counts.iter().sum();
        let p50 = self.ai_percentile(activity_id, 50, n).await?;
        let p90 = self.ai_percentile(activity_id, 90, n).await?;
        Ok(AiInvolvement::from_counts(counts, mean, p50, p90))
    }

    /// The nearest-rank `percentile` of the activity's `n` involvement values.
    async fn ai_percentile(
        &self,
        activity_id: Uuid,
        percentile: u32,
        n: u64,
    ) -> PortResult<Option<f64>> {
        let Some(position) = ainative_domain::nearest_rank(percentile, n) else {
            return Ok(None);
        };
        let q = Stmt::<D>::new(
            "SELECT t.ai_involvement FROM cognitive_traces t \
             JOIN study_sessions s ON s.id = t.session_id WHERE s.activity_id = $1 \
             ORDER BY t.ai_involvement LIMIT 1 OFFSET $2",
        )
        .bind(activity_id)
        .bind(i64::try_from(position).unwrap_or(i64::MAX));
        self.call("reports.ai_percentile", async {
            let row = q.fetch_optional(&mut *self.conn().await?).await?;
            row.map(|row| Columns::<D>::new(&row, "ai involvement").get::<f64>())
                .transpose()
        })
        .await
    }

    /// Folds the evaluations in, page by page (keyset on the evaluation id).
    async fn scores(
        &self,
        activity_id: Uuid,
        overall: &mut ScoreStats,
        dimensions: &mut BTreeMap<String, ScoreStats>,
    ) -> PortResult<()> {
        let mut after: Option<Uuid> = None;
        loop {
            let q = match after {
                None => Stmt::<D>::new(
                    "SELECT e.id, e.overall_score, e.dimensions FROM evaluations e \
                     JOIN study_sessions s ON s.id = e.session_id WHERE s.activity_id = $1 \
                     ORDER BY e.id LIMIT $2",
                )
                .bind(activity_id)
                .bind(EVALUATION_PAGE),
                Some(last) => Stmt::new(
                    "SELECT e.id, e.overall_score, e.dimensions FROM evaluations e \
                     JOIN study_sessions s ON s.id = e.session_id WHERE s.activity_id = $1 \
                     AND e.id > $3 ORDER BY e.id LIMIT $2",
                )
                .bind(activity_id)
                .bind(EVALUATION_PAGE)
                .bind(last),
            };
            let rows = self
                .call(
                    "reports.evaluations",
                    self.all(q, "evaluation", evaluation_row::<D>),
                )
                .await?;
            for (_, score, dims) in &rows {
                overall.add(*score);
                for d in dims {
                    dimensions.entry(d.name.clone()).or_default().add(d.score);
                }
            }
            match rows.last() {
                Some((id, ..)) if rows.len() as i64 == EVALUATION_PAGE => after = Some(*id),
                _ => return Ok(()),
            }
        }
    }

    /// Folds the trace events into a state clock, page by page, in (session, time, id) order.
    async fn state_time(&self, activity_id: Uuid, clock: &mut StateClock) -> PortResult<()> {
        let mut after: Option<(Uuid, DateTime<Utc>, Uuid)> = None;
        loop {
            let q = match after {
                None => Stmt::<D>::new(
                    "SELECT t.session_id, t.created_at, t.id, t.cognitive_state \
                     FROM cognitive_traces t JOIN study_sessions s ON s.id = t.session_id \
                     WHERE s.activity_id = $1 \
                     ORDER BY t.session_id, t.created_at, t.id LIMIT $2",
                )
                .bind(activity_id)
                .bind(TRACE_PAGE),
                Some((session, at, id)) => Stmt::new(
                    "SELECT t.session_id, t.created_at, t.id, t.cognitive_state \
                     FROM cognitive_traces t JOIN study_sessions s ON s.id = t.session_id \
                     WHERE s.activity_id = $1 AND (t.session_id > $3 OR (t.session_id = $3 \
                     AND (t.created_at > $4 OR (t.created_at = $4 AND t.id > $5)))) \
                     ORDER BY t.session_id, t.created_at, t.id LIMIT $2",
                )
                .bind(activity_id)
                .bind(TRACE_PAGE)
                .bind(session)
                .bind(at)
                .bind(id),
            };
            let rows = self
                .call(
                    "reports.traces",
                    self.all(q, "cognitive trace", trace_row::<D>),
                )
                .await?;
            for (session, at, _, state) in &rows {
                clock.add(*session, state, *at);
            }
            match rows.last() {
                Some(&(session, at, id, _)) if rows.len() as i64 == TRACE_PAGE => {
                    after = Some((session, at, id));
                }
                _ => return Ok(()),
            }
        }
    }
}

/// A `COUNT(*)` as an unsigned count.
fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

#[async_trait]
impl<D: Dialect> ReportRepository for SqlStore<D> {
    async fn create(&self, report: &Report, job: &NewJob) -> PortResult<()> {
        self.call("reports.create", async {
            let mut tx = self.begin_write().await?;
            Stmt::<D>::new(
                "INSERT INTO reports (id, activity_id, requested_by, status, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(report.id)
            .bind(report.activity_id)
            .bind(report.requested_by)
            .bind(report.status.as_str())
            .bind(report.created_at)
            .execute(&mut tx)
            .await?;
            crate::jobs::enqueue_in::<D>(&mut tx, job).await?;
            tx.commit().await.map_err(crate::error::map_err::<D>)?;
            self.wake_workers();
            Ok(())
        })
        .await
    }

    async fn find(&self, id: Uuid) -> PortResult<Option<Report>> {
        let q = Stmt::<D>::new(concat!(
            "SELECT ",
            report_columns!(),
            ", COALESCE(body, 'null') FROM reports WHERE id = $1"
        ))
        .bind(id);
        self.call("reports.find", self.optional(q, "report", report::<D>))
            .await
    }

    async fn list(&self, activity_id: Uuid, page: Page) -> PortResult<Paginated<Report>> {
        // Bodies stay out of lists.
        let q = Stmt::<D>::new(concat!(
            "SELECT ",
            report_columns!(),
            ", (SELECT COUNT(*) FROM reports WHERE activity_id = $1) \
             FROM reports WHERE activity_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
        ))
        .bind(activity_id)
        .bind(i64::from(page.limit()))
        .bind(offset(page));
        let count = || {
            Stmt::<D>::new("SELECT COUNT(*) FROM reports WHERE activity_id = $1").bind(activity_id)
        };
        self.call("reports.list", async {
            let mut conn = self.conn().await?;
            let (items, total) =
                counted_page::<D, _>(&mut conn, q, "report", report_head::<D>, count).await?;
            Ok(Paginated::new(items, total, page))
        })
        .await
    }

    async fn start(&self, id: Uuid, at: DateTime<Utc>) -> PortResult<()> {
        let q = Stmt::<D>::new(
            "UPDATE reports SET status = 'running', started_at = $2, finished_at = NULL, \
             error = NULL, body = NULL WHERE id = $1",
        )
        .bind(id)
        .bind(at);
        self.call("reports.start", async {
            touched(q.execute(&mut *self.conn().await?).await?)
        })
        .await
    }

    async fn complete(&self, id: Uuid, body: &ReportBody, at: DateTime<Utc>) -> PortResult<()> {
        let q = Stmt::<D>::new(
            "UPDATE reports SET status = 'completed', body = $2, finished_at = $3, error = NULL \
             WHERE id = $1",
        )
        .bind(id)
        .bind(AsJson(body))
        .bind(at);
        self.call("reports.complete", async {
            touched(q.execute(&mut *self.conn().await?).await?)
        })
        .await
    }

    async fn fail(&self, id: Uuid, error: &str, at: DateTime<Utc>) -> PortResult<()> {
        let q = Stmt::<D>::new(
            "UPDATE reports SET status = 'failed', error = $2, finished_at = $3, body = NULL \
             WHERE id = $1",
        )
        .bind(id)
        .bind(error)
        .bind(at);
        self.call("reports.fail", async {
            touched(q.execute(&mut *self.conn().await?).await?)
        })
        .await
    }

    async fn aggregate(&self, activity_id: Uuid) -> PortResult<ReportBody> {
        if !self.activity_exists(activity_id).await? {
            return Err(PortError::NotFound);
        }
        let mut body = ReportBody {
            sessions: self.session_counts(activity_id).await?,
            risks: self.risk_counts(activity_id).await?,
            ai_involvement: self.ai_involvement(activity_id).await?,
            ..ReportBody::default()
        };
        self.scores(activity_id, &mut body.overall_score, &mut body.dimensions)
            .await?;
        body.sessions.evaluated = body.overall_score.count;
        let mut clock = StateClock::default();
        self.state_time(activity_id, &mut clock).await?;
        body.cognitive_time = clock.finish(CognitiveState::ALL.iter().map(|s| s.as_str()));
        Ok(body)
    }
}
