//! Splitting a document into chunks.
//!
//! The rule (token = whitespace word):
//! 1. Each block becomes *units*: sentences for headings and prose (Unicode sentence
//!    boundaries), non-blank lines for code. A unit longer than `target − overlap` tokens is
//!    cut into pieces of that many words.
//! 2. Units are packed greedily into a chunk of at most `target` tokens.
//! 3. A heading ends the current chunk when that chunk has at least `min_chunk_tokens`;
//!    a shorter section is merged into the next chunk instead of becoming a tiny one.
//! 4. When the next unit does not fit, the chunk is cut at its last paragraph (block)
//!    boundary if that keeps at least half a target in it, else after the last unit.
//! 5. A chunk that continues the section of the previous one starts with the previous
//!    chunk's last whole sentences of at most `overlap` tokens in all (or its last `overlap`
//!    words when its last sentence alone is longer). Chunks never overlap across a heading.
//!
//! So every chunk has at most `target` tokens, the words after each chunk's overlap, in order,
//! are exactly the document's words, and ordinals are 0, 1, 2, … in reading order.

use ainative_domain::{chunk_id, Chunk};
use unicode_segmentation::UnicodeSegmentation;
use uuid::Uuid;

use super::{BlockKind, Document, Section};
use crate::config::ChunkingConfig;
use crate::error::RejectedMaterial;
use crate::text::{collapse_whitespace, count_tokens};

/// How a unit attaches to the one before it in a chunk's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Joiner {
    Space,
    Line,
    Paragraph,
}

#[derive(Debug, Clone)]
struct Unit {
    text: String,
    tokens: u32,
    joiner: Joiner,
}

/// Splits `document` into chunks by the rule of this module. `progress(done, total)` is
/// called after each section.
pub fn chunk_document(
    document: &Document,
    material_id: Uuid,
    config: &ChunkingConfig,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<Chunk>, RejectedMaterial> {
    let mut packer = Packer::new(material_id, config);
    let total = document.sections.len();
    for (done, section) in document.sections.iter().enumerate() {
        let max_unit = config.target_tokens() - config.overlap_tokens();
        for (i, unit) in units(section, max_unit).into_iter().enumerate() {
            packer.push(unit, i == 0, section.title.as_deref());
        }
        progress(done + 1, total);
    }
    let chunks = packer.finish();
    if chunks.len() > config.max_chunks() {
        return Err(RejectedMaterial::TooLong {
            chunks: chunks.len(),
            max: config.max_chunks(),
        });
    }
    Ok(chunks)
}

fn units(section: &Section, max_unit: u32) -> Vec<Unit> {
    let mut out = Vec::new();
    for block in &section.blocks {
        let pieces: Vec<String> = match block.kind {
            BlockKind::Heading | BlockKind::Prose => sentences(&collapse_whitespace(&block.text)),
            BlockKind::Code => block
                .text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| l.trim_end().to_owned())
                .collect(),
        };
        let inner = match block.kind {
            BlockKind::Code => Joiner::Line,
            _ => Joiner::Space,
        };
        for (i, piece) in pieces.into_iter().enumerate() {
            let joiner = if i == 0 { Joiner::Paragraph } else { inner };
            split_long(piece, joiner, max_unit, &mut out);
        }
    }
    out
}

/// The sentences of `text`, cut only where a Unicode sentence boundary falls on whitespace
/// (so `e.g.Foo` or `3.14` never split a word).
fn sentences(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut open = false;
    for piece in text.split_sentence_bounds() {
        match out.last_mut() {
            Some(last) if open => last.push_str(piece),
            _ => out.push(piece.to_owned()),
        }
        open = !piece.ends_with(char::is_whitespace);
    }
    out.into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Pushes `text` as one unit, or as pieces of `max` words when it is longer.
fn split_long(text: String, joiner: Joiner, max: u32, out: &mut Vec<Unit>) {
    let tokens = count_tokens(&text);
    if tokens <= max {
        out.push(Unit {
            text,
            tokens,
            joiner,
        });
        return;
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    for (i, piece) in words.chunks(max as usize).enumerate() {
        out.push(Unit {
            text: piece.join(" "),
            tokens: u32::try_from(piece.len()).unwrap_or(u32::MAX),
            joiner: if i == 0 { joiner } else { Joiner::Space },
        });
    }
}

struct Packer {
    material_id: Uuid,
    target: u32,
    overlap: u32,
    min_chunk: u32,
    chunks: Vec<Chunk>,
    units: Vec<Unit>,
    tokens: u32,
    /// Leading units (and their tokens) repeated from the previous chunk.
    overlap_units: usize,
    overlap_tokens: u32,
    section: Option<String>,
}

impl Packer {
    fn new(material_id: Uuid, config: &ChunkingConfig) -> Self {
        Self {
            material_id,
            target: config.target_tokens(),
            overlap: config.overlap_tokens(),
            min_chunk: config.min_chunk_tokens(),
            chunks: Vec::new(),
            units: Vec::new(),
            tokens: 0,
            overlap_units: 0,
            overlap_tokens: 0,
            section: None,
        }
    }

    fn push(&mut self, unit: Unit, starts_section: bool, title: Option<&str>) {
        if !self.units.is_empty() {
            let full = self.tokens + unit.tokens > self.target;
            if starts_section && (full || self.tokens >= self.min_chunk) {
                let units = std::mem::take(&mut self.units);
                self.emit(units);
                self.reset(Vec::new());
            } else if full {
                self.cut_before(&unit);
            }
        }
        if self.units.is_empty() {
            self.section = title.map(str::to_owned);
        }
        self.tokens += unit.tokens;
        self.units.push(unit);
    }

    /// Ends the current chunk so that `next` fits in the following one.
    fn cut_before(&mut self, next: &Unit) {
        let mut units = std::mem::take(&mut self.units);
        let mut moved = Vec::new();
        if let Some(at) = self.paragraph_cut(&units) {
            let candidate = units[at..].to_vec();
            let moved_tokens: u32 = candidate.iter().map(|u| u.tokens).sum();
            let carried = overlap_of(&units[..at], self.overlap);
            let carried_tokens: u32 = carried.iter().map(|u| u.tokens).sum();
            if carried_tokens + moved_tokens + next.tokens <= self.target {
                units.truncate(at);
                moved = candidate;
            }
        }
        let carried = overlap_of(&units, self.overlap);
        self.emit(units);
        let section = self.section.clone();
        self.reset(carried);
        self.section = section;
        for unit in moved {
            self.tokens += unit.tokens;
            self.units.push(unit);
        }
    }

    /// The last paragraph boundary after the overlap that keeps half a target before it.
    fn paragraph_cut(&self, units: &[Unit]) -> Option<usize> {
        let mut before = 0u32;
        let mut best = None;
        for (i, unit) in units.iter().enumerate() {
            if i > self.overlap_units
                && unit.joiner == Joiner::Paragraph
                && before >= self.target / 2
            {
                best = Some(i);
            }
            before += unit.tokens;
        }
        best
    }

    fn reset(&mut self, carried: Vec<Unit>) {
        self.overlap_units = carried.len();
        self.overlap_tokens = carried.iter().map(|u| u.tokens).sum();
        self.tokens = self.overlap_tokens;
        self.units = carried;
        self.section = None;
    }

    fn emit(&mut self, units: Vec<Unit>) {
        let mut text = String::new();
        for (i, unit) in units.iter().enumerate() {
            if i > 0 {
                text.push_str(match unit.joiner {
                    Joiner::Space => " ",
                    Joiner::Line => "\n",
                    Joiner::Paragraph => "\n\n",
                });
            }
            text.push_str(&unit.text);
        }
        let ordinal = u32::try_from(self.chunks.len()).unwrap_or(u32::MAX);
        self.chunks.push(Chunk {
            id: chunk_id(self.material_id, ordinal),
            ordinal,
            section: self.section.clone(),
            tokens: units.iter().map(|u| u.tokens).sum(),
            overlap_tokens: self.overlap_tokens,
            text,
        });
    }

    fn finish(mut self) -> Vec<Chunk> {
        if self.units.len() > self.overlap_units {
            let units = std::mem::take(&mut self.units);
            self.emit(units);
        }
        self.chunks
    }
}

/// The trailing units of `units` to repeat: whole units of at most `budget` tokens in all,
/// or the last `budget` words when the last unit alone is longer.
fn overlap_of(units: &[Unit], budget: u32) -> Vec<Unit> {
    if budget == 0 {
        return Vec::new();
    }
    let mut taken = 0u32;
    let mut start = units.len();
    while start > 0 && taken + units[start - 1].tokens <= budget {
        start -= 1;
        taken += units[start].tokens;
    }
    if start < units.len() {
        return units[start..].to_vec();
    }
    let Some(last) = units.last() else {
        return Vec::new();
    };
    let words: Vec<&str> = last.text.split_whitespace().collect();
    let tail = &words[words.len().saturating_sub(budget as usize)..];
    vec![Unit {
        text: tail.join(" "),
        tokens: u32::try_from(tail.len()).unwrap_or(u32::MAX),
        joiner: Joiner::Paragraph,
    }]
}

#[cfg(test)]
mod tests;
