//! Stage 1, ingestion: parse the upload into sections of blocks, normalise the text and
//! split it into overlapping chunks (see [`chunker`] for the rule).

mod chunker;
mod markdown;
mod pdf;

use ainative_domain::{Chunk, Ingestion, MaterialContentType, Stage};
use uuid::Uuid;

use crate::config::ChunkingConfig;
use crate::error::{MaterialError, RejectedMaterial};
use crate::progress::{ProgressSink, StageProgress};
use crate::text::{count_tokens, normalise, Form};

pub use chunker::chunk_document;

/// An uploaded material, as ingestion reads it.
#[derive(Debug, Clone, Copy)]
pub struct MaterialSource<'a> {
    /// The material (chunk ids derive from it).
    pub material_id: Uuid,
    /// How to parse `bytes`.
    pub content_type: MaterialContentType,
    /// The upload as received.
    pub bytes: &'a [u8],
}

/// A parsed material: sections in reading order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    /// The sections.
    pub sections: Vec<Section>,
    /// Non-fatal problems met while parsing.
    pub warnings: Vec<String>,
}

/// A run of blocks under one heading (or one PDF page).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section {
    /// The heading path (`Loops › For loops`) or `page N`.
    pub title: Option<String>,
    /// The blocks, in reading order.
    pub blocks: Vec<Block>,
}

/// One block of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// What kind of block.
    pub kind: BlockKind,
    /// Its text (line breaks matter only in code).
    pub text: String,
}

/// Kinds of block; they decide where a chunk may be cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    /// A heading (kept as the first block of its section).
    Heading,
    /// A paragraph, list item or table row: cut between sentences.
    Prose,
    /// A code block: cut between lines, line breaks kept.
    Code,
}

impl Document {
    /// Tokens of the whole document.
    pub fn tokens(&self) -> u64 {
        self.sections
            .iter()
            .flat_map(|s| &s.blocks)
            .map(|b| u64::from(count_tokens(&b.text)))
            .sum()
    }
}

/// Parses `source` into a [`Document`].
pub fn parse(source: &MaterialSource<'_>) -> Result<Document, RejectedMaterial> {
    let document = match source.content_type {
        MaterialContentType::Markdown => markdown::parse(&utf8(source.bytes)?),
        MaterialContentType::PlainText => plain(&utf8(source.bytes)?),
        MaterialContentType::Pdf => pdf::parse(source.bytes)?,
    };
    if document.tokens() == 0 {
        return Err(match source.content_type {
            MaterialContentType::Pdf => RejectedMaterial::PdfWithoutText,
            _ => RejectedMaterial::Empty,
        });
    }
    Ok(document)
}

/// Runs the ingestion stage: parse, normalise, chunk.
pub fn ingest(
    source: &MaterialSource<'_>,
    config: &ChunkingConfig,
    progress: &dyn ProgressSink,
) -> Result<Ingestion, MaterialError> {
    let mut stage = StageProgress::new(progress, Stage::Ingestion);
    let document = parse(source)?;
    stage.set(0.2);
    let chunks: Vec<Chunk> =
        chunk_document(&document, source.material_id, config, &mut |done, total| {
            stage.set(0.2 + 0.8 * done as f32 / total.max(1) as f32);
        })?;
    stage.done();
    Ok(Ingestion {
        total_tokens: document.tokens(),
        chunks,
        warnings: document.warnings,
    })
}

fn utf8(bytes: &[u8]) -> Result<String, RejectedMaterial> {
    let text = std::str::from_utf8(bytes).map_err(|e| RejectedMaterial::NotUtf8 {
        offset: e.valid_up_to(),
    })?;
    Ok(normalise(text, Form::Canonical))
}

/// Plain text (and PDF page text): paragraphs separated by blank lines.
pub(crate) fn paragraphs(text: &str) -> Vec<Block> {
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| Block {
            kind: BlockKind::Prose,
            text: p.to_owned(),
        })
        .collect()
}

fn plain(text: &str) -> Document {
    Document {
        sections: vec![Section {
            title: None,
            blocks: paragraphs(text),
        }],
        warnings: Vec::new(),
    }
}

#[cfg(test)]
mod tests;
