//! `.env.example` and the variable tables of docs/configuration.md, generated from the
//! settings table (`ainative config-docs` writes them; a test fails when they are stale).

use std::path::{Path, PathBuf};

use super::table::{Fallback, Kind, Section, Spec};
use super::values::expected;

/// Where the generated part of docs/configuration.md starts.
pub const BEGIN: &str =
    "<!-- BEGIN GENERATED: settings table (edit crates/server/src/settings/vars.rs, then run `cargo run -q -- config-docs`) -->";
/// Where it ends.
pub const END: &str = "<!-- END GENERATED: settings table -->";

const WIDTH: usize = 96;

const HEADER: &str = "ainative configuration, generated from crates/server/src/settings/vars.rs \
by `ainative config-docs` (edit the table, not this file). Copy to .env for local development: \
.env is read outside production only, and real environment variables win over it. Every value \
below is the built-in default, so an empty .env behaves the same. Invalid values stop start-up, \
all of them reported at once. See docs/configuration.md; `ainative check-config` prints the \
effective values.";

/// The files this module generates, relative to the repository root.
pub const FILES: [&str; 2] = [".env.example", "docs/configuration.md"];

/// The desired content of each generated file under `root`; the docs keep their prose, only
/// the part between [`BEGIN`] and [`END`] is replaced.
pub fn render(root: &Path, table: &[Spec]) -> Result<Vec<(PathBuf, String)>, String> {
    let docs_path = root.join(FILES[1]);
    let docs =
        std::fs::read_to_string(&docs_path).map_err(|e| format!("{}: {e}", docs_path.display()))?;
    Ok(vec![
        (root.join(FILES[0]), env_example(table)),
        (
            docs_path.clone(),
            splice(&docs, &markdown(table)).ok_or_else(|| {
                format!("{}: markers {BEGIN} / {END} not found", docs_path.display())
            })?,
        ),
    ])
}

/// `.env.example`.
pub fn env_example(table: &[Spec]) -> String {
    let mut out = String::new();
    comment(&mut out, HEADER);
    for (section, specs) in sections(table) {
        out.push('\n');
        let title = format!("# --- {} ", section.title);
        out.push_str(&format!("{title:-<WIDTH$}\n"));
        if !section.note.is_empty() {
            comment(&mut out, section.note);
        }
        for spec in specs {
            let mut text = spec.doc_text();
            if !matches!(spec.kind, Kind::Text) {
                text.push_str(&format!(" Accepted: {}.", expected(&spec.kind)));
            }
            if let Fallback::PerEnv { production, other } = spec.fallback {
                text.push_str(&format!(" Default: {other}; {production} in production."));
            }
            comment(&mut out, &text);
            let name = spec.display_name();
            match spec.fallback {
                Fallback::Value(value) => out.push_str(&format!("{name}={value}\n")),
                Fallback::PerEnv { other, .. } => out.push_str(&format!("# {name}={other}\n")),
                Fallback::Unset | Fallback::Special(_) => {
                    out.push_str(&format!("# {name}={}\n", spec.example.unwrap_or_default()));
                }
            }
        }
    }
    out
}

/// The tables of docs/configuration.md, one per section.
pub fn markdown(table: &[Spec]) -> String {
    let mut out = String::new();
    for (section, specs) in sections(table) {
        out.push_str(&format!("\n**{}**\n\n", section.title));
        out.push_str("| variable | default | accepted values | secret | meaning |\n");
        out.push_str("|---|---|---|---|---|\n");
        for spec in specs {
            let default = match spec.fallback {
                Fallback::Value("") => "empty".to_owned(),
                Fallback::Value(value) => format!("`{value}`"),
                Fallback::Unset => "unset".to_owned(),
                Fallback::PerEnv { production, other } => {
                    format!("`{other}`; `{production}` in production")
                }
                Fallback::Special(what) => format!("unset: {what}"),
            };
            out.push_str(&format!(
                "| `{}` | {} | {} | {} | {} |\n",
                spec.display_name(),
                cell(&default),
                cell(&expected(&spec.kind)),
                if spec.secret { "yes" } else { "" },
                cell(&spec.doc_text()),
            ));
        }
    }
    out.push('\n');
    out
}

/// Replaces what lies between the markers; `None` when they are missing.
pub fn splice(doc: &str, generated: &str) -> Option<String> {
    let start = doc.find(BEGIN)? + BEGIN.len();
    let end = doc[start..].find(END)? + start;
    Some(format!("{}\n{}{}", &doc[..start], generated, &doc[end..]))
}

/// Rows grouped by section, sections in order of first appearance.
fn sections(table: &[Spec]) -> Vec<(&'static Section, Vec<&Spec>)> {
    let mut groups: Vec<(&'static Section, Vec<&Spec>)> = Vec::new();
    for spec in table {
        match groups.iter_mut().find(|(s, _)| *s == spec.section) {
            Some((_, specs)) => specs.push(spec),
            None => groups.push((spec.section, vec![spec])),
        }
    }
    groups
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// `# `-prefixed lines wrapped at [`WIDTH`].
fn comment(out: &mut String, text: &str) {
    let mut line = String::from("#");
    for word in text.split_whitespace() {
        if line.len() + 1 + word.len() > WIDTH && line.len() > 1 {
            out.push_str(&line);
            out.push('\n');
            line = String::from("#");
        }
        line.push(' ');
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
}
