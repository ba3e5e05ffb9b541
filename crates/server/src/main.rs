use std::path::Path;
use std::process::ExitCode;

use ainative_server::cli::{Cli, Command};
use ainative_server::{commands, startup, telemetry, Application, Settings};
use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(Path::new("data")) {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("configuration error: {err}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::CheckConfig => {
            print!("{}", settings.describe());
            Ok(())
        }
        Command::Migrate { action } => commands::migrate(&settings, action).await,
        Command::CreateAdmin {
            email,
            username,
            full_name,
        } => commands::create_admin(&settings, email, username, full_name).await,
        Command::Serve => serve(settings).await,
    };
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

async fn run(settings: Settings) -> anyhow::Result<()> {
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
