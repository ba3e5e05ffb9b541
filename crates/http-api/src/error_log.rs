//! Server errors for `GET /admin/errors`, kept in the database so that every instance sees
//! those of all.
//!
//! Recording never slows or fails the request that erred: the middleware hands the entry
//! to a bounded queue ([`ErrorLog::record`] never waits) and one background task per
//! instance writes batches through the [`ServerErrorLog`] port. While the database cannot
//! take them, the writer keeps the newest [`SERVER_ERRORS_KEPT`] and retries with a
//! growing pause, so errors raised during an outage (often the ones an admin wants) are
//! stored once it ends. A full queue drops the entry and says so in the log.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use ainative_ports::{error_chain, PortResult, ServerError, ServerErrorLog, SERVER_ERRORS_KEPT};
use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use utoipa::ToSchema;
use uuid::Uuid;

/// Entries waiting for the writer; beyond this, new ones are dropped.
const QUEUE: usize = 256;
/// The first pause after a failed write; it doubles up to [`MAX_RETRY`].
const FIRST_RETRY: Duration = Duration::from_millis(500);
/// The longest pause between two attempts.
const MAX_RETRY: Duration = Duration::from_secs(30);

/// One recorded 5xx response, as `GET /admin/errors` lists it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServerErrorRecord {
    /// Request id, to find the logs.
    pub request_id: String,
    /// HTTP method.
    pub method: String,
    /// Route template.
    pub route: String,
    /// Status sent.
    pub status: u16,
    /// Internal detail (never sent to the failing client).
    pub detail: String,
    /// The instance that answered (`host:pid:tag`).
    pub instance: String,
    /// When.
    pub occurred_at: DateTime<Utc>,
}

impl From<ServerError> for ServerErrorRecord {
    fn from(error: ServerError) -> Self {
        Self {
            request_id: error.request_id,
            method: error.method,
            route: error.route,
            status: error.status,
            detail: error.detail,
            instance: error.instance,
            occurred_at: error.occurred_at,
        }
    }
}

/// The recorder and reader of server errors. Cloning is cheap: clones share the queue.
#[derive(Clone)]
pub struct ErrorLog {
    queue: mpsc::Sender<ServerError>,
    store: Arc<dyn ServerErrorLog>,
    instance: Arc<str>,
}

impl std::fmt::Debug for ErrorLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ErrorLog")
            .field("instance", &self.instance)
            .finish_non_exhaustive()
    }
}

/// The background writer of an [`ErrorLog`]; [`ErrorLogWriter::finish`] stores what is
/// queued and stops it.
#[derive(Debug)]
pub struct ErrorLogWriter {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl ErrorLog {
    /// A log writing to `store` as `instance`, and its writer (a task on the current Tokio
    /// runtime).
    pub fn spawn(
        store: Arc<dyn ServerErrorLog>,
        instance: impl Into<Arc<str>>,
    ) -> (Self, ErrorLogWriter) {
        let (queue, entries) = mpsc::channel(QUEUE);
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(write(store.clone(), entries, stopped));
        let log = Self {
            queue,
            store,
            instance: instance.into(),
        };
        (log, ErrorLogWriter { stop, task })
    }

    /// The name this instance records its errors under.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Queues an error for the database; never waits.
    pub fn record(
        &self,
        request_id: String,
        method: String,
        route: String,
        status: u16,
        detail: String,
    ) {
        let entry = ServerError {
            id: Uuid::new_v4(),
            instance: self.instance.to_string(),
            request_id,
            method,
            route,
            status,
            detail,
            occurred_at: Utc::now(),
        };
        if let Err(err) = self.queue.try_send(entry) {
            let entry = match err {
                mpsc::error::TrySendError::Full(entry)
                | mpsc::error::TrySendError::Closed(entry) => entry,
            };
            tracing::warn!(
                request_id = %entry.request_id,
                "server error not recorded for /admin/errors: the queue is full or closed"
            );
        }
    }

    /// The newest errors of every instance (at most [`SERVER_ERRORS_KEPT`]), newest first.
    ///
    /// Errors: `Unavailable` when the database cannot be reached.
    pub async fn recent(&self) -> PortResult<Vec<ServerErrorRecord>> {
        let errors = self.store.recent(SERVER_ERRORS_KEPT).await?;
        Ok(errors.into_iter().map(ServerErrorRecord::from).collect())
    }
}

impl ErrorLogWriter {
    /// Stores what is queued (one attempt, for at most `within`) and stops the writer.
    pub async fn finish(self, within: Duration) {
        let _ = self.stop.send(());
        if tokio::time::timeout(within, self.task).await.is_err() {
            tracing::warn!("server errors still queued at shutdown were not stored");
        }
    }
}

/// Errors not stored yet: the newest [`SERVER_ERRORS_KEPT`], as the store would keep.
#[derive(Default)]
struct Pending(VecDeque<ServerError>);

impl Pending {
    fn push(&mut self, entry: ServerError) {
        if self.0.len() == SERVER_ERRORS_KEPT as usize {
            self.0.pop_front();
        }
        self.0.push_back(entry);
    }

    /// Writes everything pending in one call; keeps it on failure.
    async fn flush(&mut self, store: &dyn ServerErrorLog) -> bool {
        if self.0.is_empty() {
            return true;
        }
        match store.record(self.0.make_contiguous()).await {
            Ok(()) => {
                self.0.clear();
                true
            }
            Err(err) => {
                tracing::warn!(
                    pending = self.0.len(),
                    error = %error_chain(&err),
                    "cannot store server errors yet; will retry"
                );
                false
            }
        }
    }
}

/// The writer: takes what is queued, writes it in batches, retries with a growing pause.
async fn write(
    store: Arc<dyn ServerErrorLog>,
    mut entries: mpsc::Receiver<ServerError>,
    mut stop: oneshot::Receiver<()>,
) {
    let mut pending = Pending::default();
    let mut pause = FIRST_RETRY;
    let mut retry_at: Option<tokio::time::Instant> = None;
    // A writer handle dropped without `finish` lets the writer run until the queue closes.
    let mut stop_dropped = false;
    loop {
        tokio::select! {
            biased;
            stopped = &mut stop, if !stop_dropped => {
                if stopped.is_ok() {
                    break;
                }
                stop_dropped = true;
                continue;
            }
            entry = entries.recv() => match entry {
                Some(entry) => pending.push(entry),
                None => break,
            },
            () = sleep_until(retry_at) => retry_at = None,
        }
        // Everything already queued goes in the same batch.
        while let Ok(entry) = entries.try_recv() {
            pending.push(entry);
        }
        if retry_at.is_some() {
            continue;
        }
        if pending.flush(store.as_ref()).await {
            pause = FIRST_RETRY;
        } else {
            retry_at = Some(tokio::time::Instant::now() + pause);
            pause = (pause * 2).min(MAX_RETRY);
        }
    }
    while let Ok(entry) = entries.try_recv() {
        pending.push(entry);
    }
    pending.flush(store.as_ref()).await;
}

/// Completes at `at`, never when there is none.
async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// A name for this instance: host, process id and a random tag (two servers in one process,
/// as in tests, still differ).
pub fn instance_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    let tag = Uuid::new_v4().simple().to_string();
    format!("{host}:{}:{}", std::process::id(), &tag[..6])
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use ainative_ports::PortError;
    use async_trait::async_trait;
    use parking_lot::Mutex;

    use super::*;

    /// A store that keeps what it is given, and can be switched off.
    #[derive(Default)]
    struct Memory {
        stored: Mutex<Vec<ServerError>>,
        down: AtomicBool,
        attempts: Mutex<u32>,
    }

    #[async_trait]
    impl ServerErrorLog for Memory {
        async fn record(&self, errors: &[ServerError]) -> PortResult<()> {
            *self.attempts.lock() += 1;
            if self.down.load(Ordering::SeqCst) {
                return Err(PortError::Unavailable("down".into()));
            }
            self.stored.lock().extend_from_slice(errors);
            Ok(())
        }

        async fn recent(&self, limit: u32) -> PortResult<Vec<ServerError>> {
            if self.down.load(Ordering::SeqCst) {
                return Err(PortError::Unavailable("down".into()));
            }
            let stored = self.stored.lock();
            Ok(stored.iter().rev().take(limit as usize).cloned().collect())
        }
    }

    fn record(log: &ErrorLog, request_id: &str) {
        log.record(
            request_id.to_owned(),
            "GET".into(),
            "/x".into(),
            500,
            "boom".into(),
        );
    }

    /// Waits (on the paused clock) until `done` holds, for at most a minute.
    async fn until(mut done: impl FnMut() -> bool) {
        for _ in 0..6_000 {
            if done() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("condition not reached within a minute");
    }

    #[tokio::test(start_paused = true)]
    async fn errors_reach_the_store_with_the_instance() {
        let store = Arc::new(Memory::default());
        let (log, writer) = ErrorLog::spawn(store.clone(), "host:1:abc");
        record(&log, "r1");
        record(&log, "r2");
        until(|| store.stored.lock().len() == 2).await;
        let recent = log.recent().await.expect("recent");
        let ids: Vec<_> = recent.iter().map(|e| e.request_id.as_str()).collect();
        assert_eq!(ids, ["r2", "r1"]);
        assert!(recent.iter().all(|e| e.instance == "host:1:abc"));
        writer.finish(Duration::from_secs(1)).await;
    }

    #[tokio::test(start_paused = true)]
    async fn errors_of_an_outage_are_stored_when_it_ends() {
        let store = Arc::new(Memory::default());
        store.down.store(true, Ordering::SeqCst);
        let (log, writer) = ErrorLog::spawn(store.clone(), "i");
        record(&log, "during");
        until(|| *store.attempts.lock() == 1).await;
        assert!(log.recent().await.is_err(), "the database is down");
        // No retry before the pause is over.
        tokio::time::sleep(FIRST_RETRY / 2).await;
        assert_eq!(*store.attempts.lock(), 1);
        tokio::time::sleep(FIRST_RETRY).await;
        until(|| *store.attempts.lock() == 2).await;
        store.down.store(false, Ordering::SeqCst);
        record(&log, "after");
        // The next attempt (after a doubled pause) stores both, in order.
        until(|| store.stored.lock().len() == 2).await;
        let ids: Vec<_> = store
            .stored
            .lock()
            .iter()
            .map(|e| e.request_id.clone())
            .collect();
        assert_eq!(ids, ["during", "after"]);
        writer.finish(Duration::from_secs(1)).await;
    }

    #[tokio::test(start_paused = true)]
    async fn an_outage_keeps_only_the_newest_and_finish_flushes() {
        let store = Arc::new(Memory::default());
        store.down.store(true, Ordering::SeqCst);
        let (log, writer) = ErrorLog::spawn(store.clone(), "i");
        let kept = SERVER_ERRORS_KEPT as usize;
        for i in 0..kept + 20 {
            record(&log, &format!("r{i}"));
            tokio::task::yield_now().await;
        }
        store.down.store(false, Ordering::SeqCst);
        writer.finish(Duration::from_secs(1)).await;
        let stored = store.stored.lock();
        assert_eq!(stored.len(), kept);
        assert_eq!(stored[0].request_id, "r20");
        assert_eq!(stored[kept - 1].request_id, format!("r{}", kept + 19));
    }

    #[test]
    fn instance_names_differ_within_a_process() {
        let (a, b) = (instance_name(), instance_name());
        assert_ne!(a, b);
        assert!(a.contains(&format!(":{}:", std::process::id())), "{a}");
    }
}
