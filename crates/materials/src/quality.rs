//! Stage 2, quality: drop empty, duplicated and unreadable chunks, detect languages, score.
//!
//! Per chunk, over its non-whitespace characters:
//! - `readability = 1 − suspicious / non_whitespace`, where suspicious characters are U+FFFD,
//!   control and private-use characters, and mojibake pairs (`Ã©`, `â€™`: UTF-8 read as
//!   Latin-1/CP-1252);
//! - `alnum = letters and digits / non_whitespace`.
//!
//! A chunk is dropped as *empty* with no letter or digit, as *unreadable* when
//! `readability < 0.8` or `alnum < 0.3`, as a *duplicate* when its words, lowercased, equal
//! those of an earlier kept chunk (SHA-256 of the normalised words).
//!
//! `score = readability × (0.4 + 0.3 × min(1, tokens / 50) + 0.3 × min(1, ttr / 0.3))`, where
//! `ttr` is distinct words / words: short fragments and repetitive text score lower. The
//! material's score is the token-weighted mean of its kept chunks' scores times
//! `0.5 + 0.5 × kept / all chunks`. Languages come from `whatlang` (reliable detections only);
//! the main language is the one with the most tokens.

use std::collections::{BTreeMap, HashMap, HashSet};

use ainative_domain::{Chunk, ChunkQuality, DropReason, LanguageShare, QualityReport, Stage};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use whatlang::Detector;

use crate::error::{MaterialError, RejectedMaterial};
use crate::lexicon::{pieces, Piece};
use crate::progress::{ProgressSink, StageProgress};

const MIN_READABILITY: f32 = 0.8;
const MIN_ALNUM: f32 = 0.3;
/// Language detection reads at most this many bytes of a chunk.
const DETECTION_SAMPLE: usize = 4096;

/// Runs the quality stage over the chunks of one material.
pub(crate) fn assess(
    chunks: &[Chunk],
    detector: &Detector,
    progress: &dyn ProgressSink,
) -> Result<QualityReport, MaterialError> {
    let mut stage = StageProgress::new(progress, Stage::Quality);
    let mut seen: HashMap<[u8; 32], Uuid> = HashMap::new();
    let mut verdicts = Vec::with_capacity(chunks.len());
    for (i, chunk) in chunks.iter().enumerate() {
        verdicts.push(judge(chunk, detector, &mut seen));
        stage.fraction(i + 1, chunks.len());
    }
    let report = summarise(chunks, verdicts)?;
    stage.done();
    Ok(report)
}

fn judge(chunk: &Chunk, detector: &Detector, seen: &mut HashMap<[u8; 32], Uuid>) -> ChunkQuality {
    let measures = Measures::of(&chunk.text);
    let readability = measures.readability();
    let dropped = if measures.alnum == 0 {
        Some(DropReason::Empty)
    } else if readability < MIN_READABILITY || measures.alnum_ratio() < MIN_ALNUM {
        Some(DropReason::Unreadable)
    } else {
        match seen.entry(measures.fingerprint) {
            std::collections::hash_map::Entry::Occupied(first) => {
                Some(DropReason::Duplicate { of: *first.get() })
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(chunk.id);
                None
            }
        }
    };
    let language = match dropped {
        Some(_) => None,
        None => detector
            .detect(sample(&chunk.text))
            .filter(whatlang::Info::is_reliable)
            .map(|info| info.lang().code().to_owned()),
    };
    let length = (chunk.tokens as f32 / 50.0).min(1.0);
    let diversity = (measures.type_token_ratio() / 0.3).min(1.0);
    ChunkQuality {
        chunk_id: chunk.id,
        ordinal: chunk.ordinal,
        score: round3(readability * (0.4 + 0.3 * length + 0.3 * diversity)),
        language,
        dropped,
    }
}

fn summarise(
    chunks: &[Chunk],
    verdicts: Vec<ChunkQuality>,
) -> Result<QualityReport, MaterialError> {
    let (mut weighted, mut kept_tokens, mut kept) = (0f64, 0u64, 0u32);
    let mut by_language: BTreeMap<&str, u64> = BTreeMap::new();
    for (chunk, verdict) in chunks.iter().zip(&verdicts) {
        if verdict.dropped.is_some() {
            continue;
        }
        kept += 1;
        kept_tokens += u64::from(chunk.tokens);
        weighted += f64::from(verdict.score) * f64::from(chunk.tokens);
        if let Some(lang) = &verdict.language {
            *by_language.entry(lang).or_default() += u64::from(chunk.tokens);
        }
    }
    if kept == 0 {
        return Err(RejectedMaterial::NothingReadable.into());
    }
    let detected: u64 = by_language.values().sum();
    let mut languages: Vec<LanguageShare> = by_language
        .into_iter()
        .map(|(language, tokens)| LanguageShare {
            language: language.to_owned(),
            share: round3((tokens as f64 / detected as f64) as f32),
        })
        .collect();
    // Largest share first; the BTreeMap already ordered ties by code and the sort is stable.
    languages.sort_by(|a, b| b.share.total_cmp(&a.share));
    let total = u32::try_from(verdicts.len()).unwrap_or(u32::MAX);
    let mean = if kept_tokens == 0 {
        0.0
    } else {
        weighted / kept_tokens as f64
    };
    let score = round3((mean * (0.5 + 0.5 * f64::from(kept) / f64::from(total))) as f32);
    Ok(QualityReport {
        language: languages.first().map(|l| l.language.clone()),
        languages,
        score,
        kept,
        dropped: total - kept,
        chunks: verdicts,
    })
}

struct Measures {
    non_whitespace: usize,
    alnum: usize,
    suspicious: usize,
    words: usize,
    distinct: usize,
    fingerprint: [u8; 32],
}

impl Measures {
    fn of(text: &str) -> Self {
        let (mut non_whitespace, mut alnum, mut suspicious) = (0, 0, 0);
        let mut previous = ' ';
        for c in text.chars() {
            if c.is_whitespace() {
                previous = c;
                continue;
            }
            non_whitespace += 1;
            if c.is_alphanumeric() {
                alnum += 1;
            }
            if c == '\u{fffd}' || c.is_control() || is_private_use(c) {
                suspicious += 1;
            } else if is_mojibake_pair(previous, c) {
                suspicious += 2;
            }
            previous = c;
        }
        let mut hasher = Sha256::new();
        let mut distinct = HashSet::new();
        let mut words = 0;
        for piece in pieces(text) {
            if let Piece::Word(word) = piece {
                let lower = word.to_lowercase();
                hasher.update(lower.as_bytes());
                hasher.update(b" ");
                words += 1;
                distinct.insert(lower);
            }
        }
        Self {
            non_whitespace,
            alnum,
            suspicious,
            words,
            distinct: distinct.len(),
            fingerprint: hasher.finalize().into(),
        }
    }

    fn readability(&self) -> f32 {
        if self.non_whitespace == 0 {
            return 0.0;
        }
        1.0 - (self.suspicious as f32 / self.non_whitespace as f32).min(1.0)
    }

    fn alnum_ratio(&self) -> f32 {
        if self.non_whitespace == 0 {
            return 0.0;
        }
        self.alnum as f32 / self.non_whitespace as f32
    }

    fn type_token_ratio(&self) -> f32 {
        if self.words == 0 {
            return 0.0;
        }
        self.distinct as f32 / self.words as f32
    }
}

fn is_private_use(c: char) -> bool {
    matches!(c, '\u{e000}'..='\u{f8ff}' | '\u{f0000}'..='\u{10ffff}')
}

/// UTF-8 read as Latin-1 or CP-1252: a lead `Ã`/`Â` then a continuation-range character, or
/// `â€` (the start of `’`, `“`, `”`, `–`).
fn is_mojibake_pair(previous: char, c: char) -> bool {
    const CP1252: &str = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ";
    match previous {
        'Ã' | 'Â' => ('\u{80}'..='\u{bf}').contains(&c) || CP1252.contains(c),
        'â' => c == '€',
        _ => false,
    }
}

fn sample(text: &str) -> &str {
    if text.len() <= DETECTION_SAMPLE {
        return text;
    }
    let mut end = DETECTION_SAMPLE;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn round3(value: f32) -> f32 {
    (value * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests;
