//! Wakes this process's job workers when any process enqueues a job (`LISTEN` on the
//! channel the store's enqueue `NOTIFY`s, delivered at commit).

use std::sync::Arc;
use std::time::Duration;

use ainative_adapters_sql::port_error;
use ainative_ports::PortError;
use sqlx::postgres::PgListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::PgDialect;

/// The channel the store notifies on enqueue.
pub const JOB_CHANNEL: &str = "ainative_jobs";

/// A running listener; dropping it stops listening.
#[derive(Debug)]
pub struct JobListener(JoinHandle<()>);

impl Drop for JobListener {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Listens on [`JOB_CHANNEL`] with a connection of its own (not one of the store's pool) and
/// wakes `wakeup`'s waiters on every notification. A lost connection is re-established by
/// the listener; notifications sent meanwhile are lost, so waiters are woken after every
/// error too (workers then look for themselves, and poll anyway).
///
/// Errors: `Unavailable` when the first connection fails; `Other` for a bad URL.
pub async fn listen_for_jobs(url: &str, wakeup: Arc<Notify>) -> Result<JobListener, PortError> {
    let mut listener = PgListener::connect(url)
        .await
        .map_err(port_error::<PgDialect>)?;
    listener
        .listen(JOB_CHANNEL)
        .await
        .map_err(port_error::<PgDialect>)?;
    Ok(JobListener(tokio::spawn(async move {
        loop {
            match listener.recv().await {
                Ok(_) => wakeup.notify_waiters(),
                Err(err) => {
                    tracing::warn!(error = %err, "job notification listener lost its connection");
                    wakeup.notify_waiters();
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    })))
}
