use std::path::Path;
use std::process::ExitCode;

use ainative_server::cli::{Cli, Command};
use ainative_server::{commands, startup, telemetry, workers, Application, Settings};
use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::ConfigDocs { check } = command {
        // Needs no configuration: it documents it.
        return exit_code(commands::config_docs(Path::new("."), check));
    }
    let settings = match Settings::load(Path::new("data")) {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("configuration error: {err}");
            return ExitCode::from(2);
        }
    };
    if !matches!(command, Command::Serve | Command::CheckConfig) {
        for warning in &settings.warnings {
            eprintln!("warning: {warning}");
        }
    }
    let result = match command {
        Command::CheckConfig => {
            print!("{}", commands::check_config(&settings));
            Ok(())
        }
        Command::Migrate { action } => commands::migrate(&settings, action).await,
        Command::CreateAdmin {
            email,
            username,
            full_name,
        } => commands::create_admin(&settings, email, username, full_name).await,
        Command::Serve => serve(settings).await,
        Command::Worker => worker(settings).await,
        Command::ConfigDocs { .. } => Ok(()),
    };
    exit_code(result)
}

fn exit_code(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let telemetry = telemetry::init(&settings);
    let result = run(settings).await;
    telemetry.shutdown().await;
    result
}

async fn worker(settings: Settings) -> anyhow::Result<()> {
    let telemetry = telemetry::init(&settings);
    let result = workers::run_worker(&settings, startup::shutdown_signal()).await;
    telemetry.shutdown().await;
    result
}

async fn run(settings: Settings) -> anyhow::Result<()> {
    for warning in &settings.warnings {
        tracing::warn!(
            variable = %warning.var,
            suggestion = warning.suggestion.as_deref().unwrap_or("-"),
            "configuration: {}",
            warning.message
        );
    }
    if let ainative_server::settings::SecretSource::DevelopmentFile(path) = &settings.jwt.source {
        tracing::warn!(
            path = %path.display(),
            "JWT_SECRET_KEY is not set: signing tokens with a generated development secret; never run production like this"
        );
    }
    let host = settings.host.clone();
    let app = Application::build(settings).await?;
    tracing::info!("listening on http://{host}:{}", app.port());
    app.run_until(startup::shutdown_signal()).await?;
    Ok(())
}
