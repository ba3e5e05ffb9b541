//! The last server errors of this instance, for `GET /admin/errors`.

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use serde::Serialize;
use utoipa::ToSchema;

/// One recorded 5xx response.
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
    /// When.
    pub occurred_at: DateTime<Utc>,
}

/// A bounded ring of recent server errors, newest last.
#[derive(Debug, Clone)]
pub struct ErrorLog {
    entries: Arc<Mutex<VecDeque<ServerErrorRecord>>>,
    capacity: usize,
}

impl Default for ErrorLog {
    fn default() -> Self {
        Self::with_capacity(100)
    }
}

impl ErrorLog {
    /// A log keeping the last `capacity` errors.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            entries: Arc::new(Mutex::new(VecDeque::with_capacity(capacity))),
            capacity,
        }
    }

    /// Records an error, dropping the oldest when full.
    pub fn record(
        &self,
        request_id: String,
        method: String,
        route: String,
        status: u16,
        detail: String,
    ) {
        let mut entries = self.entries.lock();
        if entries.len() == self.capacity {
            entries.pop_front();
        }
        entries.push_back(ServerErrorRecord {
            request_id,
            method,
            route,
            status,
            detail,
            occurred_at: Utc::now(),
        });
    }

    /// The recorded errors, newest first.
    pub fn recent(&self) -> Vec<ServerErrorRecord> {
        self.entries.lock().iter().rev().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_newest() {
        let log = ErrorLog::with_capacity(3);
        for i in 0..5 {
            log.record(
                format!("r{i}"),
                "GET".into(),
                "/x".into(),
                500,
                "boom".into(),
            );
        }
        let ids: Vec<_> = log.recent().into_iter().map(|e| e.request_id).collect();
        assert_eq!(ids, ["r4", "r3", "r2"]);
    }
}
