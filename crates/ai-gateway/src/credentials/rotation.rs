//! `ainative rotate-credentials-key`: re-encrypts every credential still sealed under a
//! previous key with the active one.
//!
//! Batches walk the rows by id; each row is replaced only if its ciphertext is still the
//! one read (an owner who changed the key meanwhile wins), so the command runs beside live
//! instances (which read old and new keys alike) and can be interrupted and run again: rows
//! already under the active key are not selected any more.

use ainative_ports::{LlmCredentialRepository, PortError};

use super::cipher::Keyring;

/// What a rotation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RotationReport {
    /// Rows re-encrypted under the active key.
    pub resealed: u64,
    /// Rows changed by someone else between read and write (already re-sealed by them).
    pub raced: u64,
    /// Rows that did not open (unknown key or corrupt); left as they are.
    pub failed: u64,
}

/// Re-encrypts every row not under the active key, `batch` rows at a time.
pub async fn rotate(
    repo: &dyn LlmCredentialRepository,
    keyring: &Keyring,
    batch: u32,
) -> Result<RotationReport, PortError> {
    let mut report = RotationReport::default();
    let mut after = None;
    loop {
        let rows = repo
            .sealed_not_under(keyring.active_key_id(), after, batch.max(1))
            .await?;
        let Some(last) = rows.last() else {
            return Ok(report);
        };
        after = Some(last.0);
        for (id, owner_id, sealed) in rows {
            let opened = match keyring.open(&sealed, id, owner_id) {
                Ok(opened) => opened,
                Err(e) => {
                    tracing::error!(credential = %id, error = %e, "credential not re-encrypted");
                    report.failed += 1;
                    continue;
                }
            };
            let resealed = keyring
                .seal(&opened, id, owner_id)
                .map_err(|e| PortError::other_from("sealing failed", e))?;
            drop(opened);
            if repo.reseal(id, &sealed, &resealed).await? {
                report.resealed += 1;
            } else {
                report.raced += 1;
            }
        }
        tracing::info!(
            resealed = report.resealed,
            failed = report.failed,
            "credential key rotation batch done"
        );
    }
}
