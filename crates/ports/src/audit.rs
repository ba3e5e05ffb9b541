//! Reading the audit log. Rows are written by the repository that makes the change,
//! in the same transaction.

use ainative_domain::{AuditEntry, Page, Paginated};
use async_trait::async_trait;

use crate::PortResult;

/// Read access to the audit log.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// A page of audit rows, newest first.
    async fn list(&self, page: Page) -> PortResult<Paginated<AuditEntry>>;
}
