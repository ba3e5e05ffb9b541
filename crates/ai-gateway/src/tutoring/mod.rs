//! Tutoring use cases: activities, sessions, traces and risks, with the access rules of
//! SPEC §4 (students see their own data; instructors the sessions on activities they own;
//! admins everything; what a caller may not see is answered "not found").

pub mod access;
mod activities;
mod error;
mod materials;
mod reports;
mod risks;
mod sessions;

pub use activities::{ActivityInput, ActivityPatch, ActivityService};
pub use error::TutoringError;
pub use materials::{MaterialChangeHook, MaterialService, MaterialUpload, PROCESSING_ATTEMPTS};
pub use reports::{BuildOutcome, ReportService, REPORT_ATTEMPTS};
pub use risks::RiskService;
pub use sessions::{SessionService, StartSession};
