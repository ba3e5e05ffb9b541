//! Enqueuing a job in the transaction of the row that needs it.
//!
//! Placeholder until the job queue lands (branch `jobs`): it then becomes a call to the
//! queue's same-transaction enqueue.

use ainative_ports::{PortResult, ProcessingJob};
use chrono::{DateTime, Utc};

use crate::dialect::{Conn, Dialect};

/// Enqueues `job` on `conn` (inside the caller's transaction).
pub(crate) async fn enqueue_in<D: Dialect>(
    _conn: &mut Conn<D>,
    _job: &ProcessingJob,
    _at: DateTime<Utc>,
) -> PortResult<()> {
    Ok(())
}
