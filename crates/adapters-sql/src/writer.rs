//! The one writer of a one-writer engine ([`Dialect::ONE_WRITER`]): its turn, and the
//! connection and thread its write batches run on (decision 142), in groups that share one
//! transaction (decision 144).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use ainative_ports::{PortError, PortResult};
use sqlx::{AssertSqlSafe, Connection, Pool, SqlSafeStr, SqlStr};
use tokio::sync::{mpsc, oneshot, Mutex, OwnedMutexGuard};

use crate::dialect::{Args, Conn, DbRow, Dialect, Run};
use crate::error::map_err;
use crate::writer_thread::WriterThread;

/// This process's writer turn. While held, it holds the write batches' own connection.
pub(crate) type Turn<D> = OwnedMutexGuard<Option<Conn<D>>>;

/// The most batches one transaction takes: the group's pages stay a few hundred.
const MAX_GROUP: usize = 64;

/// A batch's rows, or why it failed.
type Outcome<D> = PortResult<Vec<DbRow<D>>>;

/// The writer of one store and its clones.
pub(crate) struct Writer<D: Dialect> {
    /// The turn, and the connection of the batches (opened by the first one). Only batches
    /// write on that connection, so its page cache stays valid from one to the next, which
    /// a pooled connection's would not (any write elsewhere empties it).
    turn: Arc<Mutex<Option<Conn<D>>>>,
    thread: WriterThread,
    /// Where batches wait for the writer's loop, started by the first one. Dropped with the
    /// last clone, which ends the loop.
    queue: Arc<OnceLock<mpsc::UnboundedSender<Job<D>>>>,
    /// Set by [`Writer::close`]: later batches are refused.
    closed: Arc<AtomicBool>,
}

/// What the writer's loop is asked to do, in the order asked.
enum Job<D: Dialect> {
    Batch(Batch<D>),
    /// Close the connection once the batches before have run.
    Close(oneshot::Sender<()>),
}

/// Statements to run atomically, without their own `BEGIN`/`COMMIT`, and whom to tell.
struct Batch<D: Dialect> {
    sql: SqlStr,
    args: Args<D>,
    done: oneshot::Sender<Outcome<D>>,
}

impl<D: Dialect> Clone for Writer<D> {
    fn clone(&self) -> Self {
        Self {
            turn: Arc::clone(&self.turn),
            thread: self.thread.clone(),
            queue: Arc::clone(&self.queue),
            closed: Arc::clone(&self.closed),
        }
    }
}

impl<D: Dialect> Default for Writer<D> {
    fn default() -> Self {
        Self {
            turn: Arc::default(),
            thread: WriterThread::default(),
            queue: Arc::default(),
            closed: Arc::default(),
        }
    }
}

impl<D: Dialect> Writer<D> {
    /// Waits for the writer turn: after every write of this process that asked before.
    pub(crate) async fn turn(&self) -> Turn<D> {
        Arc::clone(&self.turn).lock_owned().await
    }

    /// Runs `sql` (statements that neither begin nor commit) atomically on the writer's
    /// connection, in the writer turn: alone in a transaction when nothing else waits,
    /// otherwise in one with the batches that queued behind the writer meanwhile, one call
    /// each, and one commit for all of them. If any of a group fails, the group is rolled
    /// back and each of its batches runs again alone, so a batch's outcome never depends
    /// on its neighbours. A failed transaction's connection is closed; the next opens
    /// another.
    ///
    /// The batch runs to its end even if the caller stops waiting.
    pub(crate) async fn run(&self, pool: &Pool<D::Db>, sql: SqlStr, args: Args<D>) -> Outcome<D> {
        let queue = self.queue.get_or_init(|| self.start(pool.clone()));
        let (done, outcome) = oneshot::channel();
        let job = Job::Batch(Batch { sql, args, done });
        if queue.send(job).is_err() {
            return Err(PortError::Unavailable("the writer has stopped".into()));
        }
        outcome
            .await
            .unwrap_or_else(|_| Err(PortError::Other("the writer dropped a batch".into())))
    }

    /// Starts the loop on the writer thread; returns its queue.
    fn start(&self, pool: Pool<D::Db>) -> mpsc::UnboundedSender<Job<D>> {
        let (queue, jobs) = mpsc::unbounded_channel();
        let writer = Loop {
            turn: Arc::clone(&self.turn),
            closed: Arc::clone(&self.closed),
            pool,
        };
        drop(self.thread.spawn(writer.serve(jobs)));
        queue
    }

    /// Closes the writer's connection once the batches that asked before have run (SQLite
    /// copies its log into the database when its last connection closes); later batches
    /// are refused.
    pub(crate) async fn close(&self) {
        if let Some(queue) = self.queue.get() {
            let (done, closed) = oneshot::channel();
            if queue.send(Job::Close(done)).is_ok() {
                let _ = closed.await;
            }
        }
        // Also when no batch ever ran, or the loop is gone.
        close::<D>(&mut self.turn().await, &self.closed).await;
    }
}

/// The writer's loop: what it needs of the writer, and nothing that keeps the queue open.
struct Loop<D: Dialect> {
    turn: Arc<Mutex<Option<Conn<D>>>>,
    closed: Arc<AtomicBool>,
    pool: Pool<D::Db>,
}

impl<D: Dialect> Loop<D> {
    /// Takes whatever waits, up to [`MAX_GROUP`] batches, runs it, and again, until every
    /// sender is gone.
    async fn serve(self, mut jobs: mpsc::UnboundedReceiver<Job<D>>) {
        let mut waiting = Vec::with_capacity(MAX_GROUP);
        while jobs.recv_many(&mut waiting, MAX_GROUP).await > 0 {
            let mut group = Vec::with_capacity(waiting.len());
            for job in waiting.drain(..) {
                match job {
                    Job::Batch(batch) => group.push(batch),
                    Job::Close(done) => {
                        self.run_group(std::mem::take(&mut group)).await;
                        close::<D>(&mut Arc::clone(&self.turn).lock_owned().await, &self.closed)
                            .await;
                        let _ = done.send(());
                    }
                }
            }
            self.run_group(group).await;
        }
    }

    /// Runs `group` in the writer turn: together if it is several, each alone otherwise or
    /// if together failed.
    async fn run_group(&self, group: Vec<Batch<D>>) {
        if group.is_empty() {
            return;
        }
        let mut turn = Arc::clone(&self.turn).lock_owned().await;
        if self.closed.load(Ordering::Acquire) {
            for batch in group {
                let closed = PortError::Unavailable("the database is closed".into());
                let _ = batch.done.send(Err(closed));
            }
            return;
        }
        if group.len() > 1 {
            let calls = in_turn(&group);
            if let Ok(outcomes) = self.together(&mut turn, calls).await {
                for (batch, outcome) in group.into_iter().zip(outcomes) {
                    let _ = batch.done.send(Ok(outcome));
                }
                return;
            }
        }
        // A batch alone, or each batch of a group that failed together.
        for batch in group {
            let outcome = self.alone(&mut turn, batch.sql, batch.args).await;
            let _ = batch.done.send(outcome);
        }
    }

    /// One batch in a transaction of its own, in one call.
    async fn alone(&self, turn: &mut Turn<D>, sql: SqlStr, args: Args<D>) -> Outcome<D> {
        let sql = around(&sql, Some(begin::<D>()), true);
        let conn = connection::<D>(turn, &self.pool).await?;
        let outcome = D::Db::fetch_all(conn, sql, args)
            .await
            .map_err(map_err::<D>);
        if outcome.is_err() {
            abandon::<D>(turn).await;
        }
        outcome
    }

    /// The whole group in one transaction, one call per batch: `calls` are the batches'
    /// statements, `BEGIN` riding with the first and `COMMIT` with the last ([`in_turn`]).
    /// On failure everything is rolled back and the connection closed.
    async fn together(
        &self,
        turn: &mut Turn<D>,
        calls: Vec<(SqlStr, Args<D>)>,
    ) -> PortResult<Vec<Vec<DbRow<D>>>> {
        let conn = connection::<D>(turn, &self.pool).await?;
        let mut outcomes = Vec::with_capacity(calls.len());
        for (sql, args) in calls {
            match D::Db::fetch_all(conn, sql, args).await {
                Ok(rows) => outcomes.push(rows),
                Err(error) => {
                    abandon::<D>(turn).await;
                    return Err(map_err::<D>(error));
                }
            }
        }
        Ok(outcomes)
    }
}

/// The calls that run `group` in one transaction. The values are shared, not copied, and
/// the batches stay whole for a rerun.
fn in_turn<D: Dialect>(group: &[Batch<D>]) -> Vec<(SqlStr, Args<D>)> {
    let last = group.len() - 1;
    group
        .iter()
        .enumerate()
        .map(|(i, batch)| {
            let sql = around(&batch.sql, (i == 0).then(begin::<D>), i == last);
            (sql, batch.args.clone())
        })
        .collect()
}

/// The statement that starts the dialect's write transaction.
fn begin<D: Dialect>() -> &'static str {
    D::BEGIN_WRITE.unwrap_or("BEGIN")
}

/// `sql`, after `begin` if given, before `COMMIT` if `commit`.
fn around(sql: &SqlStr, begin: Option<&str>, commit: bool) -> SqlStr {
    let body = sql.as_str();
    let text = match (begin, commit) {
        (Some(begin), true) => format!("{begin}; {body}; COMMIT"),
        (Some(begin), false) => format!("{begin}; {body}"),
        (None, true) => format!("{body}; COMMIT"),
        (None, false) => return sql.clone(),
    };
    AssertSqlSafe(text).into_sql_str()
}

/// The writer's connection, opened if there is none.
async fn connection<'t, D: Dialect>(
    turn: &'t mut Turn<D>,
    pool: &Pool<D::Db>,
) -> PortResult<&'t mut Conn<D>> {
    let conn = match turn.take() {
        Some(conn) => conn,
        None => open::<D>(pool).await?,
    };
    Ok(turn.insert(conn))
}

/// Rolls back whatever the connection's transaction holds and closes it.
async fn abandon<D: Dialect>(turn: &mut Turn<D>) {
    if let Some(mut conn) = turn.take() {
        // The engine may have rolled back already: then this fails, harmlessly.
        let rollback = AssertSqlSafe("ROLLBACK").into_sql_str();
        let _ = D::Db::execute(&mut conn, rollback, Args::<D>::default()).await;
    }
}

/// Marks the writer closed and closes its connection.
async fn close<D: Dialect>(turn: &mut Turn<D>, closed: &AtomicBool) {
    closed.store(true, Ordering::Release);
    if let Some(conn) = turn.take() {
        if let Err(error) = conn.close().await {
            tracing::warn!(%error, "the writer's connection did not close cleanly");
        }
    }
}

/// The writer's connection, with the pool's settings (on an in-memory database, the pool's
/// database).
async fn open<D: Dialect>(pool: &Pool<D::Db>) -> PortResult<Conn<D>> {
    Conn::<D>::connect_with(&pool.connect_options())
        .await
        .map_err(map_err::<D>)
}
