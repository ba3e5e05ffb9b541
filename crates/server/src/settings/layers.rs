//! Layering with the `config` crate: the optional `config/<APP_ENV>.toml` under the
//! environment. The result is the raw text of each variable with its origin.

use std::collections::HashMap;
use std::path::Path;

use super::error::SettingsError;
use super::table::{Name, Spec};
use super::typos::{self, ConfigWarning};
use super::values::{Origin, Raw};

/// Layers `env` over `<config_dir>/<APP_ENV>.toml`. Only variables of the table (and members
/// of its families) are taken from the environment; unknown keys of the file are warned about,
/// values of the wrong shape are added to `problems`. `Err` only when a source is unreadable.
pub fn layer(
    env: &HashMap<String, String>,
    config_dir: &Path,
    table: &[Spec],
    warnings: &mut Vec<ConfigWarning>,
    problems: &mut Vec<SettingsError>,
) -> Result<Raw, SettingsError> {
    let app_env = env
        .get("APP_ENV")
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .unwrap_or("development");
    // Only a known environment names a file (APP_ENV=../x must not choose the path).
    let file =
        super::AppEnv::from_name(app_env).map(|_| config_dir.join(format!("{app_env}.toml")));
    let mut builder = config::Config::builder();
    if let Some(file) = &file {
        builder = builder.add_source(config::File::from(file.as_path()).required(false));
    }
    let mut from_env = Vec::new();
    for (var, value) in env {
        let known = table.iter().any(|spec| match spec.name {
            Name::Single(name) => name == var,
            Name::Family { .. } => spec.family_member(var).is_some(),
        });
        if known {
            builder = builder
                .set_override(var.to_ascii_lowercase(), value.clone())
                .map_err(|e| SettingsError::Source(e.to_string()))?;
            from_env.push(var.clone());
        }
    }
    let layered = builder
        .build()
        .map_err(|e| SettingsError::Source(e.to_string()))?;
    let table_map = layered
        .try_deserialize::<HashMap<String, config::Value>>()
        .map_err(|e| SettingsError::Source(e.to_string()))?;
    let file_name = file
        .as_ref()
        .map(|f| f.display().to_string())
        .unwrap_or_default();
    let mut raw = Raw::default();
    let mut unknown = Vec::new();
    for (key, value) in table_map {
        let var = key.to_ascii_uppercase();
        let origin = if from_env.contains(&var) {
            Origin::Environment
        } else {
            Origin::File(file_name.clone())
        };
        if !typos::is_declared(&var, table) {
            unknown.push(var);
            continue;
        }
        match scalar_text(value) {
            Some(text) => raw.insert(var, text, origin),
            None => problems.push(SettingsError::Invalid {
                var,
                expected: "a scalar value or a list of scalars".into(),
                got: None,
            }),
        }
    }
    unknown.sort();
    warnings.extend(typos::unknown_file_keys(
        unknown.iter().map(String::as_str),
        table,
        &file_name,
    ));
    Ok(raw)
}

/// The text of a TOML value: scalars as they are, arrays joined with commas (lists).
fn scalar_text(value: config::Value) -> Option<String> {
    match value.kind {
        config::ValueKind::Array(items) => items
            .into_iter()
            .map(|item| item.into_string().ok())
            .collect::<Option<Vec<_>>>()
            .map(|items| items.join(",")),
        config::ValueKind::Table(_) => None,
        _ => value.into_string().ok(),
    }
}
