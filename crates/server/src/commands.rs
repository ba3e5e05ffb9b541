//! The sub-commands other than `serve`.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use ainative_adapters_redis::{InMemoryLoginThrottle, InMemoryRevocationList};
use ainative_auth::RegisterInput;
use anyhow::{bail, Context};
use secrecy::{ExposeSecret, SecretString};

use crate::cli::MigrateAction;
use crate::database::Database;
use crate::settings::{docs, vars, Settings};
use crate::startup::auth_services;

/// `ainative migrate up|down|status`.
pub async fn migrate(settings: &Settings, action: MigrateAction) -> anyhow::Result<()> {
    let db = Database::connect(&settings.database, None)
        .await
        .context("connecting to the database")?;
    match action {
        MigrateAction::Up => {
            let applied = db.schema.migrate_up().await?;
            println!("applied: {applied:?}");
        }
        MigrateAction::Down { steps } => {
            let reverted = db.schema.migrate_down(steps).await?;
            println!("reverted: {reverted:?}");
        }
        MigrateAction::Status => {
            for m in db.schema.migration_status().await? {
                println!(
                    "{:>4}  {:<8}  {}",
                    m.version,
                    if m.applied { "applied" } else { "pending" },
                    m.description
                );
            }
        }
    }
    db.close().await;
    Ok(())
}

/// `ainative rotate-credentials-key`: re-seals every credential not under the active key.
pub async fn rotate_credentials_key(settings: &Settings, batch: u32) -> anyhow::Result<()> {
    let keyring = crate::startup::keyring(settings)?;
    let db = Database::connect(&settings.database, None)
        .await
        .context("connecting to the database")?;
    let report =
        ainative_ai_gateway::credentials::rotate(db.credentials.as_ref(), &keyring, batch).await;
    db.close().await;
    let report = report?;
    println!(
        "re-encrypted {} credential(s) under key {}; {} changed meanwhile by their owner; {} could not be opened",
        report.resealed,
        keyring.active_key_id(),
        report.raced,
        report.failed
    );
    if report.failed > 0 {
        bail!(
            "{} credential(s) are sealed with a key that is not configured or are corrupt; \
             add the missing key to CREDENTIALS_PREVIOUS_KEYS and run again",
            report.failed
        );
    }
    Ok(())
}

/// `ainative check-config`: every variable's effective value (secrets masked) and where it
/// came from, then the warnings as `#` comment lines.
pub fn check_config(settings: &Settings) -> String {
    let mut out = settings.describe();
    for warning in &settings.warnings {
        out.push_str(&format!("# warning: {warning}\n"));
    }
    out
}

/// `ainative config-docs [--check]` at the repository root `root`.
pub fn config_docs(root: &Path, check: bool) -> anyhow::Result<()> {
    let files = docs::render(root, vars::TABLE).map_err(anyhow::Error::msg)?;
    let mut stale = Vec::new();
    for (path, content) in files {
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current == content {
            continue;
        }
        if check {
            stale.push(path.display().to_string());
        } else {
            std::fs::write(&path, content)
                .with_context(|| format!("writing {}", path.display()))?;
            println!("wrote {}", path.display());
        }
    }
    if !stale.is_empty() {
        bail!(
            "out of date with the settings table: {}; run `cargo run -q -- config-docs`",
            stale.join(", ")
        );
    }
    Ok(())
}

/// The admin password: `ADMIN_PASSWORD` or the first line of standard input.
fn admin_password(settings: &Settings) -> anyhow::Result<SecretString> {
    if let Some(password) = &settings.admin_password {
        return Ok(password.clone());
    }
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("reading the password from standard input")?;
    let password = input.lines().next().unwrap_or_default().to_owned();
    if password.is_empty() {
        bail!("no password given: set ADMIN_PASSWORD or pipe the password on standard input");
    }
    Ok(SecretString::from(password))
}

/// `ainative create-admin`: the password comes from `ADMIN_PASSWORD` or standard input.
pub async fn create_admin(
    settings: &Settings,
    email: String,
    username: String,
    full_name: Option<String>,
) -> anyhow::Result<()> {
    let password = admin_password(settings)?;
    let user = create_admin_with(settings, email, username, full_name, password).await?;
    println!("created admin {} ({})", user.username, user.id);
    Ok(())
}

/// Creates an administrator with the given password (also used by tests).
pub async fn create_admin_with(
    settings: &Settings,
    email: String,
    username: String,
    full_name: Option<String>,
    password: SecretString,
) -> anyhow::Result<ainative_domain::User> {
    let db = Database::connect(&settings.database, None)
        .await
        .context("connecting to the database")?;
    if settings.auto_migrate {
        db.schema.migrate_up().await?;
    }
    let (auth, _, _) = auth_services(
        settings,
        &db,
        Arc::new(InMemoryRevocationList::new()),
        Arc::new(InMemoryLoginThrottle::new()),
    );
    let result = auth
        .create_admin(RegisterInput {
            full_name: full_name.unwrap_or_else(|| username.clone()),
            email,
            username,
            password: password.expose_secret().to_owned(),
            student_id: None,
        })
        .await;
    db.close().await;
    match result {
        Ok(user) => Ok(user),
        Err(ainative_auth::AuthError::Validation(errors)) => bail!("{errors}"),
        Err(other) => bail!("could not create the admin: {other}"),
    }
}
