//! The course-material pipeline of ainative (SPEC §10.5). Placeholder while stages land.

pub mod config;
pub mod error;
pub mod ingest;
pub mod progress;
pub mod text;
