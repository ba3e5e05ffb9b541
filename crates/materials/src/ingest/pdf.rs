//! PDF text extraction with `pdf-extract` (pure Rust, on `lopdf`).
//!
//! `pdf-extract` panics on some malformed or unsupported input by design (its author prefers
//! reports to silent errors), so every call runs under `catch_unwind`: a bad PDF becomes a
//! [`RejectedMaterial`], never a crashed worker. Pages are extracted one by one so one bad page
//! costs that page (with a warning), not the material.

use std::panic::{catch_unwind, AssertUnwindSafe};

use pdf_extract::{Document as PdfDocument, OutputError, PlainTextOutput};

use super::{paragraphs, Document, Section};
use crate::error::RejectedMaterial;
use crate::text::{normalise, Form};

pub(super) fn parse(bytes: &[u8]) -> Result<Document, RejectedMaterial> {
    let mut pdf = guarded(|| PdfDocument::load_mem(bytes).map_err(OutputError::PdfError))?;
    if pdf.is_encrypted() && guarded(|| pdf.decrypt("").map_err(OutputError::PdfError)).is_err() {
        return Err(RejectedMaterial::EncryptedPdf);
    }
    let pages: Vec<u32> = guarded(|| Ok(pdf.get_pages().into_keys().collect()))?;
    if pages.is_empty() {
        return Err(RejectedMaterial::UnreadablePdf(
            "it has no pages".to_owned(),
        ));
    }
    let mut document = Document::default();
    let mut failed = Vec::new();
    for page in pages {
        match guarded(|| page_text(&pdf, page)) {
            Ok(text) => {
                let blocks = paragraphs(&normalise(&text, Form::Compatibility));
                if !blocks.is_empty() {
                    document.sections.push(Section {
                        title: Some(format!("page {page}")),
                        blocks,
                    });
                }
            }
            Err(reason) => {
                tracing::warn!(page, %reason, "a PDF page could not be read");
                failed.push(page);
            }
        }
    }
    if document.sections.is_empty() && !failed.is_empty() {
        return Err(RejectedMaterial::UnreadablePdf(
            "no page could be read".to_owned(),
        ));
    }
    if !failed.is_empty() {
        let list: Vec<String> = failed.iter().map(u32::to_string).collect();
        document.warnings.push(format!(
            "{} page(s) of the PDF could not be read and were skipped: {}",
            failed.len(),
            list.join(", ")
        ));
    }
    Ok(document)
}

fn page_text(pdf: &PdfDocument, page: u32) -> Result<String, OutputError> {
    let mut text = String::new();
    let mut output = PlainTextOutput::new(&mut text);
    pdf_extract::output_doc_page(pdf, &mut output, page)?;
    Ok(text)
}

/// Runs `extract`, turning both its error and its panic into an instructor-readable reason.
fn guarded<T>(extract: impl FnOnce() -> Result<T, OutputError>) -> Result<T, RejectedMaterial> {
    match catch_unwind(AssertUnwindSafe(extract)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(RejectedMaterial::UnreadablePdf(describe(&error))),
        Err(panic) => {
            let detail = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::warn!(%detail, "the PDF extractor panicked");
            Err(RejectedMaterial::UnreadablePdf(
                "its structure is damaged or uses features that are not supported".to_owned(),
            ))
        }
    }
}

fn describe(error: &OutputError) -> String {
    match error {
        OutputError::PdfError(e) => format!("it is not a valid PDF ({e})"),
        OutputError::IoError(e) => format!("it could not be read ({e})"),
        OutputError::FormatError(_) => "its text could not be decoded".to_owned(),
    }
}
