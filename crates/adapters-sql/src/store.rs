//! The store: a pool, the deadline of its calls and who is told their duration.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use ainative_ports::pool::{redact_url, PoolSettings};
use ainative_ports::{PortError, PortResult, QueryObserver};
use sqlx::pool::PoolConnection;
use sqlx::{Pool, Transaction};
use tokio::sync::Notify;
use tracing::Instrument;

use crate::columns::{read_all, read_one, Reader};
use crate::dialect::{DbRow, Dialect};
use crate::error::map_err;
use crate::statement::Stmt;
use crate::writer::{Turn, Writer};

/// How long a call may run past the pool's acquire timeout: a connection obtained just
/// before the acquire deadline still gets to run its statements.
pub const QUERY_GRACE: Duration = Duration::from_millis(500);

/// Every persistence port on one pool of dialect `D`. Cloning is cheap: clones share the
/// pool.
///
/// Each port method runs inside [`SqlStore::call`]: one tracing span, a deadline (the
/// pool's acquire timeout plus [`QUERY_GRACE`]; past it the call is abandoned and answers
/// `Unavailable`, never hangs on a database that stopped answering) and its duration told
/// to the [`QueryObserver`], if any.
pub struct SqlStore<D: Dialect> {
    pub(crate) pool: Pool<D::Db>,
    deadline: Duration,
    observer: Option<Arc<dyn QueryObserver>>,
    /// Woken when this process enqueues a job, so its idle workers start at once.
    wakeup: Arc<Notify>,
    /// When this process last made the expired last attempts dead (see `jobs.rs`).
    pub(crate) dead_sweep: Arc<crate::jobs::SweepClock>,
    /// The writer of a one-writer engine (see [`Dialect::ONE_WRITER`]).
    writer: Writer<D>,
}

impl<D: Dialect> Clone for SqlStore<D> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            deadline: self.deadline,
            observer: self.observer.clone(),
            wakeup: self.wakeup.clone(),
            dead_sweep: self.dead_sweep.clone(),
            writer: self.writer.clone(),
        }
    }
}

impl<D: Dialect> fmt::Debug for SqlStore<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlStore")
            .field("backend", &D::BACKEND)
            .field("deadline", &self.deadline)
            .field("observed", &self.observer.is_some())
            .finish_non_exhaustive()
    }
}

impl<D: Dialect> SqlStore<D> {
    /// Opens a pool with `settings` and checks that the database answers.
    ///
    /// Errors: `Unavailable` when it cannot be reached within the acquire timeout; `Other`
    /// for an invalid URL or inconsistent pool bounds.
    pub async fn connect(settings: &PoolSettings) -> Result<Self, PortError> {
        settings.check_bounds()?;
        let pool = D::open(settings).await?;
        tracing::debug!(url = %redact_url(&settings.url), backend = D::BACKEND, "pool open");
        Ok(Self::from_pool(pool))
    }

    /// Wraps an existing pool; calls get the deadline of its acquire timeout.
    pub fn from_pool(pool: Pool<D::Db>) -> Self {
        let deadline = pool.options().get_acquire_timeout() + QUERY_GRACE;
        Self {
            pool,
            deadline,
            observer: None,
            wakeup: Arc::new(Notify::new()),
            dead_sweep: Arc::default(),
            writer: Writer::default(),
        }
    }

    /// Tells `observer` the duration of every call.
    pub fn observed_by(mut self, observer: Arc<dyn QueryObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Replaces the deadline of every call.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The deadline of every call.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// Notified whenever this store (or a clone) enqueues a job: workers of this process
    /// wait on it between polls.
    pub fn job_wakeup(&self) -> Arc<Notify> {
        self.wakeup.clone()
    }

    /// Wakes the workers waiting on [`SqlStore::job_wakeup`]; store modules call it after
    /// committing a transaction that enqueued a job.
    pub(crate) fn wake_workers(&self) {
        self.wakeup.notify_waiters();
    }

    /// The pool, for callers that need it.
    pub fn pool(&self) -> &Pool<D::Db> {
        &self.pool
    }

    /// Closes the store, for a shutdown: the writer's connection once the writes before have
    /// run (later ones are refused), then the pool, waiting for checked-out connections.
    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }

    /// Runs one port call `operation` (`<port>.<method>`): in a span, within the deadline,
    /// timed.
    pub(crate) async fn call<T>(
        &self,
        operation: &'static str,
        work: impl Future<Output = PortResult<T>>,
    ) -> PortResult<T> {
        let span = tracing::debug_span!(
            "db",
            otel.name = %SpanName(operation),
            db.system = D::SYSTEM,
            db.operation = operation,
        );
        self.bounded(operation, work).instrument(span).await
    }

    /// [`SqlStore::call`] without a span, for calls made on a timer outside any request
    /// (a root trace per poll would drown the useful ones).
    pub(crate) async fn call_untraced<T>(
        &self,
        operation: &'static str,
        work: impl Future<Output = PortResult<T>>,
    ) -> PortResult<T> {
        self.bounded(operation, work).await
    }

    async fn bounded<T>(
        &self,
        operation: &'static str,
        work: impl Future<Output = PortResult<T>>,
    ) -> PortResult<T> {
        within_deadline(self.deadline, self.observer.as_deref(), operation, work).await
    }

    /// A pooled connection.
    pub(crate) async fn conn(&self) -> PortResult<PoolConnection<D::Db>> {
        self.pool.acquire().await.map_err(map_err::<D>)
    }

    /// The first row of `stmt` (on a pooled connection), as a `kind` record read by `read`.
    pub(crate) async fn optional<T>(
        &self,
        stmt: Stmt<D>,
        kind: &'static str,
        read: Reader<D, T>,
    ) -> PortResult<Option<T>> {
        let row = stmt.fetch_optional(&mut *self.conn().await?).await?;
        row.map(|row| read_one(&row, kind, read)).transpose()
    }

    /// Every row of `stmt` (on a pooled connection), as `kind` records read by `read`.
    pub(crate) async fn all<T>(
        &self,
        stmt: Stmt<D>,
        kind: &'static str,
        read: Reader<D, T>,
    ) -> PortResult<Vec<T>> {
        let rows = stmt.fetch_all(&mut *self.conn().await?).await?;
        read_all(&rows, kind, read)
    }

    /// Starts a write transaction (as the dialect starts one); on a one-writer engine, after
    /// the write transactions of this process started before it have ended. Dropped without
    /// commit, it rolls back.
    pub(crate) async fn begin_write(&self) -> PortResult<WriteTx<D>> {
        let turn = if D::ONE_WRITER {
            Some(self.writer.turn().await)
        } else {
            None
        };
        let tx = match D::BEGIN_WRITE {
            Some(begin) => self.pool.begin_with(begin).await,
            None => self.pool.begin().await,
        }
        .map_err(map_err::<D>)?;
        Ok(WriteTx { tx, _turn: turn })
    }

    /// Runs `batch` — statements without `BEGIN` or `COMMIT` — atomically, in one call, and
    /// returns its rows ([`Dialect::STATEMENT_BATCHES`]; only SQLite, a one-writer engine,
    /// runs batches). Batches run after this process's earlier writers, on the writer thread
    /// and the writer's own connection (decision 142); those that queue meanwhile share one
    /// transaction, each still all or nothing (decision 144).
    ///
    /// The batch runs to its end even if the caller stops waiting (a timeout, a client gone):
    /// stopped half-way it would leave its transaction open.
    pub(crate) async fn write_batch(&self, batch: Stmt<D>) -> PortResult<Vec<DbRow<D>>> {
        let (sql, args) = batch.parts()?;
        self.writer.run(&self.pool, sql, args).await
    }
}

/// A write transaction of [`SqlStore::begin_write`], holding this process's writer turn on a
/// one-writer engine until it commits or is dropped (rolled back).
pub(crate) struct WriteTx<D: Dialect> {
    tx: Transaction<'static, D::Db>,
    _turn: Option<Turn<D>>,
}

impl<D: Dialect> WriteTx<D> {
    /// Commits, then lets the next writer start.
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

impl<D: Dialect> std::ops::Deref for WriteTx<D> {
    type Target = Transaction<'static, D::Db>;

    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl<D: Dialect> std::ops::DerefMut for WriteTx<D> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

/// Runs `work` for at most `deadline` (then `Unavailable`), and tells `observer` how long it
/// took.
async fn within_deadline<T>(
    deadline: Duration,
    observer: Option<&dyn QueryObserver>,
    operation: &'static str,
    work: impl Future<Output = PortResult<T>>,
) -> PortResult<T> {
    // Tokio's clock, which tests can pause.
    let started = tokio::time::Instant::now();
    let outcome = tokio::time::timeout(deadline, work).await;
    if let Some(observer) = observer {
        observer.query_finished(operation, started.elapsed());
    }
    outcome.unwrap_or_else(|_| {
        tracing::warn!(
            operation,
            limit_ms = u64::try_from(deadline.as_millis()).unwrap_or(u64::MAX),
            "database call exceeded its deadline"
        );
        Err(PortError::Unavailable(
            format!("database call {operation} timed out").into(),
        ))
    })
}

/// `db.<operation>`, the span's name in traces, written only when a span is recorded.
struct SpanName(&'static str);

impl fmt::Display for SpanName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "db.{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Remembers what it was told.
    #[derive(Default)]
    struct Timings(Mutex<Vec<(&'static str, Duration)>>);

    impl QueryObserver for Timings {
        fn query_finished(&self, operation: &'static str, elapsed: Duration) {
            self.0
                .lock()
                .expect("not poisoned")
                .push((operation, elapsed));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_that_never_finishes_is_unavailable_at_the_deadline() {
        let timings = Timings::default();
        let started = tokio::time::Instant::now();
        // A frozen database: the call never answers.
        let result: PortResult<()> = within_deadline(
            Duration::from_secs(5),
            Some(&timings),
            "audit.list",
            std::future::pending(),
        )
        .await;
        assert!(
            matches!(result, Err(PortError::Unavailable(_))),
            "{result:?}"
        );
        assert_eq!(started.elapsed(), Duration::from_secs(5));
        let told = timings.0.lock().expect("not poisoned").clone();
        assert_eq!(told, vec![("audit.list", Duration::from_secs(5))]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_within_the_deadline_keeps_its_outcome() {
        let timings = Timings::default();
        let answer = within_deadline(
            Duration::from_secs(5),
            Some(&timings),
            "users.find",
            async {
                tokio::time::sleep(Duration::from_secs(1)).await;
                Err::<(), _>(PortError::NotFound)
            },
        )
        .await;
        assert_eq!(answer, Err(PortError::NotFound));
        let told = timings.0.lock().expect("not poisoned").clone();
        assert_eq!(told, vec![("users.find", Duration::from_secs(1))]);
        assert_eq!(
            within_deadline(Duration::from_secs(5), None, "x", async { Ok(7) }).await,
            Ok(7)
        );
    }
}
