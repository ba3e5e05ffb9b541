//! Command-line interface.

use clap::{Parser, Subcommand};

/// The ainative tutoring backend.
#[derive(Debug, Parser)]
#[command(name = "ainative", version, about)]
pub struct Cli {
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Sub-commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API (and WORKERS job workers).
    Serve,
    /// Run job workers only (WORKERS of them, at least one), no HTTP; any number of these
    /// processes may share the database. Stops gracefully on SIGTERM/SIGINT.
    Worker,
    /// Manage the database schema.
    Migrate {
        /// up, down or status.
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Create an administrator. The password is read from ADMIN_PASSWORD or standard input.
    CreateAdmin {
        /// E-mail address.
        #[arg(long)]
        email: String,
        /// Username.
        #[arg(long)]
        username: String,
        /// Display name (defaults to the username).
        #[arg(long)]
        full_name: Option<String>,
    },
    /// Print the effective configuration with secrets masked; exit 2 when invalid.
    CheckConfig,
    /// Regenerate .env.example and the tables of docs/configuration.md from the settings
    /// table (run at the repository root); with --check, only report stale files (exit 1).
    #[command(hide = true)]
    ConfigDocs {
        /// Compare instead of writing.
        #[arg(long)]
        check: bool,
    },
}

/// Migration actions.
#[derive(Debug, Subcommand)]
pub enum MigrateAction {
    /// Apply pending migrations.
    Up,
    /// Revert the most recent migrations.
    Down {
        /// How many to revert.
        #[arg(long, default_value_t = 1)]
        steps: u32,
    },
    /// List migrations and whether they are applied.
    Status,
}
