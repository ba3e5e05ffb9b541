//! The `ainative` server: configuration, telemetry, the composition root, CLI sub-commands
//! and graceful shutdown. [`Application::build`] is shared by `main` and the end-to-end tests.

pub mod cli;
pub mod commands;
pub mod database;
mod dev_secret;
pub mod keys;
pub mod mail;
pub mod materials;
pub mod oauth;
pub mod observability;
pub mod reports;
pub mod settings;
pub mod startup;
pub mod sweep;
pub mod telemetry;
pub mod workers;

pub use settings::{Settings, SettingsError};
pub use startup::{Application, StartupError};
