//! Warnings about the configuration that do not stop start-up: a variable that looks like a
//! misspelt setting (`APP_PROT`), an unknown key in the TOML file, a short development secret.

use std::collections::BTreeSet;
use std::fmt;

use super::table::{Name, Spec};

/// Something worth telling the operator; start-up goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    /// The variable (or file key) concerned.
    pub var: String,
    /// What is wrong, e.g. `not a setting; did you mean APP_PORT?`.
    pub message: String,
    /// The setting probably meant, for typos.
    pub suggestion: Option<String>,
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.var, self.message)
    }
}

/// Variables of the environment that look like a misspelt setting. Only names whose first
/// word is (nearly) one of the table's (`APP_`, `DB_`, `JWT_`…) are considered, so other
/// programs' variables (`PATH`, `RUST_LOG`, `CARGO_*`, `TEST_DATABASE_URL`) are never named.
pub fn misspelt<'a>(names: impl Iterator<Item = &'a str>, table: &[Spec]) -> Vec<ConfigWarning> {
    let prefixes = prefixes(table);
    let mut warnings = Vec::new();
    for name in names {
        if is_declared(name, table) {
            continue;
        }
        let upper = name.to_ascii_uppercase();
        if upper != name && is_declared(&upper, table) {
            warnings.push(typo(name, &upper, "names are upper case"));
            continue;
        }
        let Some(first) = first_word(&upper) else {
            continue;
        };
        if !prefixes.iter().any(|p| distance(first, p) <= 1) {
            continue;
        }
        if let Some(intended) = closest(&upper, table) {
            warnings.push(typo(name, &intended, "not a setting of ainative"));
        }
    }
    warnings
}

/// Keys of `config/<APP_ENV>.toml` that are not settings (the file is ours: every unknown
/// key is a mistake), with a suggestion when one is close.
pub fn unknown_file_keys<'a>(
    keys: impl Iterator<Item = &'a str>,
    table: &[Spec],
    file: &str,
) -> Vec<ConfigWarning> {
    keys.filter(|key| !is_declared(key, table))
        .map(|key| {
            let suggestion = closest(key, table);
            let message = match &suggestion {
                Some(s) => format!(
                    "unknown key in {file}, ignored; did you mean {}?",
                    s.to_ascii_lowercase()
                ),
                None => format!("unknown key in {file}, ignored"),
            };
            ConfigWarning {
                var: key.to_ascii_lowercase(),
                message,
                suggestion,
            }
        })
        .collect()
}

fn typo(name: &str, intended: &str, why: &str) -> ConfigWarning {
    ConfigWarning {
        var: name.to_owned(),
        message: format!("{why}; did you mean {intended}? (ignored)"),
        suggestion: Some(intended.to_owned()),
    }
}

/// Is `name` a declared variable or a member of a declared family?
pub fn is_declared(name: &str, table: &[Spec]) -> bool {
    table.iter().any(|spec| match spec.name {
        Name::Single(single) => single == name,
        Name::Family { .. } => spec.family_member(name).is_some(),
    })
}

/// The first word of a variable name (`APP` of `APP_PORT`); `None` without an underscore.
fn first_word(name: &str) -> Option<&str> {
    name.split_once('_').map(|(first, _)| first)
}

/// The first words of the table's names.
fn prefixes(table: &[Spec]) -> BTreeSet<&'static str> {
    table
        .iter()
        .filter_map(|spec| match spec.name {
            Name::Single(name) => first_word(name),
            Name::Family { prefix, .. } => first_word(prefix),
        })
        .collect()
}

/// The declared name nearest to `name`, if it is near enough to be a typo.
fn closest(name: &str, table: &[Spec]) -> Option<String> {
    let limit = if name.len() >= 8 { 2 } else { 1 };
    let mut best: Option<(usize, String)> = None;
    let mut consider = |candidate: String| {
        let d = distance(name, &candidate);
        if d <= limit && best.as_ref().is_none_or(|(bd, _)| d < *bd) {
            best = Some((d, candidate));
        }
    };
    for spec in table {
        match spec.name {
            Name::Single(single) => consider(single.to_owned()),
            Name::Family { prefix, suffix } => {
                // OAUTH_OIDC_ACME_ISSEUR: try each split of what follows the prefix into
                // NAME and a misspelt suffix.
                let Some(rest) = name.strip_prefix(prefix) else {
                    continue;
                };
                for (i, _) in rest.match_indices('_').filter(|(i, _)| *i > 0) {
                    consider(format!("{prefix}{}{suffix}", &rest[..i]));
                }
            }
        }
    }
    if best.is_none() {
        // JWT_SECRET for JWT_SECRET_KEY: a name cut short at a word boundary, if unambiguous.
        let longer: Vec<&str> = table
            .iter()
            .filter_map(|spec| match spec.name {
                Name::Single(single) => Some(single),
                Name::Family { .. } => None,
            })
            .filter(|single| {
                single.len() > name.len()
                    && single.starts_with(name)
                    && single[name.len()..].starts_with('_')
            })
            .collect();
        if let [only] = longer[..] {
            return Some(only.to_owned());
        }
    }
    best.map(|(_, name)| name)
}

/// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
/// adjacent characters each cost 1 (`JWT`/`JTW` are 1 apart).
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = d;
        }
    }
    rows[a.len()][b.len()]
}
