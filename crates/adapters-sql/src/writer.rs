//! The one writer of a one-writer engine ([`Dialect::ONE_WRITER`]): its turn, and the
//! connection and thread its write batches run on (decision 142).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use ainative_ports::{PortError, PortResult};
use sqlx::{Connection, Pool};
use tokio::sync::{Mutex, OwnedMutexGuard};
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::dialect::{Conn, DbRow, Dialect};
use crate::error::map_err;
use crate::statement::Stmt;
use crate::writer_thread::WriterThread;

/// This process's writer turn. While held, it holds the write batches' own connection.
pub(crate) type Turn<D> = OwnedMutexGuard<Option<Conn<D>>>;

/// The writer of one store and its clones.
pub(crate) struct Writer<D: Dialect> {
    /// The turn, and the connection of the batches (opened by the first one). Only batches
    /// write on that connection, so its page cache stays valid from one to the next, which
    /// a pooled connection's would not (any write elsewhere empties it).
    turn: Arc<Mutex<Option<Conn<D>>>>,
    thread: WriterThread,
    /// Set by [`Writer::close`]: later batches are refused.
    closed: Arc<AtomicBool>,
}

impl<D: Dialect> Clone for Writer<D> {
    fn clone(&self) -> Self {
        Self {
            turn: Arc::clone(&self.turn),
            thread: self.thread.clone(),
            closed: Arc::clone(&self.closed),
        }
    }
}

impl<D: Dialect> Default for Writer<D> {
    fn default() -> Self {
        Self {
            turn: Arc::default(),
            thread: WriterThread::default(),
            closed: Arc::default(),
        }
    }
}

impl<D: Dialect> Writer<D> {
    /// Waits for the writer turn: after every write of this process that asked before.
    pub(crate) async fn turn(&self) -> Turn<D> {
        Arc::clone(&self.turn).lock_owned().await
    }

    /// Runs `batch` (statements that begin and commit their transaction) on the writer
    /// thread, in the writer turn, on the writer's connection. A batch that fails is rolled
    /// back and its connection closed; the next batch opens another.
    pub(crate) fn run(
        &self,
        pool: Pool<D::Db>,
        batch: Stmt<D>,
    ) -> JoinHandle<PortResult<Vec<DbRow<D>>>> {
        let writer = self.clone();
        self.thread.spawn(
            async move {
                let mut turn = writer.turn().await;
                if writer.closed.load(Ordering::Acquire) {
                    return Err(PortError::Unavailable("the database is closed".into()));
                }
                let conn = match turn.as_mut() {
                    Some(conn) => conn,
                    None => turn.insert(open::<D>(&pool).await?),
                };
                let outcome = batch.fetch_all(conn).await;
                if outcome.is_err() {
                    // The engine may have rolled back already: then this fails, harmlessly.
                    let _ = Stmt::<D>::new("ROLLBACK").execute(conn).await;
                    *turn = None;
                }
                outcome
            }
            .in_current_span(),
        )
    }

    /// Closes the writer's connection once the batches that asked before have run (SQLite
    /// copies its log into the database when its last connection closes); later batches
    /// are refused.
    pub(crate) async fn close(&self) {
        let mut turn = self.turn().await;
        self.closed.store(true, Ordering::Release);
        if let Some(conn) = turn.take() {
            if let Err(error) = conn.close().await {
                tracing::warn!(%error, "the writer's connection did not close cleanly");
            }
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
