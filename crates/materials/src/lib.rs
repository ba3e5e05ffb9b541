//! The course-material pipeline of ainative (SPEC §10.5). Placeholder while stages land.

pub mod config;
pub mod embedding;
pub mod error;
pub mod graph;
pub mod ingest;
mod analysis;
mod lexicon;
pub mod progress;
pub mod quality;
pub mod retrieval;
pub mod taxonomy;
pub mod text;

#[cfg(test)]
mod fixtures {
    /// English course notes with headings, lists, a table and code blocks.
    pub(crate) const MARKDOWN: &str = include_str!("../tests/fixtures/recursion.md");
    /// The same topic in Spanish.
    pub(crate) const MARKDOWN_ES: &str = include_str!("../tests/fixtures/recursion_es.md");
}
