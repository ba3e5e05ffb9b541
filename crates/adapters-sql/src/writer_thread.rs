//! The thread that runs a one-writer engine's write batches.
//!
//! A batch holds the writer turn from the moment it takes it until its task is polled again
//! after the engine answered. On a request worker that poll waits for whatever other request
//! the worker is busy with, and every writer of the process waits with it. On a thread of
//! their own the batches follow each other as soon as the engine answers (decision 142).

use std::future::Future;
use std::sync::{Arc, OnceLock};

use tokio::runtime::{Builder, Handle};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A current-thread runtime on a thread of its own, started on first use. It stops once
/// every store sharing it and every task it runs are gone.
#[derive(Clone, Default)]
pub(crate) struct WriterThread {
    started: Arc<OnceLock<Option<Started>>>,
}

struct Started {
    handle: Handle,
    /// Dropped with the last store and the last task, which ends the thread.
    alive: Arc<oneshot::Sender<()>>,
}

impl WriterThread {
    /// Runs `work` on the writer thread; on the caller's runtime if that thread could not
    /// be started (the work is the same, only the hand-offs are slower).
    pub(crate) fn spawn<F>(&self, work: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self.started.get_or_init(start) {
            Some(started) => {
                let alive = Arc::clone(&started.alive);
                started.handle.spawn(async move {
                    let output = work.await;
                    drop(alive);
                    output
                })
            }
            None => tokio::spawn(work),
        }
    }
}

fn start() -> Option<Started> {
    let runtime = match Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::warn!(%error, "no runtime for the writer thread; batches run on the caller's");
            return None;
        }
    };
    let handle = runtime.handle().clone();
    let (alive, stopped) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("sql-writer".into())
        .spawn(move || runtime.block_on(async move { stopped.await.unwrap_or_default() }));
    match thread {
        Ok(_) => Some(Started {
            handle,
            alive: Arc::new(alive),
        }),
        Err(error) => {
            tracing::warn!(%error, "no writer thread; batches run on the caller's runtime");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn thread_name() -> Option<String> {
        std::thread::current().name().map(str::to_owned)
    }

    #[tokio::test]
    async fn work_runs_on_the_writer_thread() {
        let writer = WriterThread::default();
        let name = writer.spawn(async { thread_name() }).await.expect("joined");
        assert_eq!(name.as_deref(), Some("sql-writer"));
    }

    #[tokio::test]
    async fn the_thread_runs_a_task_to_its_end_after_the_store_is_gone() {
        let writer = WriterThread::default();
        let (tx, rx) = oneshot::channel();
        let task = writer.spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            tx.send(thread_name()).expect("receiver waits");
        });
        drop(writer);
        drop(task);
        assert_eq!(rx.await.expect("sent").as_deref(), Some("sql-writer"));
    }

    #[test]
    fn the_thread_ends_with_its_last_user() {
        let writer = WriterThread::default();
        let runtime = Builder::new_current_thread().build().expect("runtime");
        let (tx, rx) = std::sync::mpsc::channel();
        runtime
            .block_on(writer.spawn(async move {
                struct SaysWhenGone(std::sync::mpsc::Sender<()>);
                impl Drop for SaysWhenGone {
                    fn drop(&mut self) {
                        let _ = self.0.send(());
                    }
                }
                // Dropped with the runtime, at the end of the thread.
                let guard = SaysWhenGone(tx);
                tokio::spawn(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await
                });
            }))
            .expect("joined");
        assert!(
            rx.recv_timeout(Duration::from_millis(200)).is_err(),
            "still running"
        );
        drop(writer);
        assert!(
            rx.recv_timeout(Duration::from_secs(5)).is_ok(),
            "thread ended"
        );
    }
}
