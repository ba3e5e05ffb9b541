//! [`JobQueue`]: the durable job queue in the `jobs` table, and [`enqueue_in`], which other
//! store modules call to enqueue a job in the transaction that writes the row needing it.
//!
//! Every change a worker makes names its lease (`id`, `fence`, `lease_owner`, state
//! running): a worker whose lease was taken over changes nothing and gets `LeaseLost`.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use ainative_domain::{NewAuditEntry, Page, Paginated};
use ainative_ports::{
    ClaimedJob, Conflict, Enqueued, FailOutcome, Job, JobFilter, JobQueue, JobState, JobStats,
    Lease, NewJob, PortError, PortResult,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::audit::insert_audit;
use crate::columns::{read_one, Columns};
use crate::dialect::{Conn, Dialect, DialectSql};
use crate::error::map_err;
use crate::lists::{and, counted_page, offset};
use crate::statement::{AsJson, SqlBuilder, Stmt};
use crate::store::SqlStore;

/// The columns [`job_row`] reads, in order.
macro_rules! job_columns {
    () => {
        "id, kind, payload, unique_key, state, attempts, max_attempts, run_at, lease_owner, \
         lease_expires_at, fence, last_error, failed_at, created_at, updated_at, finished_at"
    };
}

/// The error recorded on a job whose lease expired on its last attempt.
const LEASE_EXPIRED: &str = "the lease expired on the last attempt (the worker stopped or hung)";

/// A job and its fence from [`job_columns`].
fn job_row<D: Dialect>(c: &mut Columns<'_, D>) -> PortResult<(Job, i64)> {
    let id = c.id()?;
    let kind = c.get()?;
    let payload = c.json()?;
    let unique_key = c.get()?;
    let state = c.parsed("state")?;
    let attempts = c.small("attempts")?;
    let max_attempts = c.small("max_attempts")?;
    let run_at = c.get()?;
    let lease_owner = c.get()?;
    let lease_expires_at = c.get()?;
    let fence = c.get()?;
    let job = Job {
        id,
        kind,
        payload,
        unique_key,
        state,
        attempts,
        max_attempts,
        run_at,
        lease_owner,
        lease_expires_at,
        last_error: c.get()?,
        failed_at: c.get()?,
        created_at: c.get()?,
        updated_at: c.get()?,
        finished_at: c.get()?,
    };
    Ok((job, fence))
}

fn job_only<D: Dialect>(c: &mut Columns<'_, D>) -> PortResult<Job> {
    job_row(c).map(|(job, _)| job)
}

/// `now + span`, saturating far in the future.
fn after(now: DateTime<Utc>, span: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(span)
        .ok()
        .and_then(|span| now.checked_add_signed(span))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Tells listening workers of other processes that a job of `kind` is due (PostgreSQL:
/// `NOTIFY`, delivered when the transaction commits); nothing where the engine has no such
/// thing.
static NOTIFY: DialectSql = DialectSql::new(|syntax| syntax.job_notify.to_owned());

/// Writes `job` on `conn`, inside the caller's transaction, and notifies workers when it
/// commits. With a unique key already used by a job of the same kind, writes nothing and
/// answers that job's id.
///
/// After the commit, call [`SqlStore::wake_workers`] so that workers of this process start
/// at once rather than at their next poll.
///
/// Errors: `Conflict(Duplicate("job"))` when the id exists; `Unavailable`.
pub(crate) async fn enqueue_in<D: Dialect>(
    conn: &mut Conn<D>,
    job: &NewJob,
) -> PortResult<Enqueued> {
    let inserted = Stmt::<D>::new(
        "INSERT INTO jobs (id, kind, payload, unique_key, state, attempts, max_attempts, \
         run_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'queued', 0, $5, $6, $7, $7) \
         ON CONFLICT (kind, unique_key) WHERE unique_key IS NOT NULL DO NOTHING",
    )
    .bind(job.id)
    .bind(&job.kind)
    .bind(AsJson(&job.payload))
    .bind(job.unique_key.as_deref())
    .bind(i64::from(job.max_attempts.max(1)))
    .bind(job.run_at)
    .bind(job.created_at)
    .execute(conn)
    .await?;
    if inserted == 0 {
        let existing = Stmt::<D>::new("SELECT id FROM jobs WHERE kind = $1 AND unique_key = $2")
            .bind(&job.kind)
            .bind(job.unique_key.as_deref())
            .fetch_one(conn)
            .await?;
        let id = Columns::<D>::new(&existing, "job").id()?;
        return Ok(Enqueued { id, created: false });
    }
    let notify = NOTIFY.get::<D>();
    if !notify.is_empty() {
        Stmt::<D>::new(notify).bind(&job.kind).execute(conn).await?;
    }
    Ok(Enqueued {
        id: job.id,
        created: true,
    })
}

/// How often a process makes the jobs whose lease expired on their last attempt dead. The
/// claim itself never takes such a job (`attempts < max_attempts`), so the sweep only
/// records their end; doing it once a second rather than in every claim lets a claim on
/// PostgreSQL be one statement instead of a four-round-trip transaction.
const DEAD_SWEEP_EVERY: chrono::Duration = chrono::Duration::seconds(1);

/// When the sweep last ran in this process (microseconds since the epoch, on the callers'
/// clock).
#[derive(Debug, Default)]
pub(crate) struct SweepClock(AtomicI64);

impl SweepClock {
    /// Whether the sweep is due at `now`, and if so claims it: of concurrent callers one
    /// gets `true`. A clock that went back (a test's, or a corrected host clock) sweeps.
    fn take(&self, now: DateTime<Utc>) -> bool {
        let now = now.timestamp_micros();
        let last = self.0.load(Ordering::Relaxed);
        let every = DEAD_SWEEP_EVERY.num_microseconds().unwrap_or(i64::MAX);
        let due = last == 0 || now < last || now.saturating_sub(last) >= every;
        due && self
            .0
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    }
}

/// `LeaseLost` unless a statement fenced by a lease changed its row.
fn fenced(changed: u64) -> PortResult<()> {
    if changed == 0 {
        Err(PortError::Conflict(Conflict::LeaseLost))
    } else {
        Ok(())
    }
}

/// The lease condition, after the statement's own placeholders `$1..$n`: binds id, fence and
/// owner as `$n+1..$n+3`.
fn with_lease<D: Dialect>(stmt: Stmt<D>, lease: &Lease) -> Stmt<D> {
    stmt.bind(lease.job_id)
        .bind(lease.fence)
        .bind(lease.owner.as_str())
}

/// Makes dead the jobs whose worker died (lease expired) on their last attempt.
async fn sweep_dead<D: Dialect>(conn: &mut Conn<D>, now: DateTime<Utc>) -> PortResult<()> {
    Stmt::<D>::new(
        "UPDATE jobs SET state = 'dead', last_error = $2, failed_at = $1, \
         finished_at = $1, updated_at = $1, lease_expires_at = NULL \
         WHERE state = 'running' AND lease_expires_at < $1 AND attempts >= max_attempts",
    )
    .bind(now)
    .bind(LEASE_EXPIRED)
    .execute(conn)
    .await?;
    Ok(())
}

#[async_trait]
impl<D: Dialect> JobQueue for SqlStore<D> {
    async fn enqueue(&self, job: NewJob) -> PortResult<Enqueued> {
        let enqueued = self
            .call("jobs.enqueue", async {
                let mut tx = self.begin_write().await?;
                let enqueued = enqueue_in::<D>(&mut tx, &job).await?;
                tx.commit().await.map_err(map_err::<D>)?;
                Ok(enqueued)
            })
            .await?;
        if enqueued.created {
            self.wake_workers();
        }
        Ok(enqueued)
    }

    async fn claim(
        &self,
        worker: &str,
        kinds: &[String],
        now: DateTime<Utc>,
        lease: Duration,
    ) -> PortResult<Option<ClaimedJob>> {
        if kinds.is_empty() {
            return Ok(None);
        }
        let expires_at = after(now, lease);
        // The oldest due queued job and the oldest reclaimable one, each read in the order of
        // its own partial index (`LIMIT 1` per branch): the claim costs the same with 10 or
        // 100,000 jobs waiting, where one `OR` over both sets sorted all due jobs each time.
        let mut q = SqlBuilder::<D>::new(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, fence = fence + 1, \
             lease_owner = ",
        );
        q.push_bind(worker)
            .push(", lease_expires_at = ")
            .push_bind(expires_at)
            .push(", updated_at = ")
            .push_bind(now)
            .push(" WHERE id = (SELECT id FROM (");
        let branches = [
            "state = 'queued' AND run_at <= ",
            "state = 'running' AND attempts < max_attempts AND lease_expires_at < ",
        ];
        for (n, due) in branches.into_iter().enumerate() {
            if n > 0 {
                q.push(" UNION ALL ");
            }
            q.push(
                "SELECT id, run_at, created_at FROM (SELECT id, run_at, created_at FROM jobs \
                 WHERE kind IN (",
            );
            for (i, kind) in kinds.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                q.push_bind(kind);
            }
            q.push(") AND ")
                .push(due)
                .push_bind(now)
                .push(" ORDER BY run_at, created_at, id LIMIT 1")
                .push(D::SYNTAX.skip_locked)
                .push(if n == 0 { ") due" } else { ") expired" });
        }
        q.push(concat!(
            ") candidates ORDER BY run_at, created_at, id LIMIT 1) RETURNING ",
            job_columns!()
        ));
        let sweep = self.dead_sweep.take(now);
        // Polled by idle workers: no span per call.
        self.call_untraced("jobs.claim", async {
            let row = if sweep || D::BEGIN_WRITE.is_some() {
                // SQLite takes its write lock up front (`BEGIN IMMEDIATE`): a claim that
                // read before writing could otherwise fail on a concurrent writer.
                let mut tx = self.begin_write().await?;
                if sweep {
                    sweep_dead::<D>(&mut tx, now).await?;
                }
                let row = q.build().fetch_optional(&mut tx).await?;
                tx.commit().await.map_err(map_err::<D>)?;
                row
            } else {
                q.build().fetch_optional(&mut *self.conn().await?).await?
            };
            row.map(|row| {
                let (job, fence) = read_one(&row, "job", job_row::<D>)?;
                let lease = Lease {
                    job_id: job.id,
                    owner: worker.to_owned(),
                    fence,
                    expires_at,
                };
                Ok(ClaimedJob { job, lease })
            })
            .transpose()
        })
        .await
    }

    async fn heartbeat(
        &self,
        lease: &Lease,
        now: DateTime<Utc>,
        extend: Duration,
    ) -> PortResult<DateTime<Utc>> {
        let expires_at = after(now, extend);
        let stmt = with_lease(
            Stmt::<D>::new(
                "UPDATE jobs SET lease_expires_at = $1, updated_at = $2 \
                 WHERE id = $3 AND fence = $4 AND lease_owner = $5 AND state = 'running'",
            )
            .bind(expires_at)
            .bind(now),
            lease,
        );
        self.call_untraced("jobs.heartbeat", async {
            fenced(stmt.execute(&mut *self.conn().await?).await?)?;
            Ok(expires_at)
        })
        .await
    }

    async fn complete(&self, lease: &Lease, now: DateTime<Utc>) -> PortResult<()> {
        let stmt = with_lease(
            Stmt::<D>::new(
                "UPDATE jobs SET state = 'succeeded', finished_at = $1, updated_at = $1, \
                 lease_expires_at = NULL \
                 WHERE id = $2 AND fence = $3 AND lease_owner = $4 AND state = 'running'",
            )
            .bind(now),
            lease,
        );
        self.call("jobs.complete", async {
            fenced(stmt.execute(&mut *self.conn().await?).await?)
        })
        .await
    }

    async fn fail(
        &self,
        lease: &Lease,
        error: &str,
        now: DateTime<Utc>,
        retry_at: Option<DateTime<Utc>>,
    ) -> PortResult<FailOutcome> {
        // Every CASE reads the row as it was: `attempts` counts the failed attempt already.
        // No retry time ($1 NULL) is a permanent failure: dead now.
        let stmt = with_lease(
            Stmt::<D>::new(
                "UPDATE jobs SET \
                 state = CASE WHEN attempts >= max_attempts OR $1 IS NULL \
                 THEN 'dead' ELSE 'queued' END, \
                 run_at = CASE WHEN attempts >= max_attempts OR $1 IS NULL \
                 THEN run_at ELSE $1 END, \
                 finished_at = CASE WHEN attempts >= max_attempts OR $1 IS NULL \
                 THEN $2 ELSE NULL END, \
                 last_error = $3, failed_at = $2, updated_at = $2, lease_expires_at = NULL \
                 WHERE id = $4 AND fence = $5 AND lease_owner = $6 AND state = 'running' \
                 RETURNING state",
            )
            .bind(retry_at)
            .bind(now)
            .bind(error),
            lease,
        );
        self.call("jobs.fail", async {
            let row = stmt.fetch_optional(&mut *self.conn().await?).await?;
            let Some(row) = row else {
                return Err(PortError::Conflict(Conflict::LeaseLost));
            };
            let state: JobState = Columns::<D>::new(&row, "job").parsed("state")?;
            Ok(match (state, retry_at) {
                (JobState::Queued, Some(at)) => FailOutcome::Retry(at),
                _ => FailOutcome::Dead,
            })
        })
        .await
    }

    async fn release(&self, lease: &Lease, now: DateTime<Utc>) -> PortResult<()> {
        let stmt = with_lease(
            Stmt::<D>::new(
                "UPDATE jobs SET state = 'queued', attempts = attempts - 1, run_at = $1, \
                 updated_at = $1, lease_expires_at = NULL \
                 WHERE id = $2 AND fence = $3 AND lease_owner = $4 AND state = 'running'",
            )
            .bind(now),
            lease,
        );
        self.call("jobs.release", async {
            fenced(stmt.execute(&mut *self.conn().await?).await?)
        })
        .await
    }

    async fn get(&self, id: Uuid) -> PortResult<Job> {
        let select = Stmt::new(concat!(
            "SELECT ",
            job_columns!(),
            " FROM jobs WHERE id = $1"
        ))
        .bind(id);
        self.call("jobs.get", async {
            self.optional(select, "job", job_only::<D>)
                .await?
                .ok_or(PortError::NotFound)
        })
        .await
    }

    async fn list(&self, filter: JobFilter, page: Page) -> PortResult<Paginated<Job>> {
        let push_filter = |q: &mut SqlBuilder<D>| {
            let mut first = true;
            if let Some(state) = filter.state {
                q.push(and(&mut first))
                    .push("state = ")
                    .push_bind(state.as_str());
            }
            if let Some(kind) = filter.kind.as_deref() {
                q.push(and(&mut first)).push("kind = ").push_bind(kind);
            }
        };
        let mut q = SqlBuilder::<D>::new(concat!(
            "SELECT ",
            job_columns!(),
            ", (SELECT COUNT(*) FROM jobs"
        ));
        push_filter(&mut q);
        q.push(") AS total FROM jobs");
        push_filter(&mut q);
        q.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(page.limit()))
            .push(" OFFSET ")
            .push_bind(offset(page));
        let count = || {
            let mut q = SqlBuilder::<D>::new("SELECT COUNT(*) FROM jobs");
            push_filter(&mut q);
            q.build()
        };
        self.call("jobs.list", async {
            let mut conn = self.conn().await?;
            let (items, total) =
                counted_page::<D, _>(&mut conn, q.build(), "job", job_only::<D>, count).await?;
            Ok(Paginated::new(items, total, page))
        })
        .await
    }

    async fn retry_dead(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        audit: NewAuditEntry,
    ) -> PortResult<Job> {
        let job = self
            .call("jobs.retry_dead", async {
                let mut tx = self.begin_write().await?;
                let row = Stmt::<D>::new(concat!(
                "UPDATE jobs SET state = 'queued', attempts = 0, run_at = $2, updated_at = $2, \
                 finished_at = NULL, lease_expires_at = NULL WHERE id = $1 AND state = 'dead' \
                 RETURNING ",
                job_columns!()
            ))
                .bind(id)
                .bind(now)
                .fetch_optional(&mut tx)
                .await?;
                let Some(row) = row else {
                    let exists = Stmt::<D>::new("SELECT id FROM jobs WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&mut tx)
                        .await?;
                    return Err(match exists {
                        Some(_) => PortError::Conflict(Conflict::JobNotDead),
                        None => PortError::NotFound,
                    });
                };
                let job = read_one(&row, "job", job_only::<D>)?;
                insert_audit::<D>(&mut tx, &audit).await?;
                tx.commit().await.map_err(map_err::<D>)?;
                Ok(job)
            })
            .await?;
        self.wake_workers();
        Ok(job)
    }

    async fn stats(&self, now: DateTime<Utc>) -> PortResult<JobStats> {
        let hour_ago = now - chrono::Duration::hours(1);
        self.call_untraced("jobs.stats", async {
            let mut conn = self.conn().await?;
            let per_kind = Stmt::<D>::new(
                "SELECT kind, COUNT(*) FROM jobs WHERE state = 'queued' GROUP BY kind",
            )
            .fetch_all(&mut conn)
            .await?;
            let mut stats = JobStats::default();
            for row in &per_kind {
                let mut c = Columns::<D>::new(row, "job count");
                let kind: String = c.get()?;
                let count: i64 = c.get()?;
                stats.queued.insert(kind, u64::try_from(count).unwrap_or(0));
            }
            let row = Stmt::<D>::new(
                "SELECT (SELECT COUNT(*) FROM jobs WHERE state = 'running'), \
                 (SELECT COUNT(*) FROM jobs WHERE failed_at >= $1), \
                 (SELECT COUNT(*) FROM jobs WHERE state = 'dead')",
            )
            .bind(hour_ago)
            .fetch_one(&mut conn)
            .await?;
            let mut c = Columns::<D>::new(&row, "job count");
            let mut next =
                || -> PortResult<u64> { Ok(u64::try_from(c.get::<i64>()?).unwrap_or(0)) };
            stats.running = next()?;
            stats.failed_last_hour = next()?;
            stats.dead = next()?;
            Ok(stats)
        })
        .await
    }
}
